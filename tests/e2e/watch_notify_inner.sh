#!/bin/sh
# lookout watch telling the team, inside tests/sandbox (through
# in_sandbox.sh): the watcher runs as a systemd --user service made from
# the shipped unit, with a real Alertmanager on loopback whose webhook
# receiver is httpd.py, and a webhook to a port where nothing listens.  A
# second `lookout watch` with a timeline of its own runs in a UTS namespace
# of its own, named web-2: a second host watching the same service.  A
# killed service is one grouped notification from Alertmanager; the
# watcher restarted while the incident is open keeps the alert firing
# without telling the webhook twice; recovery resolves it through
# Alertmanager; the webhook is tried, then recorded as undelivered.  The
# dead man's switch is asked each cycle.
# Prints TAP.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../cli/tap.sh"
. "$here/watch_lib.sh"
. "$here/am_lib.sh"
need_alertmanager
am='' web2=''
start_httpd
# Waited for before the files go: Alertmanager writes its state to
# $T/am-data as it stops, and rm would race it.
cleanup() {
	# shellcheck disable=SC2086
	kill $httpd $am $web2 2>/dev/null || :
	# shellcheck disable=SC2086
	wait $httpd $am $web2 2>/dev/null || :
	rm -rf "$T"
}
trap cleanup EXIT
start_alertmanager "$HTTP/am"
DOWN=$(free_port)

unit bus.service "[Service]" "ExecStart=/bin/sleep 1000"
cat >"$T/lookout.lua" <<LUA
interval = "1s"
resolve_after = "3s"
deadman = "$HTTP/ping/deadman"
service "bus" { unit = "bus.service", scope = "user" }
notify "team" { alertmanager = "$AM", resend = "1s", tries = 3, backoff = "200ms" }
notify "chat" { webhook = "http://127.0.0.1:$DOWN/hook", tries = 3, backoff = "200ms" }
LUA
watch_unit
systemctl --user start bus.service
systemctl --user start lookout-watch.service
host1=$(hostname)
# The second host: its own name, its own timeline, the same Alertmanager.
sed -e '/^notify "chat"/d' -e '/^deadman/d' "$T/lookout.lua" >"$T/web2.lua"
unshare -u sh -c 'hostname web-2 && exec "$@"' _ \
    "$LOOKOUT" --db "$T/web2.db" --config "$T/web2.lua" watch 2>"$T/web2.log" &
web2=$!
# Not before lookout made the file: sqlite3 would make it, mode 0644, and
# lookout refuses a timeline that is not private.
web2_beat() {
	[ -s "$T/web2.db" ] && [ -n "$(sqlite3 "$T/web2.db" "SELECT who FROM heartbeats WHERE who LIKE 'watch@web-2%'")" ]
}
check "the second watcher runs as host web-2" wait_until 30 web2_beat

pinged() { [ "$(grep -c '"path": "/ping/deadman"' "$T/posts")" -ge 3 ]; }
check "the dead man's switch is asked every cycle" wait_until 20 pinged

# --- an outage: one page, through Alertmanager ------------------------------
kill -KILL "$(systemctl --user show -p MainPID --value bus.service)"
check "the killed service is an incident" wait_until 10 has_incident bus
inc=$(incident_of bus)
if wait_until 30 has_am_post bus "firing $host1=firing,web-2=firing"; then
	ok "the alert reaches Alertmanager's receiver from both hosts"
else
	fail "the alert reaches Alertmanager's receiver from both hosts" \
	    "$(am_posts bus)" "$(tail -n 5 "$T/am.log")"
fi
check "as one notification, grouped, with both hosts' alerts" \
    test "$(am_posts bus)" = "firing $host1=firing,web-2=firing"
check "its annotations name the incident and the reason" "$PY" -c "
import json, sys
for line in open('$T/posts'):
    r = json.loads(line)
    if r['path'] == '/am':
        for a in json.loads(r['body'])['alerts']:
            if a['labels']['host'] == sys.argv[1]:
                assert a['annotations']['incident'] == sys.argv[2], a
                assert a['annotations']['reason'].startswith('failed: signal'), a
                assert a['labels']['severity'] == 'P2', a
                sys.exit(0)
sys.exit(1)
" "$host1" "$inc"
failed_to_chat() {
	sql "SELECT count(*) FROM events WHERE kind = 'notify.failed' AND subject = 'chat' AND incident_id = $inc"
}
chat_failed_once() { [ "$(failed_to_chat)" = 1 ]; }
check "a webhook that is down: tried 3 times, then recorded as undelivered" \
    wait_until 30 chat_failed_once
check "with each try and its reason" test -n "$(sql "SELECT seq FROM events
    WHERE kind = 'notify.failed' AND incident_id = $inc AND message =
    'opened: not delivered to webhook chat: after 3 tries: connection refused'
    AND json_extract(data, '\$.tries') = 3")"
check "Alertmanager's post is recorded as sent" test -n "$(sql "SELECT seq FROM events
    WHERE kind = 'notify.sent' AND subject = 'team' AND incident_id = $inc")"

# --- the watcher restarts while the alert fires ------------------------------
systemctl --user restart lookout-watch.service
# Past Alertmanager's resolve_timeout (5 s): only re-posts keep the alert.
sleep 8
check "restarted, it posts the open incident's alert again: still firing after resolve_timeout" \
    sh -c 'curl -fsS "$1/api/v2/alerts?active=true&filter=service%3D%22bus%22" |
	"$2" -c "import json, sys; a = json.load(sys.stdin); assert sorted(x[\"labels\"][\"host\"] for x in a) == sorted(sys.argv[1:]), a" "$3" web-2' \
    _ "$AM" "$PY" "$host1"
check "and no second page meanwhile" test "$(am_posts bus)" = "firing $host1=firing,web-2=firing"
check "the webhook was not told twice" test "$(failed_to_chat)" = 1

# --- recovery: resolved, through Alertmanager --------------------------------
systemctl --user start bus.service
check "fixed: mitigated, then resolved after resolve_after" wait_until 30 status_is "$inc" resolved
# Alertmanager may flush the group between the two hosts' resolutions;
# each host's must be lookout's own (its reason), not Alertmanager's
# resolve_timeout passing.
resolved_by() {
	"$PY" - "$T/posts" "$1" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["path"] != "/am":
        continue
    for a in json.loads(r["body"])["alerts"]:
        if (a["labels"] == {"alertname": "LookoutServiceDown", "service": "bus",
                            "severity": "P2", "host": sys.argv[2]}
                and a["status"] == "resolved"
                and a["annotations"]["reason"].startswith("the checks passed for")):
            sys.exit(0)
sys.exit(1)
PY
}
if wait_until 30 resolved_by "$host1" && wait_until 5 resolved_by web-2; then
	ok "its resolution reaches the receiver through Alertmanager, from both hosts"
else
	fail "its resolution reaches the receiver through Alertmanager, from both hosts" "$(am_posts bus)"
fi
check "one page for the outage" \
    test "$(am_posts bus | grep -c "^firing $host1=firing,web-2=firing\$")" -eq 1
check "the resolution to the webhook is recorded as undelivered too" wait_until 30 \
    has_event notify.failed "$inc" 'resolved: not delivered to webhook chat%'
kill -TERM "$web2"
wait "$web2" && rc=0 || rc=$?
web2=''
check "the second watcher stops cleanly on SIGTERM" test "$rc" -eq 0
done_testing
