#!/bin/sh
# The notifiers against real peers: a real Alertmanager on loopback whose
# webhook receiver is a real HTTP server (httpd.py, which keeps what it is
# posted), webhooks to that server and to a port where nothing listens,
# and a real command.  Each "host" is a notify_driver (tests/watch), which
# opens an incident in a timeline of its own and hands the notifiers
# "opened", then "resolved", when told to through files.  Runs inside
# tests/sandbox (through in_sandbox.sh); prints TAP.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../cli/tap.sh"
: "${NOTIFY_DRIVER:?NOTIFY_DRIVER must point at the notify_driver helper}"

. "$here/am_lib.sh"
need_alertmanager

httpd='' am='' drivers=''
cleanup() {
	# shellcheck disable=SC2086
	kill $httpd $am $drivers 2>/dev/null || :
	# shellcheck disable=SC2086
	wait $httpd $am $drivers 2>/dev/null || :
	rm -rf "$T"
}
trap cleanup EXIT

"$PY" "$here/httpd.py" "$T/port" "$T/posts" & httpd=$!
wait_until 10 test -s "$T/port"
R=http://127.0.0.1:$(cat "$T/port")
: >"$T/posts"

start_alertmanager "$R/am"

# driver NAME CONFIG HOST DIR TITLE SERVICE: starts a driver in the
# background, its timeline at $T/NAME.db, its output in $T/NAME.out.
driver() {
	name=$1
	shift
	"$NOTIFY_DRIVER" "$1" "$T/$name.db" "$2" "$3" "$4" "$5" \
	    >"$T/$name.out" 2>"$T/$name.err" &
	drivers="$drivers $!"
	eval "pid_$name=\$!"
}

# incident NAME: the incident the driver opened, once it has.
incident() {
	wait_until 10 grep -q '^incident ' "$T/$1.out"
	sed -n 's/^incident //p' "$T/$1.out"
}

# export NAME: the driver's incident as JSON, in $T/NAME.json.
export_incident() {
	"$LOOKOUT" --db "$T/$1.db" export "$(incident "$1")" --format json \
	    >"$T/$1.json"
}

# --- two hosts, one outage, one page -------------------------------------
cat >"$T/am.lua" <<EOF
notify "team" { alertmanager = "$AM", resend = "1s", tries = 3, backoff = "200ms" }
EOF
mkdir "$T/outage"
driver web1 "$T/am.lua" web-1 "$T/outage" "message-bus down" message-bus
driver web2 "$T/am.lua" web-2 "$T/outage" "message-bus down" message-bus
incident web1 >/dev/null
incident web2 >/dev/null
touch "$T/outage/open"
if wait_until 20 has_am_post message-bus "firing web-1=firing,web-2=firing"; then
	ok "the outage reaches Alertmanager's receiver once both hosts posted it"
else
	fail "the outage reaches Alertmanager's receiver" "$(am_posts message-bus)" "$(tail -n 5 "$T/am.log")"
fi
check "as one notification, grouped by alertname and service, with both hosts' alerts" \
	test "$(am_posts message-bus)" = "firing web-1=firing,web-2=firing"
"$PY" - "$T/posts" >"$T/alert.txt" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["path"] == "/am":
        a = json.loads(r["body"])["alerts"][0]
        print(json.dumps({"labels": sorted(a["labels"]), "annotations": a["annotations"],
                          "starts": a["startsAt"][:4]}, sort_keys=True))
        break
PY
check "its alert has lookout's labels and annotations" grep -qF \
	'{"annotations": {"incident": "1", "reason": "failed: exited with status 1", "summary": "message-bus down"}, "labels": ["alertname", "host", "service", "severity"], "starts": "20' "$T/alert.txt"

# Past Alertmanager's resolve_timeout: only the re-posts keep the alert.
sleep 7
check "re-posted every second, the alert outlives Alertmanager's resolve_timeout (5 s)" \
	sh -c 'curl -fsS "$1/api/v2/alerts?active=true&filter=service%3D%22message-bus%22" |
		"$2" -c "import json, sys; a = json.load(sys.stdin); assert len(a) == 2, a"' _ "$AM" "$PY"
