#!/bin/sh
# The seed 000 incident, replayed for real inside tests/sandbox: a Python
# service dies at start-up with a NameError, lookout sees it, an incident
# is opened, the fix lands, restart-service brings it back (start, enable,
# endpoint check), and the postmortem comes out of the timeline.
set -eu
L=$LOOKOUT
U=$XDG_CONFIG_HOME/systemd/user
D=$LOOKOUT_SANDBOX/demo
mkdir -p "$U" "$D"
chmod 700 "$D"	# the timeline's directory is private, as lookout requires
export LOOKOUT_DB="$D/timeline.db" LOOKOUT_RUNBOOK_PATH="$PWD/templates"

cat > "$D/app.py" <<'PY'
import http.server, json
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        q = queue.Queue()          # the bug: 'import queue' is missing
        body = json.dumps({"messages": []}).encode()
        self.send_response(200); self.send_header("Content-Length", str(len(body)))
        self.end_headers(); self.wfile.write(body)
queue.Queue()                      # fails at start-up, like the seed
http.server.HTTPServer(("127.0.0.1", 18080), H).serve_forever()
PY
printf '%s\n' "[Service]" "ExecStart=/usr/bin/python3 $D/app.py" \
    "[Install]" "WantedBy=default.target" > "$U/message-bus.service"
cat > "$D/lookout.lua" <<LUA
service "message-bus" { unit = "message-bus.service", scope = "user",
  check = http { url = "http://127.0.0.1:18080/api/inbox/joe", json = true } }
LUA
systemctl --user daemon-reload
systemctl --user start message-bus.service || true
sleep 1

echo "== lookout status (the service died at start-up)"
"$L" --config "$D/lookout.lua" status || true
id=$("$L" incident open "message-bus down: NameError at start-up" \
    --severity P2 --service message-bus)
"$L" incident note "$id" "journal: NameError: name 'queue' is not defined (app.py)"
"$L" incident ack "$id" "on it"
echo
echo "== the fix: add 'import queue'"
sed -i '1i import queue' "$D/app.py"
"$L" incident note "$id" "fix: added 'import queue' to app.py"
echo
echo "== lookout run restart-service (start, enable, endpoint check)"
"$L" --config "$D/lookout.lua" run restart-service unit=message-bus.service \
    url=http://127.0.0.1:18080/api/inbox/joe --incident "$id" --yes
"$L" incident mitigate "$id" "started and enabled; /api/inbox/joe answers 200"
"$L" incident resolve "$id"
echo
echo "== lookout status"
"$L" --config "$D/lookout.lua" status
echo
echo "== the postmortem (lookout export $id)"
"$L" export "$id"
echo
"$L" verify
