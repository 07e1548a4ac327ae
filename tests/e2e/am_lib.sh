# A real Alertmanager on loopback for the notifiers' end-to-end tests
# (tests/e2e/notify_inner.sh, watch_notify_inner.sh), sourced after
# tests/cli/tap.sh.  Its webhook receiver is the test's httpd.py, which
# keeps what it is posted in $T/posts.

# Debian's python3 itself: a python3 found first on PATH may be a shim
# that costs seconds a call on a loaded machine.
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

free_port() {
	"$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# need_alertmanager: skips the whole test (and exits) without it.
need_alertmanager() {
	AM_BIN=$(command -v prometheus-alertmanager || true)
	[ -n "$AM_BIN" ] && return 0
	skip "prometheus-alertmanager is not installed (tests/sandbox/install-deps.sh)"
	done_testing
	exit 0
}

# start_alertmanager RECEIVER_URL: Alertmanager as a team runs it, grouped
# by alertname and service, its receiver at RECEIVER_URL; its URL in $AM
# and its PID in $am (the caller's trap kills it).  Short waits, so that
# the test is quick; a resolve_timeout of 5 s, so that an alert nobody
# re-posts is resolved within the test.  Fails the test where it does not
# answer.
start_alertmanager() {
	cat >"$T/am.yml" <<AMEOF
global:
  resolve_timeout: 5s
route:
  receiver: team
  group_by: [alertname, service]
  group_wait: 3s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: team
    webhook_configs:
      - url: $1
        send_resolved: true
AMEOF
	am=''
	# Another program may take the port before Alertmanager binds it.
	for _attempt in 1 2 3; do
		AM_PORT=$(free_port)
		# No cluster: it would listen on 0.0.0.0:9094.
		"$AM_BIN" --config.file="$T/am.yml" --storage.path="$T/am-data" \
		    --web.listen-address="127.0.0.1:$AM_PORT" \
		    --cluster.listen-address= --log.level=warn \
		    </dev/null >"$T/am.log" 2>&1 & am=$!
		wait_until 15 curl -fsS "http://127.0.0.1:$AM_PORT/-/ready" && break
		kill "$am" 2>/dev/null || :
		wait "$am" 2>/dev/null || :
		am=''
	done
	if [ -z "$am" ]; then
		fail "Alertmanager answers /-/ready" "$(tail -n 20 "$T/am.log")"
		done_testing
		exit 1
	fi
	AM=http://127.0.0.1:$AM_PORT
}

# am_posts SERVICE [ALERTNAME]: what the receiver got from Alertmanager,
# one line per notification, "STATUS host=STATUS,host=STATUS" for the
# group ALERTNAME (default LookoutServiceDown), SERVICE.
am_posts() {
	"$PY" - "$T/posts" "$1" "${2:-LookoutServiceDown}" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["path"] != "/am":
        continue
    b = json.loads(r["body"])
    if b["groupLabels"] != {"alertname": sys.argv[3], "service": sys.argv[2]}:
        continue
    alerts = ",".join(sorted("%s=%s" % (a["labels"]["host"], a["status"]) for a in b["alerts"]))
    print(b["status"], alerts)
PY
}

has_am_post() { am_posts "$1" | grep -qx "$2"; }
