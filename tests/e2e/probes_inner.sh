#!/bin/sh
# The seed failure modes made real: runs inside tests/sandbox (through
# in_sandbox.sh) with a real systemd --user, redis-server and HTTP server.
# Prints TAP.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../cli/tap.sh"
: "${PROBE_WATCH:?PROBE_WATCH must point at the probe_watch helper}"
U=$XDG_CONFIG_HOME/systemd/user
mkdir -p "$U"

python3 "$here/httpd.py" "$T/port" & httpd=$!
trap 'kill $httpd 2>/dev/null || :; rm -rf "$T"' EXIT
for i in $(seq 50); do [ -s "$T/port" ] && break; sleep 0.1; done
HTTP=http://127.0.0.1:$(cat "$T/port")

unit() {
	name=$1; shift
	printf '%s\n' "$@" > "$U/$name"
}
unit idle.service "[Service]" "ExecStart=/bin/sleep 1000" "[Install]" "WantedBy=default.target"
# Seed 000: the app dies at start-up with a NameError, 1.5 s after it starts;
# it logs the wall-clock ms of the crash first.
unit message-bus.service "[Service]" \
    "ExecStart=/usr/bin/python3 -c \"import time; time.sleep(1.5); open('$T/crash_ms', 'w').write(str(int(time.time() * 1000))); queue.Queue()\""
mkdir -p "$T/releases/65"
unit worker.service "[Service]" "WorkingDirectory=$T/releases/65" "ExecStart=/bin/sleep 1000"
systemctl --user daemon-reload

# --- seed 000: a crash shows as failed within a second ------------------
cat > "$T/bus.lua" <<LUA
interval = "10s"
service "message-bus" { unit = "message-bus.service", scope = "user" }
LUA
"$PROBE_WATCH" "$T/bus.lua" 4000 > "$T/watch" &
watch=$!
sleep 0.3
systemctl --user start message-bus.service
wait $watch
failed_ms=$(awk '$4 == "message-bus" && $5 == "failed" { print $2; exit }' "$T/watch")
crash_ms=$(cat "$T/crash_ms" 2>/dev/null || echo 0)
if [ -n "$failed_ms" ] && [ "$crash_ms" -gt 0 ] && [ $((failed_ms - crash_ms)) -lt 1000 ]; then
	ok "a NameError at start-up shows as failed $((failed_ms - crash_ms)) ms after the crash (interval 10 s)"
else
	fail "a NameError at start-up shows as failed within 1 s" "crash at $crash_ms" "$(cat "$T/watch")"
fi
run --config "$T/bus.lua" status --json
check "status exits 1 for a failed service" test "$rc" -eq 1
check "status says why" sh -c 'printf "%s" "$1" | grep -q "\"reason\":\"failed: exited with status 1\""' _ "$out"
check "and since when: systemd's time of the failure, within 1 s of the crash" python3 -c "
import json, sys
from datetime import datetime
s = json.loads(sys.argv[1])['services'][0]
since = datetime.strptime(s['since'], '%Y-%m-%dT%H:%M:%S.%f%z').timestamp() * 1000
assert abs(since - int(sys.argv[2])) < 1000, (s['since'], sys.argv[2])
" "$out" "$crash_ms"
run --config "$T/bus.lua" status
check "the table shows how long it has been failed" sh -c 'printf "%s" "$1" | grep -Eq "^message-bus +failed/failed +static +none +[0-9]+s +failed$"' _ "$out"
check "and why, on the line under it" sh -c 'printf "%s\n" "$1" | grep -A1 "^message-bus " | tail -n 1 | grep -qx "    failed: exited with status 1"' _ "$out"

# --- active but not enabled ----------------------------------------------
cat > "$T/idle.lua" <<LUA
service "idle" { unit = "idle.service", scope = "user" }
LUA
systemctl --user start idle.service
run --config "$T/idle.lua" status --json
check "active but not enabled is flagged not-enabled" sh -c 'printf "%s" "$1" | grep -q "\"flags\":\[\"not-enabled\"\]"' _ "$out"
check "and counts as degraded" test "$rc" -eq 1
systemctl --user enable idle.service 2>/dev/null
run --config "$T/idle.lua" status --json
check "enabled: the flag is gone and status is healthy" sh -c '[ "$1" -eq 0 ] && printf "%s" "$2" | grep -q "\"enabled\":\"enabled\",.*\"flags\":\[\]"' _ "$rc" "$out"

