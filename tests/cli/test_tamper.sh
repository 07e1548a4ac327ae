#!/bin/sh
# Someone edits the timeline with the sqlite3 shell: verify must fail and
# name the event, for an edit, a deletion and an out-of-order insert.
set -eu
. "$(dirname "$0")/tap.sh"

fresh() {
	db="$T/$1.db"
	id=$("$LOOKOUT" --db "$db" incident open "queue paused for six weeks")
	for i in 1 2 3 4 5; do "$LOOKOUT" --db "$db" incident note "$id" "note $i"; done
}

fresh edit
sqlite3 "$db" "UPDATE events SET message = 'all fine' WHERE seq = 4"
run --db "$db" verify
if [ "$rc" -eq 1 ] && printf '%s' "$out" | grep -q 'event 4 was edited' &&
    printf '%s' "$err" | grep -q 'event 4 was edited'; then
	ok "an edited row is named"
else
	fail "an edited row is named" "rc=$rc out=$out err=$err"
fi
run --db "$db" verify 1
check "verify ID also finds it" test "$rc" -eq 1

fresh delete
sqlite3 "$db" "DELETE FROM events WHERE seq = 3"
run --db "$db" verify
check "a deleted row is named" sh -c '[ "$1" -eq 1 ] && printf "%s" "$2" | grep -q "event 3 is missing"' _ "$rc" "$out"

fresh tail
sqlite3 "$db" "DELETE FROM events WHERE seq = 6"
run --db "$db" verify
check "a deleted last row is noticed" sh -c '[ "$1" -eq 1 ] && printf "%s" "$2" | grep -q "events 6 to 6 are missing"' _ "$rc" "$out"

fresh reorder
sqlite3 "$db" "UPDATE events SET ts = ts + 1, seq = 100 WHERE seq = 2; UPDATE events SET seq = 2 WHERE seq = 3; UPDATE events SET seq = 3 WHERE seq = 100"
run --db "$db" verify
check "swapped rows are caught" sh -c '[ "$1" -eq 1 ] && printf "%s" "$2" | grep -q "event 2"' _ "$rc" "$out"

fresh title
sqlite3 "$db" "UPDATE events SET message = 'minor blip' WHERE kind = 'incident.opened'"
run --db "$db" verify
check "an edited incident title is caught" sh -c '[ "$1" -eq 1 ] && printf "%s" "$2" | grep -q "event 1 was edited"' _ "$rc" "$out"

fresh clean
run --db "$db" verify
check "an untouched copy verifies" test "$rc" -eq 0
done_testing
