#!/bin/sh
# lookout watch under valgrind, inside tests/sandbox --journal (through
# in_sandbox.sh): a short run that opens incidents (a kill, a failing
# check, a NameError at start-up read back from the journal), resolves
# one, reloads a broken and a good configuration, and stops on SIGTERM.
# No error, nothing lost.  Prints TAP.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../cli/tap.sh"
. "$here/watch_lib.sh"
need_valgrind
start_httpd
vg=''
trap 'kill $httpd $vg 2>/dev/null || :; rm -rf "$T"' EXIT
unit bus.service "[Service]" "ExecStart=/bin/sleep 1000"
unit api.service "[Service]" "ExecStart=/bin/sleep 1000"
# Its first line, then a moment, then the NameError: see watch_inner.sh.
unit crashbus.service "[Service]" "ExecStart=/usr/bin/python3 -c \"import time; print('crashbus: starting', flush=True); time.sleep(1.2); queue.Queue()\""
cat >"$T/lookout.lua" <<LUA
interval = "500ms"
resolve_after = "1s"
service "bus" { unit = "bus.service", scope = "user" }
service "api" { unit = "api.service", scope = "user",
  check = http { url = "$HTTP/switch/api", status = 200, json = true },
  watch = { unhealthy_after = 1 } }
service "crashbus" { unit = "crashbus.service", scope = "user" }
queue "jobs" { command = { argv = { "/bin/echo", "0" } } }
LUA
systemctl --user daemon-reload
systemctl --user start bus.service api.service
valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect \
    --error-exitcode=99 --log-file="$T/vg.log" \
    "$LOOKOUT" --db "$DB" --config "$T/lookout.lua" watch 2>"$T/watch.log" &
vg=$!
# Not before lookout made the file (sqlite3 would make it, mode 0644).
beating() { [ -s "$DB" ] && [ -n "$(sql "SELECT ts FROM heartbeats" 2>/dev/null)" ]; }
check "the watcher runs under valgrind (its heartbeat)" wait_until 60 beating
kill -KILL "$(systemctl --user show -p MainPID --value bus.service)"
check "a killed process: an incident" wait_until 60 has_incident bus
curl -fsS -o /dev/null "$HTTP/switch/api/break"
check "a failing check: an incident" wait_until 60 has_incident api
curl -fsS -o /dev/null "$HTTP/switch/api/fix"
check "fixed: resolved" wait_until 60 status_is "$(incident_of api)" resolved
systemctl --user start crashbus.service
check "a service dying at start-up: an incident" wait_until 60 has_incident crashbus
check "a NameError at start-up: read back from the journal as evidence" wait_until 60 \
    has_event incident.evidence "$(incident_of crashbus)" 'journal of crashbus.service%NameError%'
cp "$T/lookout.lua" "$T/good.lua"
echo 'service "x" {' >>"$T/lookout.lua"
kill -HUP "$vg"
check "SIGHUP, broken: not reloaded" wait_until 30 grep -q "configuration not reloaded" "$T/watch.log"
cp "$T/good.lua" "$T/lookout.lua"
kill -HUP "$vg"
check "SIGHUP, good: reloaded" wait_until 30 grep -q "configuration reloaded from" "$T/watch.log"
kill -TERM "$vg"
rc=0
wait "$vg" || rc=$?
vg=''
check "SIGTERM: valgrind found no error and no leak (exit $rc)" test "$rc" -eq 0
[ "$rc" -eq 0 ] || grep -v 'syscall: 434\|handler\|README_MISSING\|bug\|valgrind.org' "$T/vg.log" | head -80 | sed 's/^/# /'
done_testing
