# Minimal TAP helpers for the shell tests.  Source it, call plan N, then
# ok/fail/skip per check.  Every test gets a private directory in $T that
# is removed on exit.

: "${LOOKOUT:?LOOKOUT must point at the lookout binary}"
T=$(mktemp -d /tmp/lookout-cli.XXXXXX)
trap 'rm -rf "$T"' EXIT
export LOOKOUT_DB="$T/default.db"
unset LOOKOUT_CONFIG SSH_CONNECTION
_tap_n=0

# The plan goes last, so scripts need not count their checks.
done_testing() { echo "1..$_tap_n"; }
ok() { _tap_n=$((_tap_n + 1)); echo "ok $_tap_n - $1"; }
fail() {
	_tap_n=$((_tap_n + 1)); echo "not ok $_tap_n - $1"
	shift
	for line in "$@"; do printf '%s\n' "$line" | sed 's/^/#   /'; done
}
skip() { _tap_n=$((_tap_n + 1)); echo "ok $_tap_n # SKIP $1"; }

# need_valgrind: skips the whole test (and exits) where valgrind cannot run
# this lookout: not installed, or a build with AddressSanitizer.
need_valgrind() {
	if ! command -v valgrind >/dev/null 2>&1; then
		skip "valgrind is not installed"; done_testing; exit 0
	fi
	if ldd "$LOOKOUT" 2>/dev/null | grep -q libasan; then
		skip "built with AddressSanitizer, which valgrind cannot run"
		done_testing; exit 0
	fi
}

# wait_until SECONDS COMMAND...: polls COMMAND (output dropped) every
# 50 ms until it succeeds (0) or SECONDS have passed (1).
wait_until() {
	_tries=$(($1 * 20))
	shift
	while [ "$_tries" -gt 0 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.05
		_tries=$((_tries - 1))
	done
	return 1
}

# check NAME COND...: runs the condition command, ok if it succeeds.
check() {
	name=$1; shift
	if "$@"; then ok "$name"; else fail "$name" "failed: $*"; fi
}

# run CMD...: runs lookout, capturing stdout, stderr and the exit status in
# $out, $err and $rc.
run() {
	set +e
	"$LOOKOUT" "$@" >"$T/out" 2>"$T/err"
	rc=$?
	set -e
	out=$(cat "$T/out")
	err=$(cat "$T/err")
}

# expect_error NAME STATUS PATTERN: the last run failed with STATUS, printed
# one line on stderr matching PATTERN (grep -E) and nothing on stdout.
expect_error() {
	lines=$(printf '%s\n' "$err" | grep -c . || true)
	if [ "$rc" -eq "$2" ] && [ "$lines" -eq 1 ] && [ -z "$out" ] &&
	    printf '%s' "$err" | grep -Eq -- "$3"; then
		ok "$1"
	else
		fail "$1" "exit $rc (want $2)" "stderr: $err" "stdout: $out"
	fi
}
