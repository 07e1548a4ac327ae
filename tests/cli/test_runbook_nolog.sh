#!/bin/sh
# An action that cannot be logged is not taken.  The timeline's disk fills
# up (a real 1 MiB tmpfs, filled with dd) while a step runs: the outcome
# cannot be recorded, so the run stops there, says which outcome is
# missing, and the next step's action never runs.
set -eu
. "$(dirname "$0")/tap.sh"

if [ "$(id -u)" -ne 0 ] || ! command -v unshare >/dev/null 2>&1; then
	skip "needs root and unshare for a private tmpfs"; done_testing; exit 0
fi
mkdir -p "$T/books" "$T/small"
cat > "$T/books/two-steps.lua" <<LUA
return runbook {
  name = "two-steps",
  step "first" { function(p) return sh { "/bin/sh", "-c", "sleep 1; touch $T/first-done" } end },
  step "second" { function(p) return sh { "/bin/touch", "$T/second-done" } end },
}
LUA
set +e
unshare -m --propagation private sh -c '
	mount -t tmpfs -o size=1m,mode=0700 tmpfs "$1/small" || exit 77
	LOOKOUT_RUNBOOK_PATH="$1/books" "$2" --db "$1/small/t.db" run two-steps --yes 2>"$1/err" &
	pid=$!
	sleep 0.5
	dd if=/dev/zero of="$1/small/fill" bs=4k count=1000 2>/dev/null
	wait $pid
	echo $? > "$1/rc"
	rm -f "$1/small/fill"
	"$2" --db "$1/small/t.db" verify > "$1/verify" 2>&1
	echo $? > "$1/vrc"
' _ "$T" "$LOOKOUT"
urc=$?
set -e
if [ $urc -eq 77 ]; then
	skip "cannot mount a tmpfs here"; done_testing; exit 0
fi
check "the first step's action ran" test -e "$T/first-done"
check "the run stops with exit 1" test "$(cat "$T/rc")" = 1
check "it says the timeline cannot be written (disk full)" grep -q "the timeline cannot be written (.*disk full" "$T/err"
check "and which outcome is not recorded" grep -q "the outcome of sh .* is not recorded" "$T/err"
check "the second step's action was never taken" test ! -e "$T/second-done"
check "what was recorded still verifies" test "$(cat "$T/vrc")" = 0
done_testing