# A stopped unit's file state comes by name (systemd unloads stopped units).
systemctl --user stop idle.service
run --config "$T/idle.lua" status --json
check "stopped and enabled: inactive, enabled" sh -c 'printf "%s" "$1" | grep -q "\"active\":\"inactive\",\"sub\":\"dead\",\"enabled\":\"enabled\""' _ "$out"
check "a stopped unit has no since: systemd forgot it with the unit" sh -c 'printf "%s" "$1" | grep -q "\"since\":null"' _ "$out"
systemctl --user disable idle.service 2>/dev/null
run --config "$T/idle.lua" status --json
check "stopped and disabled (seed 000 after a reboot): inactive, disabled" sh -c 'printf "%s" "$1" | grep -q "\"active\":\"inactive\",\"sub\":\"dead\",\"enabled\":\"disabled\""' _ "$out"
# The checks below watch idle.service running and enabled.
systemctl --user enable --now idle.service 2>/dev/null

# --- a name that is not UTF-8: valid JSON, and no mix-up -----------------
printf 'service "caf\351" { unit = "idle.service", scope = "user" }\nservice "plain" { unit = "idle.service", scope = "user" }\n' > "$T/latin1.lua"
run --config "$T/latin1.lua" status --json
check "a Latin-1 name shows as U+FFFD, and the next service keeps its own" python3 -c "
import json, sys
names = [s['name'] for s in json.loads(sys.argv[1])['services']]
assert names == ['caf\ufffd', 'plain'], names
" "$out"

# --- a crash loop between two one-shot commands: restarting --------------
unit loop.service "[Unit]" "StartLimitIntervalSec=0" "[Service]" \
    "Restart=always" "RestartSec=100ms" "ExecStart=/bin/sh -c 'sleep 0.2; exit 3'"
