#!/bin/sh
# A scripted console session under valgrind, inside tests/sandbox: the
# overview, a menu, the detail view, help, the lists, a runbook run with a
# step answered, a note, the timeline, then q.  No error, nothing lost.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../cli/tap.sh"
. "$here/tmux.sh"
if ! command -v tmux >/dev/null 2>&1 || ! command -v valgrind >/dev/null 2>&1; then
	skip "tmux or valgrind is not installed"; done_testing; exit 0
fi
if ldd "$LOOKOUT" 2>/dev/null | grep -q libasan; then
	skip "built with AddressSanitizer, which valgrind cannot run"
	done_testing; exit 0
fi
trap 'tmux_cleanup; rm -rf "$T"' EXIT
U=$XDG_CONFIG_HOME/systemd/user
mkdir -p "$U" "$T/books"
printf '%s\n' "[Service]" "ExecStart=/bin/sh -c 'while :; do echo app-line; sleep 0.3; done'" > "$U/app.service"
systemctl --user daemon-reload
systemctl --user start app.service
cat > "$T/lookout.lua" <<LUA
interval = "500ms"
service "app" { unit = "app.service", scope = "user" }
queue "jobs" { command = { argv = { "/bin/echo", "3" } }, warn = 2 }
LUA
cat > "$T/books/echo.lua" <<'LUA'
return runbook { name = "echo",
  step "say" { function(p) return sh { "/bin/echo", "hello" } end } }
LUA
"$LOOKOUT" incident open "valgrind session" >/dev/null
cat > "$T/vg.sh" <<SH
exec valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect \
    --error-exitcode=99 --log-file="$T/vg.log" "$LOOKOUT" --config "$T/lookout.lua"
SH
tmux -L "$TMUX_SOCK" new-session -d -s v -x 100 -y 30 \
    "env LOOKOUT_DB='$LOOKOUT_DB' LOOKOUT_RUNBOOK_PATH='$T/books' sh '$T/vg.sh'; echo \$? > '$T/v.rc'; sleep 600"
check "the console comes up under valgrind" wait_for v "SERVICES (1)" 60
keys v Enter; wait_for v "details" 20 >/dev/null
keys v Enter; wait_for v "PROCESSES" 20 >/dev/null
check "the detail view reads the unit's journal under valgrind" wait_for v "app-line" 20
keys v J; keys v k; keys v ' '; keys v / ; type_text v app; keys v Enter; keys v J
keys v Escape; keys v '?'; wait_for v "Everywhere" 20 >/dev/null
keys v Escape; keys v R; wait_for v "RUNBOOK" 20 >/dev/null
keys v Escape; keys v i; wait_for v "valgrind session" 20 >/dev/null
keys v Escape
keys v : ; type_text v "run echo"; keys v Enter
wait_for v "Run this step?" 20 >/dev/null
keys v y
check "a run completes under valgrind" wait_for v "1 steps done" 30
keys v Escape; keys v : ; type_text v "note under valgrind"; keys v Enter
keys v t
check "the timeline shows the note" wait_for v "under valgrind" 20
keys v Escape; keys v q
rc=$(wait_rc v 60) || true
check "valgrind found no error and no leak (exit 0)" test "$rc" = 0
[ "$rc" = 0 ] || grep -v 'syscall: 434\|handler\|README_MISSING\|bug\|valgrind.org' "$T/vg.log" | sed 's/^/# /' | head -60
done_testing
