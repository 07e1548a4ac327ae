#!/bin/sh
# What replay and resume execute is what the hash chain vouches for.
# Someone with write access to the timeline edits a run's rows with the
# sqlite3 shell (its source, its SHA-256, its parameters, a step's status)
# so that replay or resume would run something else: both refuse, in one
# line naming the run and what differs, nothing runs, and verify names
# the run too.
set -eu
. "$(dirname "$0")/tap.sh"

mkdir -p "$T/books"
export LOOKOUT_RUNBOOK_PATH="$T/books"
cat > "$T/books/greet.lua" <<LUA
return runbook { name = "greet", params = { who = { default = "world" },
    fail = { default = "no" } },
  step "hello" { function(p) return sh { "/bin/echo", "hello", p.who } end },
  step "check" { function(p)
    if p.fail == "yes" then return false, "told to fail" end end },
  step "touch" { function(p) return sh { "/bin/touch", "$T/touched-" .. p.who } end },
}
LUA
sha() { printf '%s' "$1" | sha256sum | cut -d' ' -f1; }

# recorded DB ARGS...: a fresh timeline and a run of greet in it, whose
# own traces are then removed.
recorded() {
	export LOOKOUT_DB="$T/$1.db"
	shift
	run run greet "$@" --yes
	rm -f "$T"/touched-*
}

# expect_refused NAME WHAT: the last replay or resume refused with exit 2,
# one line naming run 1 and matching WHAT, and touched nothing.
expect_refused() {
	expect_error "$1" 2 "^lookout: run 1 cannot be (replayed|resumed): $2"
	check "$1: nothing ran" sh -c '! ls "$1"/touched-* >/dev/null 2>&1' _ "$T"
}

# expect_broken NAME WHAT: verify exits 1 naming run 1 and WHAT.
expect_broken() {
	run verify
	if [ "$rc" -eq 1 ] && printf '%s\n' "$out" | grep -Eq "^BROKEN: run 1 was edited: $2"; then
		ok "$1"
	else
		fail "$1" "exit $rc" "$out" "$err"
	fi
}

# --- replay ---------------------------------------------------------------
recorded source who=you
check "a run is recorded" test "$rc" -eq 0
evil=$(sqlite3 "$LOOKOUT_DB" "SELECT replace(source, 'touched-', 'pwned-') FROM runs WHERE id = 1")
sqlite3 "$LOOKOUT_DB" "UPDATE runs SET source = replace(source, 'touched-', 'pwned-') WHERE id = 1"
run replay 1 --yes
expect_refused "replay of an edited source" \
	'its recorded source is not the one its run.started event \(event 1\) vouches for \(sha256 [0-9a-f]{12}, not [0-9a-f]{12}\)$'
check "the edited source did not run" sh -c '! ls "$1"/pwned-* >/dev/null 2>&1' _ "$T"
expect_broken "verify names the run whose source was edited" 'its recorded source is not'

recorded sha who=you
sqlite3 "$LOOKOUT_DB" "UPDATE runs SET source = replace(source, 'touched-', 'pwned-'), source_sha256 = '$(sha "$evil")' WHERE id = 1"
run replay 1 --yes
expect_refused "replay of a source whose sha256 was edited to match" \
	'its recorded source is not the one its run.started event \(event 1\) vouches for'
expect_broken "verify names it too" 'its recorded source is not'

recorded params who=you
sqlite3 "$LOOKOUT_DB" "UPDATE runs SET params = '{\"fail\":\"no\",\"who\":\"them\"}' WHERE id = 1"
run replay 1 --yes
expect_refused "replay with edited parameters" \
	'its recorded parameters \{"fail":"no","who":"them"\} are not the \{"fail":"no","who":"you"\} its run.started event \(event 1\) vouches for$'
expect_broken "verify names the edited parameters" 'its recorded parameters'

# The untouched run replays as before.
recorded clean who=you
run replay 1 --yes
check "an untouched run replays" sh -c '[ "$1" -eq 0 ] && [ -e "$2/touched-you" ]' _ "$rc" "$T"
run verify
check "and verifies" test "$rc" -eq 0

# --- resume ---------------------------------------------------------------
# A run that stopped at its second step: resume starts there.
recorded resume who=you fail=yes
check "the run fails at its second step" test "$rc" -eq 1
# Its second step's row is made ok: resume would skip the check the run
# did not pass and touch what only a passed check may.
sqlite3 "$LOOKOUT_DB" "UPDATE steps SET status = 'ok' WHERE run_id = 1 AND idx = 1"
run run --resume 1 --yes
expect_refused "resume of a run whose step row was edited" \
	'step 2 is ok in its row, but failed in its last event \(event [0-9]+\)$'
expect_broken "verify names the edited step" 'step 2 is ok in its row'

recorded resume-sha who=you fail=yes
# The runbook is changed on disk (its check no longer fails) and the
# recorded sha256 made to match, which resume checks the file against.
cp "$T/books/greet.lua" "$T/greet.lua.orig"
sed -i 's/if p.fail == "yes"/if false/' "$T/books/greet.lua"
sqlite3 "$LOOKOUT_DB" "UPDATE runs SET source_sha256 = '$(sha "$(cat "$T/books/greet.lua")
")' WHERE id = 1"
run run --resume 1 --yes
expect_refused "resume against a sha256 edited to match a changed runbook" \
	'its recorded sha256 [0-9a-f]{12} is not the [0-9a-f]{12} its run.started event \(event 1\) vouches for$'
cp "$T/greet.lua.orig" "$T/books/greet.lua"

recorded status who=you fail=yes
sqlite3 "$LOOKOUT_DB" "UPDATE runs SET status = 'interrupted' WHERE id = 1"
expect_broken "verify names a run whose status was edited" \
	'its status "interrupted" is not the "failed" its last run event \(event [0-9]+\) says$'

done_testing