systemctl --user daemon-reload
systemctl --user start loop.service
nrestarts() { systemctl --user show -p NRestarts --value loop.service; }
# wait_restarts N: until systemd has restarted the unit N times (10 s).
wait_restarts() {
	for i in $(seq 100); do [ "$(nrestarts)" -ge "$1" ] && return 0; sleep 0.1; done
	return 1
}
wait_restarts 1
cat > "$T/loop.lua" <<LUA
service "loop" { unit = "loop.service", scope = "user" }
LUA
run --config "$T/loop.lua" status --json
check "restarts from before lookout first looked are not news" sh -c 'printf "%s" "$1" | python3 -c "
import json, sys
s = json.load(sys.stdin)[\"services\"][0]
assert s[\"restarts\"] >= 1 and \"restarting\" not in s[\"flags\"], s
"' _ "$out"
wait_restarts $(($(nrestarts) + 2))
run --config "$T/loop.lua" status --json
check "two restarts later, the next status says restarting, from the timeline" sh -c 'printf "%s" "$1" | python3 -c "
import json, re, sys
s = json.load(sys.stdin)[\"services\"][0]
assert \"restarting\" in s[\"flags\"], s
assert re.fullmatch(r\"restarted [0-9]+ times in the last [0-9]+s\", s[\"reason\"]), s
"' _ "$out"
check "and counts as degraded" test "$rc" -eq 1
# A service's samples are its changes and a 10-minute pulse, so the count
# in effect when the window opened may come from before it: here the only
# sample is 12 minutes old, and the reason counts from then.
sqlite3 "$LOOKOUT_DB" "DELETE FROM samples WHERE subject = 'loop';
    INSERT INTO samples(ts, kind, subject, state, value)
    VALUES ($(date +%s%3N) - 12 * 60000, 'service', 'loop', 'active/running none', 0)"
run --config "$T/loop.lua" status --json
check "a pulse from before the window is the base, and the reason says since when" sh -c 'printf "%s" "$1" | python3 -c "
import json, re, sys
s = json.load(sys.stdin)[\"services\"][0]
assert \"restarting\" in s[\"flags\"], s
assert re.fullmatch(r\"restarted [0-9]+ times in the last 12m\", s[\"reason\"]), s
"' _ "$out"
systemctl --user stop loop.service

# --- an endpoint answering 404 with an empty body -------------------------
cat > "$T/dash.lua" <<LUA
service "dashboard" { unit = "idle.service", scope = "user",
  check = http { url = "$HTTP/api/settings/auth", status = 200, json = true } }
service "inbox" { unit = "idle.service", scope = "user",
  check = http { url = "$HTTP/api/inbox/joe", json = true, json_field = { path = "status.db", equals = "up" } } }
LUA
run --config "$T/dash.lua" status --json
check "404 with an empty body: unhealthy, with that reason" sh -c 'printf "%s" "$1" | python3 -c "
import json, sys
s = {x[\"name\"]: x for x in json.load(sys.stdin)[\"services\"]}
d, i = s[\"dashboard\"], s[\"inbox\"]
assert d[\"flags\"] == [\"unhealthy\"] and d[\"health\"] == \"failing\", d
assert d[\"reason\"] == \"HTTP 404 with an empty body (expected 200)\", d
assert i[\"health\"] == \"ok\" and i[\"flags\"] == [] and i[\"latency_ms\"] > 0, i
"' _ "$out"

# More checks than run at once (50): later ones are sent on the handles of
# earlier ones, which must not carry an earlier check's header along.
: > "$T/tokens.lua"
for i in $(seq 1 60); do
	if [ "$i" -le 54 ]; then
		echo "service \"t$i\" { unit = \"idle.service\", scope = \"user\", check = http { url = \"$HTTP/echo/token?i=$i\", headers = { [\"X-Token\"] = \"s3cret\" }, json_field = { path = \"token\", equals = \"s3cret\" } } }"
	else
		echo "service \"t$i\" { unit = \"idle.service\", scope = \"user\", check = http { url = \"$HTTP/echo/token?i=$i\", json_field = { path = \"token\", equals = \"none\" } } }"
	fi
done >> "$T/tokens.lua"
run --config "$T/tokens.lua" status --json
check "60 checks, 50 at a time: each sent its own headers and no others" sh -c 'printf "%s" "$1" | python3 -c "
import json, sys
s = json.load(sys.stdin)[\"services\"]
bad = [(x[\"name\"], x[\"reason\"]) for x in s if x[\"health\"] != \"ok\"]
assert len(s) == 60 and not bad, bad
"' _ "$out"
run --config "$T/tokens.lua" status --json
check "a second status of the same 60 steady services adds no sample" test \
    "$(sqlite3 "$LOOKOUT_DB" "SELECT count(*) FROM samples WHERE subject GLOB 't[0-9]*'")" = 60

# --- seed 001: a worker whose directory was deleted under it ---------------
cat > "$T/worker.lua" <<LUA
service "worker" { unit = "worker.service", scope = "user" }
LUA
systemctl --user start worker.service
run --config "$T/worker.lua" status --json
check "a worker in its release directory is fine" sh -c 'printf "%s" "$1" | grep -q "\"active\":\"active\""' _ "$out"
rm -rf "$T/releases/65"
run --config "$T/worker.lua" status --json
check "its directory deleted: deleted-cwd while systemd says active" sh -c 'printf "%s" "$1" | python3 -c "
import json, sys
w = json.load(sys.stdin)[\"services\"][0]
assert w[\"active\"] == \"active\" and \"deleted-cwd\" in w[\"flags\"], w
assert \"releases/65\" in w[\"reason\"], w
"' _ "$out"
# Long names and reasons: the table still fits 80 columns, every reason whole.
cat > "$T/wide.lua" <<LUA
service "worker" { unit = "worker.service", scope = "user" }
service "a-service-whose-name-will-not-fit-its-column" { unit = "idle.service", scope = "user" }
service "gone" { unit = "a-unit-whose-name-is-long-enough-to-push-its-reason-over-the-edge.service", scope = "user" }
service "dashboard" { unit = "idle.service", scope = "user",
  check = http { url = "$HTTP/api/settings/auth", status = 200, json = true } }
queue "a-queue-whose-name-will-not-fit-its-column-either" { redis = { url = "$REDIS_URL", key = "queues:wide" }, warn = 1 }
LUA
redis-cli -p "$REDIS_PORT" rpush queues:wide w1 w2 >/dev/null
run --config "$T/wide.lua" status --json
printf '%s' "$out" > "$T/wide.json"
run --config "$T/wide.lua" status
printf '%s\n' "$out" > "$T/wide.txt"
check "status with long names and reasons has no line over 80 columns" \
    test -z "$(awk 'length > 80' "$T/wide.txt")"
check "and every reason is there whole, on indented lines" python3 -c "
import json, sys
j = json.load(open(sys.argv[1]))
text = open(sys.argv[2]).read()
flat = ''.join(text.split())
reasons = [x['reason'] for x in j['services'] + j['queues'] if x['reason']]
assert len(reasons) == 4 and any(len(r) > 76 for r in reasons), reasons
for r in reasons:
    assert ''.join(r.split()) in flat, (r, text)
    assert '    ' + r.split()[0] in text, (r, text)
" "$T/wide.json" "$T/wide.txt"
redis-cli -p "$REDIS_PORT" del queues:wide >/dev/null

# --- a process that keeps watching: signals, not polling -------------------
# Between two full reads (every 10 minutes) the watcher hears of changes
# from systemd's signals alone, and checks /proc itself every cycle.
mkdir -p "$T/releases/66"
unit worker2.service "[Service]" "WorkingDirectory=$T/releases/66" "ExecStart=/bin/sleep 1000"
unit looper.service "[Service]" "ExecStart=/bin/sh -c 'sleep 0.4; exit 1'" "Restart=always" "RestartSec=200ms"
systemctl --user daemon-reload
systemctl --user start worker2.service
cat > "$T/long.lua" <<LUA
interval = "300ms"
service "worker2" { unit = "worker2.service", scope = "user" }
service "looper" { unit = "looper.service", scope = "user" }
service "later" { unit = "later.service", scope = "user" }
LUA
"$PROBE_WATCH" "$T/long.lua" 4500 > "$T/watch" &
watch=$!
sleep 1
systemctl --user start looper.service
rm -rf "$T/releases/66"
# A unit file that appears, and a daemon-reload: no PropertiesChanged.
unit later.service "[Service]" "ExecStart=/bin/sleep 1000"
systemctl --user daemon-reload
wait $watch
check "a restart loop shows as restarting while watched" grep -q '^[0-9]* [0-9]* S looper .*restarting' "$T/watch"
check "a directory deleted under a watched worker shows deleted-cwd" grep -q '^[0-9]* [0-9]* S worker2 active .*deleted-cwd' "$T/watch"
check "a unit loaded by a daemon-reload is seen without waiting for the next full read" grep -q '^[0-9]* [0-9]* S later inactive dead static none inactive | inactive (dead)' "$T/watch"
systemctl --user stop looper.service worker2.service

# --- a Redis queue: stalled, drained, paused ------------------------------
cat > "$T/mail.lua" <<LUA
interval = "200ms"
queue "mail" { redis = { url = "$REDIS_URL", key = "queues:default",
  paused_key = "queues:default:paused" }, stall_after = "1s" }
LUA
redis-cli -p "$REDIS_PORT" rpush queues:default j1 j2 j3 j4 j5 >/dev/null
"$PROBE_WATCH" "$T/mail.lua" 3500 "$T/samples.db" > "$T/watch" &
watch=$!
sleep 2
# A consumer drains it.
for i in 1 2 3 4 5; do redis-cli -p "$REDIS_PORT" lpop queues:default >/dev/null; sleep 0.1; done
wait $watch
check "a filling list with no consumer is stalled after stall_after" grep -q 'Q mail stalled 5 .*| 5 waiting, none consumed for 1s' "$T/watch"
check "a consumer that drains it makes it ok" sh -c 'tail -n 1 "$1" | grep -q "Q mail ok 0 "' _ "$T/watch"
# Its changes are in the timeline, and only its changes: the 2 s it held
# 5 (ten cycles) are the first sample and the stall, no more.
check "the timeline keeps the queue's changes, not every cycle" test "$(sqlite3 "$T/samples.db" "SELECT sum(state = 'stalled') > 0 AND max(value) = 5 AND min(value) = 0 AND sum(value = 5) BETWEEN 2 AND 3 FROM samples WHERE subject = 'mail'")" = 1
redis-cli -p "$REDIS_PORT" rpush queues:default j6 >/dev/null
redis-cli -p "$REDIS_PORT" set queues:default:paused 1 >/dev/null
run --config "$T/mail.lua" status --json
check "a paused key makes it paused" sh -c 'printf "%s" "$1" | grep -q "\"state\":\"paused\""' _ "$out"
redis-cli -p "$REDIS_PORT" del queues:default:paused >/dev/null

# --- without a key, the usual layouts: queues:NAME, then queue:NAME ------
redis-cli -p "$REDIS_PORT" rpush queue:orders o1 o2 o3 >/dev/null
redis-cli -p "$REDIS_PORT" zadd queues:emails 1 e1 2 e2 >/dev/null
cat > "$T/layouts.lua" <<LUA
queue "orders" { redis = { url = "$REDIS_URL" } }
queue "emails" { redis = { url = "$REDIS_URL" } }
LUA
run --config "$T/layouts.lua" status --json
check "queue:NAME and queues:NAME (a sorted set) are found without a key" python3 -c "
import json, sys
q = {x['name']: x for x in json.loads(sys.argv[1])['queues']}
assert q['orders']['depth'] == 3 and q['emails']['depth'] == 2, q
" "$out"

# --- faults: every bad endpoint ends at its deadline or cap ---------------
cat > "$T/faults.lua" <<LUA
service "hang" { unit = "idle.service", scope = "user", check = http { url = "$HTTP/fault/hang", timeout_ms = 1000 } }
service "trickle" { unit = "idle.service", scope = "user", check = http { url = "$HTTP/fault/trickle", timeout_ms = 1000 } }
service "huge" { unit = "idle.service", scope = "user", check = http { url = "$HTTP/fault/huge", timeout_ms = 5000 } }
service "loop" { unit = "idle.service", scope = "user", check = http { url = "$HTTP/fault/loop" } }
service "file" { unit = "idle.service", scope = "user", check = http { url = "$HTTP/fault/file" } }
service "refused" { unit = "idle.service", scope = "user", check = http { url = "http://127.0.0.1:1/" } }
LUA
t=$(date +%s%N)
run --config "$T/faults.lua" status --json
took=$(( ($(date +%s%N) - t) / 1000000 ))
printf '%s' "$out" > "$T/faults.json"
for pair in "hang|timed out after 1000 ms" "trickle|timed out after 1000 ms" \
    "huge|body over 1 MiB" "loop|too many redirects (more than 5)" \
    "file|redirect to a protocol other than http or https refused" \
    "refused|connection refused"; do
	name=${pair%%|*}; want=${pair#*|}
	check "fault $name: $want" python3 -c "
import json, sys
s = {x['name']: x for x in json.load(open('$T/faults.json'))['services']}
assert s['$name']['reason'] == '$want', s['$name']
assert s['$name']['flags'] == ['unhealthy'], s['$name']
"
done
check "all six faults together took ${took} ms (deadline 1 s, cap 5 s)" test "$took" -lt 4000

# --- Redis frozen with SIGSTOP: stale, and nothing else slows down ---------
cat > "$T/frozen.lua" <<LUA
service "inbox" { unit = "idle.service", scope = "user", check = http { url = "$HTTP/api/inbox/joe" } }
queue "mail" { redis = { url = "$REDIS_URL", key = "queues:default" } }
LUA
redis_pid=$(redis-cli -p "$REDIS_PORT" info server | sed -n 's/^process_id:\([0-9]*\).*/\1/p')
kill -STOP "$redis_pid"
t=$(date +%s%N)
run --config "$T/frozen.lua" status --json
took=$(( ($(date +%s%N) - t) / 1000000 ))
kill -CONT "$redis_pid"
check "a frozen Redis makes its queue stale" sh -c 'printf "%s" "$1" | grep -q "\"flags\":\[\"stale\"\]"' _ "$out"
check "the endpoint check next to it is still ok" sh -c 'printf "%s" "$1" | grep -q "\"health\":\"ok\""' _ "$out"
# Without the deadline it would wait for the frozen server forever; the
# bound leaves room for a loaded machine.
check "status still ends in ${took} ms (Redis deadline 1 s)" test "$took" -lt 4000

# --- a command that prints the depth --------------------------------------
cat > "$T/cmd.lua" <<LUA
queue "jobs" { command = { argv = { "/bin/sh", "-c", "echo 42" } }, warn = 10 }
queue "hung" { command = { argv = { "/bin/sleep", "30" }, timeout_ms = 500 } }
queue "broken" { command = { argv = { "/bin/sh", "-c", "echo oops; exit 3" } } }
LUA
t=$(date +%s%N)
run --config "$T/cmd.lua" status --json
took=$(( ($(date +%s%N) - t) / 1000000 ))
printf '%s' "$out" > "$T/cmd.json"
check "a command's number is the depth (42, warn at 10)" python3 -c "
import json
q = {x['name']: x for x in json.load(open('$T/cmd.json'))['queues']}
assert q['jobs']['depth'] == 42 and q['jobs']['state'] == 'warn', q['jobs']
assert q['jobs']['source'] == 'command', q['jobs']
"
check "a hung command ends at its timeout" python3 -c "
import json
q = {x['name']: x for x in json.load(open('$T/cmd.json'))['queues']}
assert 'timed out after 500 ms' in q['hung']['reason'], q['hung']
assert 'stale' in q['hung']['flags'], q['hung']
"
check "a failing command says how it failed" python3 -c "
import json
q = {x['name']: x for x in json.load(open('$T/cmd.json'))['queues']}
assert 'exited with status 3' in q['broken']['reason'], q['broken']
"
check "status did not wait for the hung command past its timeout (${took} ms)" test "$took" -lt 2500
check "the hung command's process group is gone" sh -c '! pgrep -f "^/bin/sleep 30$" >/dev/null'

# --- no config: the manager's failed units and running services ----------
run status --json
check "without a config: failed units and running services are shown" sh -c 'printf "%s" "$1" | python3 -c "
import json, sys
names = [s[\"name\"] for s in json.load(sys.stdin)[\"services\"]]
assert \"message-bus.service\" in names and \"idle.service\" in names, names
"' _ "$out"
done_testing
