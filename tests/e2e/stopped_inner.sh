#!/bin/sh
# A manager that accepts but never answers: the sandbox's systemd --user is
# stopped with SIGSTOP, so it keeps its sockets and takes every connection
# and call, and answers none.  status, a runbook's systemctl action and the
# console each end within their own wait, say which manager did not
# answer, and never wait on shutting the bus down (sd-bus would wait 90 s).
# Runs inside tests/sandbox (through in_sandbox.sh).  Prints TAP.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../cli/tap.sh"
. "$here/../tui/tmux.sh"
: "${LOOKOUT_SANDBOX_SYSTEMD_PID:?runs inside tests/sandbox}"
SD=$LOOKOUT_SANDBOX_SYSTEMD_PID
trap 'kill -CONT "$SD" 2>/dev/null || :; tmux_cleanup; rm -rf "$T"' EXIT
# One running unit, which the stopped manager will say nothing about.
mkdir -p "$XDG_CONFIG_HOME/systemd/user" "$T/books"
printf '[Service]\nExecStart=/bin/sleep 1000\n' > "$XDG_CONFIG_HOME/systemd/user/idle.service"
systemctl --user daemon-reload && systemctl --user start idle.service
echo 'service "idle" { unit = "idle.service", scope = "user" }' > "$T/idle.lua"
cat > "$T/books/start.lua" <<LUA
return runbook { name = "start",
  step "start" { function() return systemctl.start("idle.service", { scope = "user", timeout = "2s" }) end } }
LUA
export LOOKOUT_RUNBOOK_PATH="$T/books"
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
# timed ARGS...: run with a bound (the old way took 90 s a command);
# $took is how long it took in ms.
timed() {
	t0=$(now_ms)
	set +e
	timeout 30 "$LOOKOUT" "$@" >"$T/out" 2>"$T/err"
	rc=$?
	set -e
	took=$(( $(now_ms) - t0 ))
	out=$(cat "$T/out"); err=$(cat "$T/err")
}
# The documented wait (probes_max_wait_ms: 2 s without slower checks),
# and 2 s for everything else.
BOUND=4000
MSG="systemd user manager: no answer within 2 s"

timed --config "$T/idle.lua" status
check "with the manager running, status is healthy" test "$rc" -eq 0

kill -STOP "$SD"
timed --config "$T/idle.lua" status
check "a stopped manager: status ends in $took ms (bound $BOUND)" test "$took" -lt "$BOUND"
check "and exits 1: what it manages is not known" test "$rc" -eq 1
# The reason is on its own line under the service's row.
check "the service's reason names the manager that did not answer" sh -c 'printf "%s\n" "$1" | grep -A1 -E "^idle " | grep -qE "^ +$2\$"' _ "$out" "$MSG"
check "and so does the warning under the table" sh -c 'printf "%s\n" "$1" | grep -qx "warning: $2"' _ "$out" "$MSG"

timed --config "$T/idle.lua" status --json
check "status --json ends in $took ms, exit 1, with the error" sh -c '[ "$1" -lt "$2" ] && [ "$3" -eq 1 ] && printf "%s" "$4" | python3 -c "
import json, sys
d = json.load(sys.stdin)
assert d[\"error\"] == sys.argv[1], d
assert d[\"services\"][0][\"reason\"] == sys.argv[1], d
" "$5"' _ "$took" "$BOUND" "$rc" "$out" "$MSG"

timed status
check "without a configuration too: $took ms, exit 1, the manager named" sh -c '[ "$1" -lt "$2" ] && [ "$3" -eq 1 ] && printf "%s" "$4" | grep -qF "$5"' _ "$took" "$BOUND" "$rc" "$out" "$MSG"

timed run start --yes
check "a runbook's systemctl.start ends at its own timeout ($took ms, 2 s)" test "$took" -lt "$BOUND"
check "and fails, saying systemd did not answer" sh -c '[ "$1" -eq 1 ] && printf "%s" "$2" | grep -qF "no answer within 2000 ms"' _ "$rc" "$err"

# The console: it shows the silence, and quits at once.
console c 120x30 LOOKOUT_DB="$LOOKOUT_DB" -- --config "$T/idle.lua"
check "the console shows which manager does not answer" wait_for c "no answer within 2 s" 10
t0=$(now_ms)
keys c q
crc=$(wait_rc c 10) || :
took=$(( $(now_ms) - t0 ))
check "and q quits in $took ms with status 0 (bound 2000)" sh -c '[ "$1" = 0 ] && [ "$2" -lt 2000 ]' _ "$crc" "$took"

kill -CONT "$SD"
timed --config "$T/idle.lua" status
check "once it runs again, status is healthy again" sh -c '[ "$1" -eq 0 ] && printf "%s" "$2" | grep -qE "^idle +active/running"' _ "$rc" "$out"
done_testing