check "and no second notification was sent meanwhile" \
	test "$(am_posts message-bus)" = "firing web-1=firing,web-2=firing"

touch "$T/outage/resolve"
if wait_until 20 has_am_post message-bus "resolved web-1=resolved,web-2=resolved"; then
	ok "its resolution reaches the receiver once both hosts resolved it"
else
	fail "its resolution reaches the receiver" "$(am_posts message-bus)"
fi
# Alertmanager may flush the group between the two hosts' resolutions
# (a notification with one alert resolved), but never pages twice.
check "one page for the outage: a single notification with every alert firing" \
	test "$(am_posts message-bus | grep -c '^firing web-1=firing,web-2=firing$')" -eq 1
for d in web1 web2; do
	eval "wait \$pid_$d" && rc=0 || rc=$?
	check "driver $d ends once its notifications are delivered" test "$rc" -eq 0
	export_incident "$d"
done
check "each host's timeline says when it paged: notify.sent for opened and resolved" "$PY" -c "
import json
for h in ('web1', 'web2'):
    ev = [e for e in json.load(open('$T/%s.json' % h))['events'] if e['kind'].startswith('notify.')]
    got = [(e['kind'], e['subject'], e['data']['event'], e['data']['status']) for e in ev]
    assert got == [('notify.sent', 'team', 'opened', 200), ('notify.sent', 'team', 'resolved', 200)], got
"

# --- a webhook that is down: tried again, then recorded ------------------
DOWN=$(free_port)
cat >"$T/down.lua" <<EOF
notify "chat" { webhook = "http://127.0.0.1:$DOWN/hook", tries = 3, backoff = "200ms" }
EOF
mkdir "$T/down"
touch "$T/down/open" "$T/down/stop"
vg=''
if command -v valgrind >/dev/null 2>&1 && ! ldd "$NOTIFY_DRIVER" | grep -q libasan; then
	vg="valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=99"
fi
# shellcheck disable=SC2086
$vg "$NOTIFY_DRIVER" "$T/down.lua" "$T/down.db" web-1 "$T/down" "message-bus down" message-bus \
    >"$T/down.out" 2>"$T/down.err" && rc=0 || rc=$?
check "the driver ends once the notification is given up${vg:+ (valgrind: no leak, no error)}" \
	sh -c '[ "$1" -eq 0 ] || { cat "$2" >&2; exit 1; }' _ "$rc" "$T/down.err"
export_incident down
check "an undeliverable notification is recorded as notify.failed, with each try and its reason" "$PY" -c "
import json
ev = [e for e in json.load(open('$T/down.json'))['events'] if e['kind'].startswith('notify.')]
assert len(ev) == 1, ev
e = ev[0]
assert e['kind'] == 'notify.failed' and e['subject'] == 'chat', e
assert e['message'] == 'opened: not delivered to webhook chat: after 3 tries: connection refused', e
d = e['data']
assert d['tries'] == 3 and d['event'] == 'opened', d
assert [a['error'] for a in d['attempts']] == ['connection refused'] * 3, d
assert str($DOWN) not in json.dumps(e), 'the URL is not recorded'
"

# --- a webhook: Slack's text, the token from the environment --------------
cat >"$T/hook.lua" <<EOF
notify "chat" { webhook = "$R/hook", headers = { Authorization = env("HOOK_TOKEN") } }
notify "strict" { webhook = "$R/deny", headers = { Authorization = env("HOOK_TOKEN") } }
EOF
mkdir "$T/hook"
touch "$T/hook/open" "$T/hook/resolve"
HOOK_TOKEN="Bearer e2e-s3cret-t0ken" "$NOTIFY_DRIVER" "$T/hook.lua" "$T/hook.db" web-1 "$T/hook" \
    "<!channel> message-bus down" message-bus >"$T/hook.out" 2>"$T/hook.err" && rc=0 || rc=$?
