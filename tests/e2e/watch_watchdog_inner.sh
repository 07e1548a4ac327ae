#!/bin/sh
# Watching the watcher, inside tests/sandbox --journal (through
# in_sandbox.sh): lookout watch as a systemd --user service with a short
# watchdog.  Its loop pings the watchdog; stopped (kill -STOP), it is
# restarted by systemd and watches again.  SIGHUP with a broken
# configuration: still watching with the old one, and the log says why;
# with a good one: the new one.  Prints TAP; the figures as comments.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../cli/tap.sh"
. "$here/watch_lib.sh"
need_journal
unit one.service "[Service]" "ExecStart=/bin/sleep 1000"
unit two.service "[Service]" "ExecStart=/bin/sleep 1000"
unit three.service "[Service]" "ExecStart=/bin/sleep 1000"
cat >"$T/lookout.lua" <<LUA
interval = "500ms"
service "one" { unit = "one.service", scope = "user" }
service "two" { unit = "two.service", scope = "user" }
LUA
watch_unit 2s
systemctl --user start one.service two.service three.service
systemctl --user start lookout-watch.service
pid=$(watch_prop MainPID)

# --- the loop pings the watchdog ----------------------------------------------
sleep 5
check "alive 5 s with WatchdogSec=2s: the loop pings the watchdog" \
    test "$(watch_prop MainPID):$(watch_prop NRestarts):$(watch_prop ActiveState)" = "$pid:0:active"

# --- a stuck loop is restarted ------------------------------------------------
t0=$(now_ms)
kill -STOP "$pid"
restarted() {
	_p=$(watch_prop MainPID)
	[ "$_p" != "$pid" ] && [ "$_p" != 0 ] && [ "$(watch_prop ActiveState)" = active ]
}
if wait_until 20 restarted; then
	echo "# kill -STOP: systemd's watchdog restarted it, ready again $(($(now_ms) - t0)) ms later (WatchdogSec=2s)"
	ok "a stopped watcher is restarted by systemd's watchdog"
else
	fail "a stopped watcher is restarted by systemd's watchdog" \
	    "MainPID $(watch_prop MainPID) NRestarts $(watch_prop NRestarts) $(watch_prop ActiveState)/$(watch_prop SubState)"
fi
check "once (NRestarts 1), after a watchdog timeout" \
    sh -c '[ "$(systemctl --user show -p NRestarts --value lookout-watch.service)" = 1 ] &&
    systemctl --user show -p Result --value lookout-watch.service | grep -q watchdog ||
    journalctl --no-pager 2>/dev/null | grep -q "lookout-watch.service: Watchdog timeout"'
kill -KILL "$pid" 2>/dev/null || :
pid=$(watch_prop MainPID)
beat_of() { [ -n "$(sql "SELECT who FROM heartbeats WHERE who LIKE '%[$1]'")" ]; }
check "the new one writes its heartbeat" wait_until 10 beat_of "$pid"

# --- SIGHUP with a broken configuration: the old one stays ------------------------
cp "$T/lookout.lua" "$T/good.lua"
cat >"$T/lookout.lua" <<'LUA'
interval = "500ms"
service "one" { unit = "one.service", scope = "user" }
service "two" { unit = "two.service", scop = "user" }
LUA
systemctl --user reload lookout-watch.service
log_has() { watch_log | grep -qxF "$1"; }
check "SIGHUP with a broken configuration: one line in the log says why (err)" wait_until 10 \
    log_has "3 configuration not reloaded, still watching with the one loaded before: $T/lookout.lua:3: service \"two\": unknown key \"scop\" (did you mean \"scope\"?)"
check "it was not restarted" test "$(watch_prop MainPID):$(watch_prop ActiveState)" = "$pid:active"
kill -KILL "$(systemctl --user show -p MainPID --value two.service)"
check "and still watches, with the configuration loaded before" wait_until 10 has_incident two

# --- SIGHUP with a good one ------------------------------------------------------------
cat "$T/good.lua" >"$T/lookout.lua"
echo 'service "three" { unit = "three.service", scope = "user" }' >>"$T/lookout.lua"
systemctl --user reload lookout-watch.service
check "SIGHUP with a good one: the new configuration" wait_until 10 sh -c \
    'systemctl --user show -p StatusText --value lookout-watch.service | grep -q "^watching 3 services, 0 queues; 1 incident open$"'
kill -KILL "$(systemctl --user show -p MainPID --value three.service)"
check "and the service it adds is watched" wait_until 10 has_incident three
check "the incident open before the reload is still followed" test "$(incidents)" = 2
systemctl --user start two.service
check "and mitigated when its service comes back" wait_until 10 status_is "$(incident_of two)" mitigated resolved

systemctl --user stop lookout-watch.service
check "SIGTERM: exit 0" test "$(watch_prop ExecMainStatus):$(watch_prop Result)" = "0:success"
done_testing
