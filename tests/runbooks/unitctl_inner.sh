#!/bin/sh
# runbooks/unitctl.c against a real systemd --user: runs inside tests/sandbox
# (through tests/e2e/in_sandbox.sh), drives $UNITCTL (test_unitctl.c) and
# prints TAP.  systemctl appears here only as the independent witness.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../cli/tap.sh"
: "${UNITCTL:?UNITCTL must point at the test_unitctl helper}"
U=$XDG_CONFIG_HOME/systemd/user
mkdir -p "$U"

unit() {
	name=$1; shift
	printf '%s\n' "$@" > "$U/$name"
}
unit up.service "[Service]" "ExecStart=/bin/sleep 1000"
# Type=simple: systemd calls the start job done as soon as it has forked.
unit crash.service "[Service]" "ExecStart=/bin/sh -c 'exit 1'"
unit oneshot-fail.service "[Service]" "Type=oneshot" "ExecStart=/bin/sh -c 'exit 3'"
unit slow.service "[Service]" "ExecStartPre=/bin/sleep 5" "ExecStart=/bin/sleep 1000"
unit installable.service "[Service]" "ExecStart=/bin/sleep 1000" \
    "[Install]" "WantedBy=default.target"
unit noinstall.service "[Service]" "ExecStart=/bin/sleep 1000"
unit reloadable.service "[Service]" "ExecStart=/bin/sleep 1000" "ExecReload=/bin/true"
for x in a b c; do
	unit "par-$x.service" "[Service]" "ExecStart=/bin/sleep 1000"
done
systemctl --user daemon-reload

# uc ARGS...: runs the helper; $out holds its output, $rc its status.
uc() {
	set +e
	"$UNITCTL" "$@" >"$T/out" 2>"$T/err"
	rc=$?
	set -e
	out=$(cat "$T/out" "$T/err")
	if [ "$rc" -ne 0 ]; then
		bad_runs="$bad_runs
$* (exit $rc): $(tail -n 5 "$T/err")"
	fi
}
bad_runs=
# res OP UNIT: the result line for OP on UNIT from the last run.
res() { printf '%s\n' "$out" | grep "^result op=$1 unit=$2 " | head -n 1; }
# field LINE NAME: one key=value field of a result or summary line.
field() { printf '%s\n' "$1" | sed -n "s/.* $2=\([^ ]*\).*/\1/p"; }
reason() { printf '%s\n' "$1" | sed -n 's/.* reason=//p'; }
# expect NAME LINE CONDITION...: a check that shows the line when it fails.
expect() {
	name=$1 line=$2; shift 2
	if "$@"; then ok "$name"; else fail "$name" "$line" "$out"; fi
}
sane() {
	summary=$(printf '%s\n' "$out" | grep '^summary ')
	[ "$rc" -eq 0 ] && [ "$(field "$summary" reentrant)" = 0 ] &&
	    [ "$(field "$summary" pending)" = 0 ] &&
	    ! printf '%s\n' "$out" | grep -q '^bug:'
}

# --- start ----------------------------------------------------------------
uc start up.service
r=$(res start up.service)
pid1=$(field "$r" main_pid)
expect "start of a stopped unit: ok, active (running), with a main PID" "$r" \
    sh -c '[ "$1" = 1 ] && [ "$2" = done ] && [ "$3" = active ] && [ "$4" = running ] && [ "$5" -gt 0 ]' _ \
    "$(field "$r" ok)" "$(field "$r" job)" "$(field "$r" active)" "$(field "$r" sub)" "$pid1"
expect "the main PID is systemd's" "$r" \
    test "$pid1" = "$(systemctl --user show -p MainPID --value up.service)"
expect "the callback came from the loop, never from inside unitctl_run" "$out" sane

uc start crash.service
r=$(res start crash.service)
expect "start of a unit that exits 1 at once: not ok, naming the exit status" "$r" \
    sh -c '[ "$1" = 0 ] && printf "%s" "$2" | grep -q "^start job done, but the unit .*(Result: exit-code, status 1)$"' _ \
    "$(field "$r" ok)" "$(reason "$r")"

