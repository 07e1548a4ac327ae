#!/bin/sh
# The disk says EIO when the commit is fsynced.  This is the one fault the
# real thing cannot produce on demand, so strace injects it into the real
# binary's fsync/fdatasync calls.  The append must report failure, and must
# never print success.
set -eu
. "$(dirname "$0")/tap.sh"

if ! command -v strace >/dev/null 2>&1; then
	skip "strace is not installed"; skip "strace is not installed"
	skip "strace is not installed"; done_testing; exit 0
fi
if ! strace -f -qq -o /dev/null -e trace=none true 2>/dev/null; then
	skip "strace cannot trace here (ptrace refused)"
	skip "strace cannot trace here (ptrace refused)"
	skip "strace cannot trace here (ptrace refused)"
	done_testing; exit 0
fi
db="$T/eio.db"
id=$("$LOOKOUT" --db "$db" incident open "disk trouble")

inject() {
	when=$1; shift
	set +e
	# LeakSanitizer cannot run under ptrace; the other tests cover leaks.
	ASAN_OPTIONS=detect_leaks=0 strace -f -qq -o /dev/null -e trace=fsync,fdatasync \
	    -e inject=fsync,fdatasync:error=EIO"$when" \
	    "$LOOKOUT" --db "$db" "$@" >"$T/out" 2>"$T/err"
	rc=$?
	set -e
	out=$(cat "$T/out"); err=$(cat "$T/err")
}

# Every sync fails.
inject "" incident note "$id" "this note cannot be made durable"
if [ "$rc" -eq 2 ] && printf '%s' "$err" | grep -q 'i/o error' && [ -z "$out" ]; then
	ok "a failed fsync fails the append with an i/o error"
else
	fail "a failed fsync fails the append with an i/o error" "rc=$rc err=$err out=$out"
fi

# Only the first sync fails: the append's own commit.
inject ":when=1" incident open "this incident cannot be made durable"
if [ "$rc" -eq 2 ] && [ -z "$out" ]; then
	ok "incident open does not print an id it could not make durable"
else
	fail "incident open does not print an id it could not make durable" "rc=$rc err=$err out=$out"
fi

run --db "$db" verify
check "the timeline still verifies afterwards" test "$rc" -eq 0
done_testing
