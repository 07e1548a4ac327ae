#!/bin/sh
# lookout watch end to end, inside tests/sandbox --redis --journal (through
# in_sandbox.sh): the watcher runs as a systemd --user service made from the
# shipped unit (Type=notify, a watchdog), and each failure mode of the seeds
# becomes an incident, with its evidence, without anyone typing anything:
# a process killed, an endpoint answering 404 with an empty body, a worker
# in a deleted directory, a Redis queue filling with no consumer, a paused
# queue, a Python service dying at start on a NameError.  Then recovery:
# mitigated, then resolved after resolve_after.  Prints TAP; latencies as
# comments.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../cli/tap.sh"
. "$here/watch_lib.sh"
need_journal
start_httpd
producer=''
trap 'kill $httpd $producer 2>/dev/null || :; rm -rf "$T"' EXIT
R="redis-cli -p $REDIS_PORT"

# --- the services and queues ------------------------------------------------
mkdir -p "$T/releases/65" "$T/releases/66"
unit bus.service "[Service]" "ExecStart=/bin/sleep 1000"
unit api.service "[Service]" "ExecStart=/bin/sleep 1000"
# Seed 001: a worker in a release directory that a deploy deletes.
unit worker.service "[Service]" "WorkingDirectory=$T/current" "ExecStart=/bin/sleep 1000"
ln -sfn "$T/releases/65" "$T/current"
# Seed 000: dies at start-up on a missing import.  journald 252 names the
# unit of a stream from its writer's /proc when it reads the first line,
# so the script writes one and waits a moment before it dies: the
# traceback is then attributed to the unit, as on a host where the process
# lives a little longer (tests/tui/console_inner.sh's crashbus does too).
unit crashbus.service "[Service]" "ExecStart=/usr/bin/python3 -c \"import time; print('crashbus: starting', flush=True); time.sleep(1.2); queue.Queue()\""
# A restart loop: up 0.3 s, down, restarted 0.2 s later, for ever.
unit flapper.service "[Unit]" "StartLimitIntervalSec=0" "[Service]" \
    "ExecStart=/bin/sh -c 'sleep 0.3; exit 1'" "Restart=always" "RestartSec=200ms"
# Active, but will not come back after a reboot.
unit idle.service "[Service]" "ExecStart=/bin/sleep 1000" "[Install]" "WantedBy=default.target"
cat >"$T/lookout.lua" <<LUA
interval = "1s"
resolve_after = "3s"
service "bus" { unit = "bus.service", scope = "user" }
service "api" { unit = "api.service", scope = "user",
  check = http { url = "$HTTP/switch/api", status = 200, json = true },
  watch = { unhealthy_after = 1, severity = "P1" } }
service "worker" { unit = "worker.service", scope = "user" }
service "crashbus" { unit = "crashbus.service", scope = "user" }
service "flapper" { unit = "flapper.service", scope = "user",
  watch = { restarts = 3, restart_window = "1m" } }
service "idle" { unit = "idle.service", scope = "user" }
queue "mail" { redis = { url = "$REDIS_URL", key = "queues:mail" },
  stall_after = "2s" }
queue "jobs" { redis = { url = "$REDIS_URL", key = "queues:jobs",
  paused_key = "queues:jobs:paused" }, stall_after = "10m",
  watch = { paused_after = "1s" } }
LUA
$R rpush queues:jobs j1 j2 >/dev/null
watch_unit
systemctl --user start bus.service api.service worker.service idle.service
wait_until 5 sh -c '[ "$(readlink /proc/$(systemctl --user show -p MainPID --value worker.service)/cwd)" = "$1" ]' _ "$T/releases/65" || :

# --- it starts, says so, and is seen ----------------------------------------
t0=$(now_ms)
systemctl --user start lookout-watch.service
echo "# READY came $(($(now_ms) - t0)) ms after the start"
check "the watcher starts as a Type=notify service (READY after its first cycle)" \
    test "$(watch_prop ActiveState)" = active
check "its STATUS says what it watches" sh -c \
    'systemctl --user show -p StatusText --value lookout-watch.service | grep -qx "watching 6 services, 2 queues; 0 incidents open"'
