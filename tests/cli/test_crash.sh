#!/bin/sh
# kill -9 a writer at random moments, many times: every append it reported
# as done must be there, the chain must verify and SQLite must find the file
# intact.  The appender prints a sequence number only after store_append()
# returned for it.
set -eu
. "$(dirname "$0")/tap.sh"

: "${APPENDER:?APPENDER must point at the appender test helper}"
rounds=${CRASH_ROUNDS:-60}
db="$T/crash.db"
bad=0
acked=0
for i in $(seq 1 "$rounds"); do
	"$APPENDER" "$db" 1000000 "round$i" >"$T/acked" 2>"$T/appender.err" &
	pid=$!
	# 0 to ~199 ms: sometimes before the first append, mostly mid-stream.
	sleep "0.$(printf '%03d' $(( $(od -An -N2 -tu2 /dev/urandom) % 200 )))"
	kill -9 "$pid"
	wait "$pid" 2>/dev/null || true
	# A line cut short by the kill was never a claim.
	last=$(grep -E '^[0-9]+$' "$T/acked" | tail -n 1 || true)
	[ -n "$last" ] || continue
	acked=$((acked + $(grep -cE '^[0-9]+$' "$T/acked")))
	have=$(sqlite3 "$db" "SELECT count(*) FROM events WHERE seq <= $last")
	if [ "$have" -lt "$last" ]; then
		bad=$((bad + 1))
		echo "# round $i: acknowledged up to $last, only $have present"
	fi
done
check "every acknowledged append survived $rounds kills ($acked appends)" test "$bad" -eq 0
run --db "$db" verify
check "the chain verifies after the kills" test "$rc" -eq 0
check "integrity_check is ok" test "$(sqlite3 "$db" 'PRAGMA integrity_check')" = ok
done_testing
