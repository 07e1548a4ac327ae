#!/bin/sh
# The command line contract of the timeline commands, through the real
# binary: output, exit codes, one-line errors, files left untouched.
set -eu
. "$(dirname "$0")/tap.sh"

L=$LOOKOUT
db="$T/a/b/c/timeline.db"

run --db "$db" incident open "message-bus down" --severity P2 --service message-bus
if [ "$rc" -eq 0 ] && [ "$out" = "1" ] && [ -z "$err" ]; then
	ok "incident open prints the id alone"
else
	fail "incident open prints the id alone" "rc=$rc out=$out err=$err"
fi
check "missing directories are created 0700" \
	test "$(stat -c %a "$T/a/b/c")" = 700
check "the timeline file is 0600" test "$(stat -c %a "$db")" = 600

run --db "$db" incident open disk full on the bastion
check "unquoted title words are joined" test "$out" = 2

SSH_CONNECTION="198.51.100.7 52144 10.0.0.1 22" \
	"$L" --db "$db" incident note 1 "NameError: name 'queue' is not defined"
"$L" --db "$db" incident ack 1 "paged by heartbeat"
"$L" --db "$db" incident mitigate 1
"$L" --db "$db" incident resolve 1 "started and enabled"

run --db "$db" incident list
check "list shows status and severity" sh -c \
	"printf '%s\n' \"\$1\" | grep -Eq '^1 +P2 +resolved .*message-bus down \[message-bus\]'" _ "$out"