run status
check "lookout status shows the watcher running and its last cycle" sh -c \
    'printf "%s\n" "$1" | tail -n 1 | grep -Eq "^watch: running, watch@.*\[[0-9]+\] ended its last cycle [0-9]+(ms|s) ago$"' _ "$out"
run status --json
check "and status --json too" python3 -c "
import json, sys
w = json.loads(sys.argv[1])['watch']
assert w['running'] is True and w['who'].startswith('watch@') and w['last_cycle'], w
" "$out"
check "a healthy start opens nothing" test "$(incidents)" = 0

# --- not enabled: a warning, not an incident ----------------------------------
check "an active unit that is not enabled is a warning event" wait_until 5 \
    sh -c '[ -n "$(sqlite3 "$1" "SELECT seq FROM events WHERE kind = '"'watch.warning'"' AND subject = '"'idle'"' AND message LIKE '"'not-enabled:%'"'")" ]' _ "$DB"
check "and no incident" test -z "$(incident_of idle)"

# --- seed 000, first half: a process killed -----------------------------------
pid=$(systemctl --user show -p MainPID --value bus.service)
t0=$(now_ms)
kill -KILL "$pid"
await_incident bus 10 "$t0" "killed bus.service" || :
check "a killed process is an incident within 2 s (signals, not the next poll: ${ms:-no} ms)" \
    test "${ms:-99999}" -le 2000
bus=$(incident_of bus)
check "detected is the first failing sample, not when it was written" python3 -c "
import json, subprocess, sys
from datetime import datetime
j = json.loads(subprocess.check_output([sys.argv[1], 'export', sys.argv[2], '--format', 'json']))
inc = j['incident']
ts = lambda s: datetime.strptime(s, '%Y-%m-%dT%H:%M:%S.%f%z').timestamp() * 1000
d = ts(inc['milestones']['detected'])
assert int(sys.argv[3]) - 50 <= d <= ts(inc['opened_at']), (d, inc)
assert 'detected' in inc['inferred'] and inc['severity'] == 'P2', inc
" "$LOOKOUT" "$bus" "$t0"
check "its state change is in the incident" wait_until 5 \
    has_event state.change "$bus" 'active/running -> failed/failed%'
check "and the reason, as evidence" has_event incident.evidence "$bus" 'down: failed: signal%'

# Acknowledged: the first thing a person does on it.
"$LOOKOUT" incident note "$bus" "looking at it" >/dev/null
check "a person's note acknowledges it (inferred)" wait_until 5 status_is "$bus" acknowledged

# --- seed 000, second half: 404 with an empty body ------------------------------
curl -fsS -o /dev/null "$HTTP/switch/api/break"
t0=$(now_ms)
await_incident api 10 "$t0" "api answers 404 (interval 1 s)" || :
check "an endpoint answering 404 is an incident within one interval + 1 s (${ms:-no} ms)" \
    test "${ms:-99999}" -le 2000
api=$(incident_of api)
check "with the configured severity" test "$(sql "SELECT json_extract(data, '\$.severity') FROM events WHERE kind = 'incident.opened' AND incident_id = $api")" = P1
check "the failing check's reason is in the evidence" \
    has_event incident.evidence "$api" '%HTTP 404 with an empty body (expected 200)%'

# --- recovery: mitigated when it passes, resolved after resolve_after -----------
t0=$(now_ms)
curl -fsS -o /dev/null "$HTTP/switch/api/fix"
check "fixed: mitigated (the checks pass again)" wait_until 5 status_is "$api" mitigated resolved
check "then resolved once they have passed for resolve_after (3 s)" wait_until 10 status_is "$api" resolved
echo "# api: resolved $(($(now_ms) - t0)) ms after the fix"
check "both inferred, resolved 3 s after mitigated" python3 -c "
import json, subprocess, sys
from datetime import datetime
inc = json.loads(subprocess.check_output([sys.argv[1], 'export', sys.argv[2], '--format', 'json']))['incident']
ts = lambda s: datetime.strptime(s, '%Y-%m-%dT%H:%M:%S.%f%z').timestamp() * 1000
m, r = ts(inc['milestones']['mitigated']), ts(inc['milestones']['resolved'])
assert 'mitigated' in inc['inferred'] and 'resolved' in inc['inferred'], inc
assert m >= int(sys.argv[3]) and abs(r - m - 3000) < 50, (m, r)
" "$LOOKOUT" "$api" "$t0"

