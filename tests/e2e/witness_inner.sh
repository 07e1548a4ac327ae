#!/bin/sh
# The chain's head, witnessed in the journal: runs inside tests/sandbox
# with --journal (through in_sandbox.sh), whose journald is the sandbox's
# own, so nothing reaches the host's journal.  Deleting the newest events
# and rewriting the head row leaves a valid, shorter chain that the chain
# alone cannot tell from the real one; the witness can.  Prints TAP.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../cli/tap.sh"
if [ -z "${LOOKOUT_SANDBOX_JOURNAL:-}" ]; then
	skip "the sandbox runs no journald (sandbox.sh --journal)"
	done_testing
	exit 0
fi
# The suite turns the witness off everywhere else (tests/meson.build).
export LOOKOUT_WITNESS=journal
export LOOKOUT_DB="$T/timeline.db"
L=$LOOKOUT

# witnessed SEQ: the journal holds a witness of this timeline at SEQ,
# waiting up to 10 s for journald to write it.
witnessed() {
	for _ in $(seq 100); do
		journalctl --no-pager -o verbose \
		    LOOKOUT_TIMELINE="$(realpath "$LOOKOUT_DB")" 2>/dev/null |
		    grep -q "^ *LOOKOUT_HEAD_SEQ=$1\$" && return 0
		sleep 0.1
	done
	return 1
}
note() { "$L" incident note 1 "$1" >/dev/null; }

id=$("$L" incident open "mail stopped" --severity P2)
check "opening an incident (a milestone) is witnessed" witnessed 1
note "workers fail on a deleted release directory"
note "queue paused"
check "a command that appended is witnessed when it exits" witnessed 3
"$L" incident ack "$id" >/dev/null
check "an acknowledgement (a milestone) is witnessed" witnessed 4
run verify
if [ "$rc" -eq 0 ] && printf '%s\n' "$out" |
    grep -Eq '^witness: the journal witnessed event 4 \(at [0-9-]+T[0-9:.]+Z\); 0 events follow it$'; then
	ok "verify finds the witnessed head, nothing after it"
else
	fail "verify finds the witnessed head, nothing after it" "exit $rc" "$out" "$err"
fi
first=$(sqlite3 "$LOOKOUT_DB" "SELECT hash FROM events WHERE seq = 1")
check "the witness names the timeline by its first event's hash too" sh -c \
	'journalctl --no-pager -o verbose LOOKOUT_TIMELINE_ID="$1" | grep -q "LOOKOUT_HEAD_SEQ=4"' _ "$first"

# Events appended without a witness follow the last one.
LOOKOUT_WITNESS=off note "two more"
LOOKOUT_WITNESS=off note "unwitnessed"
run verify
check "verify says how many events follow the witnessed head" sh -c \
	'[ "$1" -eq 0 ] && printf "%s\n" "$2" | grep -q "witnessed event 4 (at .*); 2 events follow it$"' _ "$rc" "$out"
note "witnessed again"
check "the next command's exit witnesses the new head" witnessed 7
cp "$LOOKOUT_DB" "$T/before-truncation.db"

# Truncation: the last two events deleted, the head row rewritten to the
# event before them.  The chain alone still holds.
truncate_tail() {
	sqlite3 "$1" "DELETE FROM events WHERE seq > 5;
	    UPDATE chain_head SET seq = 5, hash = (SELECT hash FROM events WHERE seq = 5)"
}
truncate_tail "$LOOKOUT_DB"
run verify
if [ "$rc" -eq 1 ] &&
    printf '%s\n' "$out" | grep -Eq '^BROKEN: the journal witnessed event 7 \(hash [0-9a-f]{12}, at .*\) but the chain ends at event 5: the witnessed head is missing, events were removed from its end$' &&
    printf '%s\n' "$err" | grep -q 'witnessed head is missing'; then
	ok "verify finds the truncated tail: the witnessed head is missing (exit 1)"
else
	fail "verify finds the truncated tail: the witnessed head is missing (exit 1)" "exit $rc" "$out" "$err"
fi

# A file replaced under the same path: another chain, as long or longer.
mv "$LOOKOUT_DB" "$T/truncated.db"
rm -f "$LOOKOUT_DB-wal" "$LOOKOUT_DB-shm"
for i in 1 2 3 4 5 6 7 8; do
	LOOKOUT_WITNESS=off "$L" incident open "other $i" >/dev/null
done
run verify
check "a timeline rewritten under the same path does not match its witness" sh -c \
	'[ "$1" -eq 1 ] && printf "%s\n" "$2" | grep -q "^BROKEN: event 7 is not the one the journal witnessed (hash [0-9a-f]*, at .*): the chain was rewritten$"' _ "$rc" "$out"

# Without a journal to read, verify says so and checks the chain alone.
nojournal() {
	unshare -m sh -c '
		mount -t tmpfs tmpfs /run/log/journal || exit 77
		if [ -d /var/log/journal ]; then mount -t tmpfs tmpfs /var/log/journal; fi
		exec "$@"' sh "$L" "$@"
}
cp "$T/before-truncation.db" "$LOOKOUT_DB"
set +e
nojournal verify >"$T/out" 2>"$T/err"
rc=$?
set -e
if [ "$rc" -eq 77 ]; then
	skip "cannot hide the sandbox's journal (no mount namespace)"
else
	check "without a journal, verify says so and the chain holds (exit 0)" sh -c \
		'[ "$1" -eq 0 ] && grep -q "^witness: the journal holds nothing this user can read: the chain alone was checked$" "$2"' _ "$rc" "$T/out"
	sqlite3 "$LOOKOUT_DB" "UPDATE events SET message = 'all fine' WHERE seq = 3"
	set +e
	nojournal verify >"$T/out" 2>"$T/err"
	rc=$?
	set -e
	check "and still finds an edited event (exit 1)" sh -c \
		'[ "$1" -eq 1 ] && grep -q "^BROKEN: event 3 was edited" "$2"' _ "$rc" "$T/out"
fi
done_testing