run --db "$db" incident list --json
check "list --json is DESIGN's shape" sh -c "printf '%s' \"\$1\" | python3 -c '
import json, sys
a = json.load(sys.stdin)
assert [i[\"id\"] for i in a] == [2, 1], a
i = a[1]
assert set(i) == {\"id\", \"title\", \"severity\", \"status\", \"opened_at\", \"services\"}, i
assert i[\"status\"] == \"resolved\" and i[\"services\"] == [\"message-bus\"]
assert i[\"opened_at\"].endswith(\"Z\") and len(i[\"opened_at\"]) == 24
'" _ "$out"

run --db "$db" incident show 1
check "show lists the events in order" sh -c \
	"printf '%s\n' \"\$1\" | grep -c 'incident\.' | grep -qx 5" _ "$out"

run --db "$db" export 1 --format json
check "the SSH client address is the actor's origin" sh -c "printf '%s' \"\$1\" | python3 -c '
import json, sys
d = json.load(sys.stdin)
note = [e for e in d[\"events\"] if e[\"kind\"] == \"incident.note\"][0]
assert note[\"actor\"][\"from\"] == \"198.51.100.7\", note
assert d[\"incident\"][\"milestones\"][\"resolved\"]
'" _ "$out"

# A note typed in Latin-1 is kept; the JSON export stays JSON.
"$LOOKOUT" --db "$db" incident note 1 "$(printf 'caf\351 au lait')"
run --db "$db" export 1 --format json
check "text that is not UTF-8 exports as U+FFFD, in valid JSON" sh -c "printf '%s' \"\$1\" | python3 -c '
import json, sys
d = json.load(sys.stdin)
notes = [e[\"message\"] for e in d[\"events\"] if e[\"kind\"] == \"incident.note\"]
assert \"caf\ufffd au lait\" in notes, notes
'" _ "$out"

run --db "$db" export 1 -o "$T/pm.md"
check "export -o writes the file" grep -q '^## Root Cause$' "$T/pm.md"
check "the export file is private" test "$(stat -c %a "$T/pm.md")" = 600
check "export -o leaves no temporary file" \
	test "$(ls "$T" | grep -c '^pm\.md')" = 1

run --db "$db" verify
check "verify passes an untouched timeline" test "$rc" -eq 0

run --db "$db" incident open ""
expect_error "empty title" 2 '^lookout: incident title is empty$'
run --db "$db" incident open "   "
expect_error "blank title" 2 'incident title is empty'
run --db "$db" incident open x --severity P9
expect_error "bad severity" 2 'severity "P9" is not one of P1, P2, P3, P4'
run --db "$db" incident note 42 hello
expect_error "unknown incident id" 2 'incident 42: no such incident'
run --db "$db" incident note abc hello
expect_error "id that is not a number" 2 'incident id "abc" is not a positive number'
run --db "$db" incident resolve 1
expect_error "a milestone cannot repeat" 2 'incident 1 is already resolved'
"$L" --db "$db" incident resolve 2
run --db "$db" incident ack 2
expect_error "a milestone cannot go back" 2 'incident 2 is already resolved; it cannot go back to acknowledged'
run --db "$db" export 1 --format pdf
expect_error "unknown export format" 2 'export format "pdf" is not one of md, json, csv'
run --db "$db" frobnicate
expect_error "unknown command" 2 'unknown command "frobnicate"'

echo "this is a grocery list" > "$T/notes.txt"
chmod 600 "$T/notes.txt"
sum=$(sha256sum "$T/notes.txt")
run --db "$T/notes.txt" incident list
expect_error "a file that is not a database" 2 'not a lookout timeline'
check "that file is left untouched" test "$(sha256sum "$T/notes.txt")" = "$sum"

cp "$db" "$T/newer.db"
sqlite3 "$T/newer.db" "PRAGMA user_version = 42"
sum=$(sha256sum "$T/newer.db")
run --db "$T/newer.db" incident open "should not land"
expect_error "a newer schema is refused" 2 'schema version 42 is newer than this lookout understands'
check "the newer database is left untouched" test "$(sha256sum "$T/newer.db")" = "$sum"

run --db "$T/notes.txt/sub/timeline.db" incident list
expect_error "an unwritable path" 2 'not a directory'

# check: one line per problem.  A block whose body is not a table is one
# problem (not also "has no body"); an error() with a line break in it is
# one line; two problems are two lines.
checkfile() { printf "$1" > "$T/check.lua"; run check "$T/check.lua"; }
checkfile 'service "x" (5)\n'
expect_error "check: a body that is not a table is one problem, one line" 2 \
    "check.lua:1: service \"x\": expected a table \\{ ... \\} after the name, got number\$"
checkfile 'queue "q" "text"\n'
expect_error "check: the same for a queue" 2 'queue "q": expected a table'
checkfile 'error("first\\nsecond")\n'
expect_error "check: an error with a line break is one line" 2 'check.lua:1: first\\nsecond$'
checkfile 'interval = "zz"\nservice "x" { unit = 5 }\n'
check "check: two problems, two lines" test "$rc:$(printf '%s\n' "$err" | wc -l)" = "2:2"

# A parameter given twice: which one was meant is not for lookout to guess.
mkdir -p "$T/books"
printf 'return runbook { name = "echo", params = { x = { required = true }, xy = { default = "0" } },\n  step "s" { function(p) return sh { "/bin/touch", "%s/ran-" .. p.x } end } }\n' "$T" > "$T/books/echo.lua"
export LOOKOUT_RUNBOOK_PATH="$T/books"
run --db "$db" run echo x=1 x=2 --yes
expect_error "run: a parameter given twice is refused" 2 'parameter "x" is given more than once; give it once$'
check "and nothing ran" test -z "$(find "$T" -name 'ran-*')"
run --db "$db" run echo x=1 xy=2 --yes
check "a parameter whose name begins another's is not the same one" test "$rc" -eq 0 -a -e "$T/ran-1"

# Commands that only read, or need an incident or run recorded already,
# create nothing where there is no timeline.
for cmd in "incident show 1" "incident show 1 --json" "verify" "export 1" \
    "export 1 -o $T/pm-none.md" "incident note 1 x" "incident ack 1" "replay 1"; do
	# shellcheck disable=SC2086
	run --db "$T/none/timeline.db" $cmd
	expect_error "$cmd without a timeline: says so" 2 "^lookout: no timeline at $T/none/timeline.db\$"
done
for cmd in "incident list" "runs"; do
	# shellcheck disable=SC2086
	run --db "$T/none/timeline.db" $cmd
	check "$cmd without a timeline: an empty list that says why" sh -c \
	    '[ "$1" -eq 0 ] && [ -z "$3" ] && printf "%s" "$2" | grep -q "^no .*: no timeline at $4\$"' _ "$rc" "$out" "$err" "$T/none/timeline.db"
	run --db "$T/none/timeline.db" $cmd --json
	check "$cmd --json without a timeline: []" test "$rc:$out" = "0:[]"
done
check "none of them created the timeline, its directory or an export" \
    test ! -e "$T/none" -a ! -e "$T/pm-none.md"
done_testing