check "the webhook driver ends" test "$rc" -eq 0
export_incident hook
check "the webhook gets a JSON POST: Slack's text and the incident's fields, the token as sent" "$PY" -c "
import json
posts = [json.loads(l) for l in open('$T/posts')]
hook = [p for p in posts if p['path'] == '/hook']
assert len(hook) == 2, hook
o, r = (json.loads(p['body']) for p in hook)
inc = int(open('$T/hook.out').readline().split()[1])
assert o['text'] == '[P2] incident %d opened: &lt;!channel&gt; message-bus down - failed: exited with status 1 (message-bus on web-1)' % inc, o
assert o['event'] == 'opened' and o['incident'] == inc and o['service'] == 'message-bus', o
assert o['title'] == '<!channel> message-bus down' and o['host'] == 'web-1' and o['ends_at'] is None, o
assert r['event'] == 'resolved' and r['ends_at'] is not None and ' resolved after ' in r['text'], r
for p in hook:
    assert p['headers']['authorization'] == 'Bearer e2e-s3cret-t0ken', p['headers']
    assert p['headers']['content-type'] == 'application/json', p['headers']
"
check "a server that refuses it (401) is not asked again, and the token it quotes is not recorded" "$PY" -c "
import json
ev = [e for e in json.load(open('$T/hook.json'))['events'] if e['subject'] == 'strict']
assert [e['kind'] for e in ev] == ['notify.failed', 'notify.failed'], ev
assert ev[0]['message'] == 'opened: not delivered to webhook strict: HTTP 401: denied: ***', ev[0]
assert ev[0]['data']['tries'] == 1, ev[0]
"
check "the token is nowhere in the timeline or the driver's output" \
	sh -c '! cat "$@" | grep -q s3cret' _ "$T/hook.json" "$T/hook.out" "$T/hook.err"

# --- a command: the event on stdin and in the environment, no shell -------
cat >"$T/capture.py" <<'PY'
import json, os, sys
out = sys.argv[1]
open(out + "/stdin.json", "w").write(sys.stdin.read())
json.dump({k: v for k, v in os.environ.items() if k.startswith("LOOKOUT_")},
          open(out + "/env.json", "w"))
PY
mkdir "$T/cmd" "$T/capture"
cat >"$T/cmd.lua" <<EOF
notify "page" { command = { argv = { "$PY", "$T/capture.py", "$T/capture" } } }
EOF
title="db down \$(touch $T/pwned1) \`touch $T/pwned2\`; touch $T/pwned3 | x"
touch "$T/cmd/open" "$T/cmd/stop"
# shellcheck disable=SC2086
$vg "$NOTIFY_DRIVER" "$T/cmd.lua" "$T/cmd.db" web-1 "$T/cmd" "$title" message-bus \
    >"$T/cmd.out" 2>"$T/cmd.err" && rc=0 || rc=$?
check "the command driver ends${vg:+ (valgrind: no leak, no error)}" \
	sh -c '[ "$1" -eq 0 ] || { cat "$2" >&2; exit 1; }' _ "$rc" "$T/cmd.err"
export_incident cmd
check "the command gets the event as JSON on its stdin and in LOOKOUT_* variables" "$PY" - "$title" <<PY
import json, sys
title = sys.argv[1]
inc = int(open("$T/cmd.out").readline().split()[1])
stdin = json.load(open("$T/capture/stdin.json"))
env = json.load(open("$T/capture/env.json"))
assert stdin["title"] == title and stdin["event"] == "opened" and stdin["incident"] == inc, stdin
assert env["LOOKOUT_TITLE"] == title and env["LOOKOUT_EVENT"] == "opened", env
assert env["LOOKOUT_INCIDENT"] == str(inc) and env["LOOKOUT_NOTIFIER"] == "page", env
assert env["LOOKOUT_SERVICE"] == "message-bus" and env["LOOKOUT_HOST"] == "web-1", env
ev = [e for e in json.load(open("$T/cmd.json"))["events"] if e["kind"].startswith("notify.")]
assert [(e["kind"], e["data"]["exit_status"]) for e in ev] == [("notify.sent", 0)], ev
PY
check "the shell metacharacters in the title ran nothing" \
	sh -c '! ls "$1"/pwned* 2>/dev/null' _ "$T"

done_testing
