#!/bin/sh
# Two processes append 1,000 events each at the same time: all 2,000 land,
# neither ever sees a busy error, and the chain holds.
set -eu
. "$(dirname "$0")/tap.sh"

: "${APPENDER:?APPENDER must point at the appender test helper}"
db="$T/shared.db"
"$LOOKOUT" --db "$db" incident open "two engineers, one bastion" >/dev/null
"$APPENDER" "$db" 1000 alice >"$T/a.out" 2>"$T/a.err" & a=$!
"$APPENDER" "$db" 1000 bob >"$T/b.out" 2>"$T/b.err" & b=$!
set +e
wait $a; ra=$?
wait $b; rb=$?
set -e
check "both writers finished without error" sh -c '[ "$1" -eq 0 ] && [ "$2" -eq 0 ] && [ ! -s "$3" ] && [ ! -s "$4" ]' _ "$ra" "$rb" "$T/a.err" "$T/b.err"
check "2,000 events landed (plus the incident)" test "$(sqlite3 "$db" "SELECT count(*) FROM events WHERE kind = 'test.append'")" = 2000
check "each writer's events are all there" test "$(sqlite3 "$db" "SELECT count(DISTINCT message) FROM events WHERE subject IN ('alice', 'bob')")" = 2000
check "the writers really interleaved" test "$(sqlite3 "$db" "SELECT count(*) FROM events a JOIN events b ON b.seq = a.seq + 1 WHERE a.subject != b.subject AND a.seq > 1")" -gt 1
run --db "$db" verify
check "the chain verifies" test "$rc" -eq 0
done_testing
