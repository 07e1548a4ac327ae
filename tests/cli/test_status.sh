#!/bin/sh
# lookout status's table, with command queues (no systemd needed): it fits
# an 80-column terminal, whatever the length of a name, and every reason is
# there whole, on indented lines under its row.
set -eu
. "$(dirname "$0")/tap.sh"

long=a-queue-whose-name-is-far-too-long-for-its-column-in-the-table
cat > "$T/wide.lua" <<LUA
queue "$long" { command = { argv = { "/bin/sh", "-c", "exit 3" } } }
queue "jobs" { command = { argv = { "/bin/echo", "3" } }, warn = 1 }
queue "q-$long-and-then-some-more" { command = { argv = { "/bin/echo", "123456789012" } } }
LUA
run --config "$T/wide.lua" status --json
printf '%s' "$out" > "$T/wide.json"
run --config "$T/wide.lua" status
printf '%s\n' "$out" > "$T/wide.txt"
check "status exits 1: a queue is not answering" test "$rc" -eq 1
check "no line is over 80 columns" test -z "$(awk 'length > 80' "$T/wide.txt")"
check "a name too long for its column has a line of its own" sh -c \
    'grep -qx "$1" "$2" && grep -Eq "^ {21}command +\? +- +- +- unknown$" "$2"' \
    _ "$long" "$T/wide.txt"
check "a row in its columns, its reason indented under it" sh -c \
    'grep -A1 "^jobs " "$1" | tr "\n" "|" | grep -Eq "^jobs +command +3 +- +[0-9.-]+ +[0-9.-]+ warn\|    3 waiting \(warning at 1\)\|$"' \
    _ "$T/wide.txt"
check "every reason and every name is there whole" python3 -c "
import json, sys
j = json.load(open(sys.argv[1]))
flat = ''.join(open(sys.argv[2]).read().split())
qs = j['queues']
assert len(qs) == 3 and all(q['reason'] for q in qs[:2]), qs
for q in qs:
    for t in (q['name'], q['reason'] or ''):
        assert ''.join(t.split()) in flat, t
" "$T/wide.json" "$T/wide.txt"

# Whether a `lookout watch` keeps this timeline: its heartbeat.
cat > "$T/one.lua" <<LUA
queue "jobs" { command = { argv = { "/bin/echo", "0" } } }
LUA
run --config "$T/one.lua" status
check "no watcher ever: the last line says so" sh -c \
    'printf "%s\n" "$1" | tail -n 1 | grep -qx "watch: none on this timeline (see lookout watch)"' _ "$out"
run --config "$T/one.lua" status --json
check "and --json has \"watch\": null" sh -c 'printf "%s" "$1" | grep -q "\"watch\":null"' _ "$out"
sqlite3 "$LOOKOUT_DB" "INSERT INTO heartbeats(who, ts) VALUES ('watch@test[7]', $(date +%s%3N) - 3000)"
run --config "$T/one.lua" status
check "a watcher's heartbeat: running, and when its last cycle ended" sh -c \
    'printf "%s\n" "$1" | tail -n 1 | grep -Eqx "watch: running, watch@test\[7\] ended its last cycle [34]s ago"' _ "$out"
run --config "$T/one.lua" status --json
check "--json: running, who, last_cycle" python3 -c "
import json, sys
w = json.loads(sys.argv[1])['watch']
assert w['running'] is True and w['who'] == 'watch@test[7]' and w['last_cycle'].endswith('Z'), w
" "$out"
sqlite3 "$LOOKOUT_DB" "UPDATE heartbeats SET ts = ts - 600000"
run --config "$T/one.lua" status
check "a silent one: STOPPED" sh -c \
    'printf "%s\n" "$1" | tail -n 1 | grep -Eqx "watch: STOPPED, watch@test\[7\] ended its last cycle 10m ago"' _ "$out"
run --config "$T/one.lua" status --json
check "--json: running false" python3 -c "
import json, sys
assert json.loads(sys.argv[1])['watch']['running'] is False
" "$out"
done_testing