uc start oneshot-fail.service
r=$(res start oneshot-fail.service)
expect "a failing oneshot: the job fails, with the status" "$r" \
    sh -c '[ "$1" = 0 ] && [ "$2" = failed ] && [ "$3" = "start job failed: the unit entered failed state (Result: exit-code, status 3)" ]' _ \
    "$(field "$r" ok)" "$(field "$r" job)" "$(reason "$r")"

uc start nosuch.service
r=$(res start nosuch.service)
expect "start of a unit that does not exist: systemd's own message" "$r" \
    sh -c '[ "$1" = 0 ] && [ "$2" = "Unit nosuch.service not found." ]' _ \
    "$(field "$r" ok)" "$(reason "$r")"

# --- restart, reload, stop ------------------------------------------------
uc restart up
r=$(res restart up.service)
pid2=$(field "$r" main_pid)
expect "restart (of a bare name): ok, with a new main PID" "$r" \
    sh -c '[ "$1" = 1 ] && [ "$2" -gt 0 ] && [ "$2" != "$3" ] && [ "$4" = running ]' _ \
    "$(field "$r" ok)" "$pid2" "$pid1" "$(field "$r" sub)"

uc reload up.service
r=$(res reload up.service)
expect "reload of a unit without ExecReload: systemd's reason" "$r" \
    sh -c '[ "$1" = 0 ] && printf "%s" "$2" | grep -q "reload.*not applicable"' _ \
    "$(field "$r" ok)" "$(reason "$r")"
systemctl --user start reloadable.service
uc reload reloadable.service
r=$(res reload reloadable.service)
expect "reload of a running reloadable unit: ok" "$r" \
    sh -c '[ "$1" = 1 ] && [ "$2" = done ] && [ "$3" = active ]' _ \
    "$(field "$r" ok)" "$(field "$r" job)" "$(field "$r" active)"

uc stop up.service
r=$(res stop up.service)
expect "stop: ok, inactive, no main PID" "$r" \
    sh -c '[ "$1" = 1 ] && [ "$2" = inactive ] && [ "$3" = 0 ] && [ "$4" = inactive ]' _ \
    "$(field "$r" ok)" "$(field "$r" active)" "$(field "$r" main_pid)" \
    "$(systemctl --user is-active up.service || true)"

# --- enable, disable -------------------------------------------------------
uc enable installable.service
r=$(res enable installable.service)
expect "enable of a unit with [Install]: ok, enabled" "$r" \
    sh -c '[ "$1" = 1 ] && [ "$2" = enabled ] && [ -z "$3" ]' _ \
    "$(field "$r" ok)" "$(field "$r" file_state)" "$(field "$r" job)"
expect "systemctl --user is-enabled agrees" "$r" \
    test "$(systemctl --user is-enabled installable.service || true)" = enabled

uc enable installable.service
r=$(res enable installable.service)
expect "enable of an enabled unit: ok, still enabled" "$r" \
    sh -c '[ "$1" = 1 ] && [ "$2" = enabled ]' _ "$(field "$r" ok)" "$(field "$r" file_state)"

uc enable noinstall.service
r=$(res enable noinstall.service)
expect "enable of a unit without [Install]: not ok, with that reason" "$r" \
    sh -c '[ "$1" = 0 ] && [ "$2" = "nothing to enable: the unit file has no [Install] section" ]' _ \
    "$(field "$r" ok)" "$(reason "$r")"

uc enable nosuch.service
r=$(res enable nosuch.service)
expect "enable of a unit file that does not exist: systemd's message" "$r" \
    sh -c '[ "$1" = 0 ] && printf "%s" "$2" | grep -q "nosuch.service.*\(not exist\|not found\)"' _ \
    "$(field "$r" ok)" "$(reason "$r")"

