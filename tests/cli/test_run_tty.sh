#!/bin/sh
# Confirmations and questions on a real terminal: lookout runs in a tmux
# pane, keys are typed with send-keys and the screen is read back with
# capture-pane.
set -eu
. "$(dirname "$0")/tap.sh"

if ! command -v tmux >/dev/null 2>&1; then
	skip "tmux is not installed"; done_testing; exit 0
fi
mkdir -p "$T/books"
cat > "$T/books/steps.lua" <<LUA
return runbook {
  name = "steps",
  step "one" { function(p) return sh { "/bin/touch", "$T/one" } end },
  step "two" { function(p) return sh { "/bin/touch", "$T/two" } end },
  step "flaky" { function(p)
    return sh { "/bin/sh", "-c", "test -e $T/fixed" }
  end },
  step "name it" { function(p)
    local who = ask("Who is on call?")
    note("on call: " .. who)
    return sh { "/bin/sh", "-c", 'printf "%s" "\$1" > "\$0"', "$T/who", who }
  end },
}
LUA
# Each run gets its own tmux server: a new session on the socket of a
# server that kill-server is still taking down fails with "server exited
# unexpectedly".
S1=lookout-tty-$$-1 S2=lookout-tty-$$-2 S=$S1
trap 'tmux -L "$S1" kill-server 2>/dev/null || :; tmux -L "$S2" kill-server 2>/dev/null || :; rm -rf "$T"' EXIT
start_run() {
	tmux -L "$S" new-session -d -x 150 -y 50 \
	    "env LOOKOUT_DB='$LOOKOUT_DB' LOOKOUT_RUNBOOK_PATH='$T/books' '$LOOKOUT' run steps; echo EXIT=\$? > '$T/rc'; sleep 30"
}
start_run
screen() { tmux -L "$S" capture-pane -p -J; }
# wait_for TEXT: until the screen shows TEXT (at most 10 s).
wait_for() {
	for i in $(seq 100); do
		screen | grep -qF -- "$1" && return 0
		sleep 0.1
	done
	echo "# screen never showed: $1"; screen | sed 's/^/# /'
	return 1
}
keys() { tmux -L "$S" send-keys "$@"; }

check "step one is shown with its action before it runs" wait_for 'sh ["/bin/touch","'"$T"'/one"]'
check "and the operator is asked" wait_for "Run this step? [y]es, [s]kip, [a]bort:"
check "nothing ran before the answer" test ! -e "$T/one"
keys y Enter
check "yes runs step one" sh -c 'for i in $(seq 50); do [ -e "$1/one" ] && exit 0; sleep 0.1; done; exit 1' _ "$T"
wait_for 'step 2/4 "two" will:' >/dev/null
keys s Enter
check "skip runs nothing for step two" sh -c 'sleep 0.5; [ ! -e "$1/two" ]' _ "$T"
wait_for 'step 3/4 "flaky" will:' >/dev/null
keys y Enter
check "the failure is offered a retry" wait_for "The step failed. [r]etry, [s]kip it and go on, or [a]bort?"
touch "$T/fixed"
keys r Enter
check "retry runs it again, and it passes" wait_for 'step 3 "flaky": ok'
wait_for 'step 4/4 "name it" will:' >/dev/null
keys y Enter
check "ask() prompts on the terminal" wait_for "Who is on call?"
keys "alice; rm -rf /" Enter
check "the answer reaches the step as one value" sh -c 'for i in $(seq 50); do [ "$(cat "$1/who" 2>/dev/null)" = "alice; rm -rf /" ] && exit 0; sleep 0.1; done; exit 1' _ "$T"
check "the run ends with exit 0" sh -c 'for i in $(seq 50); do [ "$(cat "$1/rc" 2>/dev/null)" = EXIT=0 ] && exit 0; sleep 0.1; done; exit 1' _ "$T"
check "the timeline has the skip, the failure and the retry" test "$(sqlite3 "$LOOKOUT_DB" "SELECT group_concat(subject || '=' || substr(message, 1, instr(message || ':', ':') - 1), ' ') FROM events WHERE kind = 'step.finished'")" = "one=ok two=skipped flaky=failed flaky=ok name it=ok"

# Abort, in a second run.
tmux -L "$S1" kill-server 2>/dev/null || true
rm -f "$T/rc"
S=$S2
start_run
wait_for "Run this step?" >/dev/null
keys a Enter
check "abort ends the run with exit 3" sh -c 'for i in $(seq 50); do [ "$(cat "$1/rc" 2>/dev/null)" = EXIT=3 ] && exit 0; sleep 0.1; done; exit 1' _ "$T"
done_testing