# --- seed 001: a worker running from a deleted directory -------------------------
ln -sfn "$T/releases/66" "$T/current"
rm -rf "$T/releases/65"
t0=$(now_ms)
check "a worker whose directory was deleted is an incident, while systemd says active" \
    await_incident worker 10 "$t0" "worker's directory deleted"
check "the evidence names the process and its deleted directory" \
    has_event incident.evidence "$(incident_of worker)" "deleted:%cwd $T/releases/65 (deleted)%"

# --- seed 001: a queue filling with no consumer ------------------------------------
(while :; do $R rpush queues:mail m >/dev/null; sleep 0.3; done) & producer=$!
t0=$(now_ms)
check "a Redis queue filling with no consumer is an incident after stall_after" \
    await_incident mail 15 "$t0" "mail filling with no consumer (stall_after 2 s)"
kill $producer 2>/dev/null || :
producer=''
check "its evidence says none were consumed, with the depths" \
    has_event incident.evidence "$(incident_of mail)" 'stalled: % waiting, none consumed for %depths, oldest first:%'

# --- seed 001: a paused queue --------------------------------------------------------
$R set queues:jobs:paused 1 >/dev/null
t0=$(now_ms)
check "a paused queue is an incident after paused_after" \
    await_incident jobs 10 "$t0" "jobs paused (paused_after 1 s)"

# --- seed 000: a Python service dying at start-up ---------------------------------
systemctl --user start crashbus.service
check "a service dying at start-up is an incident" wait_until 15 has_incident crashbus
crash=$(incident_of crashbus)
check "its journal's NameError is in the incident's events" wait_until 10 \
    has_event incident.evidence "$crash" "journal of crashbus.service%NameError: name ''queue'' is not defined%"
run export "${crash:-0}"
check "and in the markdown postmortem, nobody having typed it" sh -c \
    'printf "%s\n" "$1" | grep -q "^    .*NameError: name '"'queue'"' is not defined$"' _ "$out"

# --- a restart loop is one incident -----------------------------------------------------
t0=$(now_ms)
systemctl --user start flapper.service
check "a restart loop is an incident" wait_until 15 has_incident flapper
sleep 4
flap=$(incident_of flapper)
secs=$((($(now_ms) - t0) / 1000))
restarts=$(systemctl --user show -p NRestarts --value flapper.service)
changes=$(sql "SELECT count(*) FROM events WHERE kind = 'state.change' AND subject = 'flapper'")
echo "# flapper: $restarts restarts in ${secs}s, $changes state.change events, incidents: $(sql "SELECT count(*) FROM events WHERE kind = 'incident.opened' AND data LIKE '%\"flapper\"%'")"
check "one incident for the whole loop ($restarts restarts)" test "$(sql "SELECT count(*) FROM events WHERE kind = 'incident.opened' AND data LIKE '%\"flapper\"%'")" = 1
check "opened by the restarting rule" has_event incident.evidence "$flap" 'restarting:%'
check "its flapping is one state change per interval at most, each with a count ($changes in ${secs}s)" \
    sh -c '[ "$1" -le $(($2 + 1)) ] && [ -n "$(sqlite3 "$3" "SELECT seq FROM events WHERE kind = '"'state.change'"' AND subject = '"'flapper'"' AND json_extract(data, '"'\$.count'"') > 1")" ]' _ "$changes" "$secs" "$DB"
systemctl --user stop flapper.service

# --- the log ---------------------------------------------------------------------------
watch_log >"$T/log"
check "the log has one line per incident at priority err (sd-daemon <3>)" sh -c \
    '[ "$(grep -c "^3 incident [0-9]* opened" "$1")" -eq "$2" ]' _ "$T/log" "$(incidents)"
check "state changes at notice (<5>)" grep -q "^5 bus: active/running -> failed/failed" "$T/log"

# --- a clean stop --------------------------------------------------------------------------
systemctl --user stop lookout-watch.service
check "SIGTERM: it stops cleanly, exit 0" test "$(watch_prop ExecMainStatus):$(watch_prop Result)" = "0:success"
run verify
check "the timeline's chain holds" test "$rc" -eq 0
done_testing
