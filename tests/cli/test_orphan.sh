#!/bin/sh
# A command a runbook step runs has a deadline that holds without lookout:
# kill -9 lookout during sh { "/bin/sleep", ... } and the sleep is gone
# within two seconds (polled), instead of running its hour out with nobody
# left to time it out, cancel it or record what it did.
set -eu
. "$(dirname "$0")/tap.sh"

# An argument nothing else on the machine runs with.
secs=$((3600 + $$ % 1000))
mkdir -p "$T/books"
cat > "$T/books/sleeper.lua" <<LUA
return runbook { name = "sleeper",
  step "sleep" { function(p) return sh { "/bin/sleep", "$secs" } end } }
LUA
sleeper() { pgrep -x -f "/bin/sleep $secs" || :; }
LOOKOUT_RUNBOOK_PATH="$T/books" "$LOOKOUT" --db "$T/t.db" run sleeper --yes >/dev/null 2>&1 &
pid=$!
for i in $(seq 100); do [ -n "$(sleeper)" ] && break; sleep 0.1; done
child=$(sleeper)
check "the step's command is running" test -n "$child"
trap 'kill $child 2>/dev/null || :; rm -rf "$T"' EXIT
kill -9 "$pid"
wait "$pid" 2>/dev/null || :
for i in $(seq 20); do [ -z "$(sleeper)" ] && break; sleep 0.1; done
check "after kill -9 of lookout it is gone within 2 s" test -z "$(sleeper)"
check "and the timeline says the step started, outcome unknown" test \
    "$(sqlite3 "$T/t.db" "SELECT status FROM steps WHERE name = 'sleep'")" = started
done_testing