uc disable installable.service
r=$(res disable installable.service)
expect "disable: ok, disabled, and systemctl agrees" "$r" \
    sh -c '[ "$1" = 1 ] && [ "$2" = disabled ] && [ "$3" = disabled ]' _ \
    "$(field "$r" ok)" "$(field "$r" file_state)" \
    "$(systemctl --user is-enabled installable.service || true)"

# --- several at once on one connection -------------------------------------
uc start par-a.service start par-b.service start par-c.service \
    start nosuch.service enable installable.service stop reloadable.service
n=$(printf '%s\n' "$out" | grep -c '^result ' || true)
good=0
for x in a b c; do
	r=$(res start "par-$x.service")
	[ "$(field "$r" ok)" = 1 ] && [ "$(field "$r" sub)" = running ] &&
	    [ "$(field "$r" main_pid)" -gt 0 ] && good=$((good + 1))
done
r=$(res start nosuch.service)
[ "$(field "$r" ok)" = 0 ] && good=$((good + 1))
r=$(res enable installable.service)
[ "$(field "$r" ok)" = 1 ] && [ "$(field "$r" file_state)" = enabled ] && good=$((good + 1))
r=$(res stop reloadable.service)
[ "$(field "$r" ok)" = 1 ] && [ "$(field "$r" active)" = inactive ] && good=$((good + 1))
expect "six operations in flight at once: six right answers" "$n" \
    sh -c '[ "$1" = 6 ] && [ "$2" = 6 ]' _ "$n" "$good"
expect "and each callback once, from the loop" "" sane

# --- a deadline --------------------------------------------------------------
uc -t 500 start slow.service stop par-a.service
r=$(res start slow.service)
ms=$(field "$r" ms)
summary=$(printf '%s\n' "$out" | grep '^summary ')
expect "a start that outlives its 500 ms deadline: not ok, no answer" "$r" \
    sh -c '[ "$1" = 0 ] && printf "%s" "$2" | grep -q "^no answer within 500 ms (start slow.service: the job is still queued or running)$" && [ "$3" -ge 500 ] && [ "$3" -lt 1500 ]' _ \
    "$(field "$r" ok)" "$(reason "$r")" "$ms"
r2=$(res stop par-a.service)
expect "meanwhile another operation completed and the loop kept ticking" "$r2 / $summary" \
    sh -c '[ "$1" = 1 ] && [ "$2" -lt 200 ]' _ "$(field "$r2" ok)" "$(field "$summary" max_gap_ms)"
expect "the job itself is left to systemd" "" \
    test "$(systemctl --user is-active slow.service || true)" = activating

# --- freeing from inside a callback ----------------------------------------
uc -F start par-b.service start slow.service
expect "unitctl_free from inside a callback drops the rest cleanly" "$out" \
    sh -c '[ "$1" -eq 0 ] && [ "$(printf "%s\n" "$2" | grep -c "^result ")" = 1 ]' _ "$rc" "$out"

# --- valgrind, where it runs (not under ASan) -------------------------------
if command -v valgrind >/dev/null 2>&1 && ! grep -q __asan_init "$UNITCTL"; then
	set +e
	valgrind -q --error-exitcode=99 --leak-check=full \
	    --errors-for-leak-kinds=definite,indirect "$UNITCTL" \
	    start par-c.service enable installable.service start nosuch.service \
	    >"$T/vg" 2>&1
	vrc=$?
	valgrind -q --error-exitcode=99 --leak-check=full \
	    --errors-for-leak-kinds=definite,indirect "$UNITCTL" -F -t 300 \
	    stop par-c.service start slow.service >>"$T/vg" 2>&1
	vrc2=$?
	set -e
	expect "valgrind: no errors, no leaks" "$(cat "$T/vg")" \
	    sh -c '[ "$1" = 0 ] && [ "$2" = 0 ]' _ "$vrc" "$vrc2"
else
	skip "valgrind: not installed, or an ASan build"
fi

expect "every run of the helper exited 0 (no sanitizer report)" "$bad_runs" \
    test -z "$bad_runs"

systemctl --user stop slow.service par-a.service par-b.service par-c.service \
    reloadable.service 2>/dev/null || true
done_testing
