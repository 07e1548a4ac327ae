#!/bin/sh
# The journal of a unit on another host, in the console: runs inside
# tests/sandbox --ssh 2 --journal (through in_sandbox.sh), where alias2 is a
# second systemd --user behind a second sshd and both managers' units log
# to the sandbox's own journald.  A unit of the same name runs on both
# "hosts", each logging a line of its own: the console shows alias2's
# unit with alias2's lines only, follows it, connects again when the
# connection drops (what was logged meanwhile shown, nothing twice), and
# says why for a host that refuses the connection.  Prints TAP.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../cli/tap.sh"
: "${LOOKOUT_SANDBOX_SSH_CONFIG:?runs inside tests/sandbox --ssh 2 --journal}"
: "${LOOKOUT_SANDBOX_JOURNAL:?runs inside tests/sandbox --ssh 2 --journal}"
trap 'tmux_cleanup 2>/dev/null || :; rm -rf "$T"' EXIT

if ! command -v tmux >/dev/null 2>&1; then
	skip "remote journal in the console: tmux is not installed"
	done_testing
	exit 0
fi
. "$here/../tui/tmux.sh"

sd2() {
	XDG_RUNTIME_DIR=$LOOKOUT_SANDBOX_HOST2_RUNTIME_DIR \
	    XDG_CONFIG_HOME=$LOOKOUT_SANDBOX_HOST2_CONFIG_HOME systemctl --user "$@"
}
unit() {
	dir=$1 name=$2; shift 2
	printf '%s\n' "$@" > "$dir/systemd/user/$name"
}
# The same unit name on both: each logs a line only it could, then, on
# host 2, another each time $T/more appears, numbered.
unit "$LOOKOUT_SANDBOX_HOST2_CONFIG_HOME" jr.service "[Service]" \
    "ExecStart=/bin/sh -c 'echo remote-line-7f3a; n=0; while :; do if [ -e $T/more ]; then rm -f $T/more; n=\$\$((\$\$n + 1)); echo remote-follow-9b1d-\$\$n; fi; sleep 0.2; done'"
unit "$XDG_CONFIG_HOME" jr.service "[Service]" \
    "ExecStart=/bin/sh -c 'echo bastion-only-2c9e; exec sleep 1000'"
systemctl --user daemon-reload
systemctl --user start jr.service
sd2 daemon-reload
sd2 start jr.service

TIMEOUT=20
cat > "$T/rj.lua" <<LUA
ssh_config = "$LOOKOUT_SANDBOX_SSH_CONFIG"
ssh_timeout = "${TIMEOUT}s"
service "two-jr" { unit = "jr.service", scope = "user", host = "alias2" }
LUA
cat > "$T/dead.lua" <<LUA
ssh_config = "$LOOKOUT_SANDBOX_SSH_CONFIG"
ssh_timeout = "${TIMEOUT}s"
service "dead-jr" { unit = "jr.service", scope = "user", host = "deadhost" }
LUA

# Both lines are in the journal before the console looks.
logged() {
	for i in $(seq 100); do
		journalctl --no-pager -q -o cat 2>/dev/null | grep -q "$1" && return 0
		sleep 0.1
	done
	return 1
}
check "host 2's unit logged its line" logged remote-line-7f3a
check "the unit of the same name here logged its own" logged bastion-only-2c9e

# The journal view of the service: Enter on its row, then "journal".
open_journal() {
	wait_for "$1" "$2" "$((TIMEOUT + 10))" >/dev/null
	keys "$1" Enter
	wait_for "$1" "│ journal" >/dev/null
	keys "$1" j; keys "$1" Enter
}
# The journal's ssh here, or its journalctl there (the same machine).
journal_ssh() { pgrep -f 'output-fields=MESSAGE,PRIORITY' >/dev/null; }

console c 120x30 -- --config "$T/rj.lua"
open_journal c "two-jr"
check "the remote unit's journal shows host 2's line" wait_for c "remote-line-7f3a" "$((TIMEOUT + 10))"
check "...titled with its host" wait_for c "JOURNAL jr.service on alias2"
check "...and not the line of the unit of the same name here" sh -c '! tmux -L "$1" capture-pane -p -t c | grep -q bastion-only-2c9e' _ "$TMUX_SOCK"
: > "$T/more"
check "a line logged there later is followed" wait_for c "remote-follow-9b1d-1" 15
check "the journal's ssh runs while the view is open" journal_ssh
# The connection drops (journalctl there killed); a line is logged before
# it is made again.
pkill -f '^journalctl --no-pager -q -o json' || :
: > "$T/more"
check "after a dropped connection, the line logged meanwhile is shown" wait_for c "remote-follow-9b1d-2" 30
on_screen_once() {
	n=$(tmux -L "$TMUX_SOCK" capture-pane -p -t c | grep -c -- "$1" || :)
	[ "$n" = 1 ] || { echo "# $1 on the screen $n times"; return 1; }
}
read_once() { on_screen_once remote-line-7f3a && on_screen_once remote-follow-9b1d-1; }
check "...and the lines read before it are not shown twice" read_once
check "...through a new ssh" journal_ssh
keys c Escape
gone() {
	for i in $(seq 100); do
		journal_ssh || return 0
		sleep 0.1
	done
	pgrep -af 'output-fields=MESSAGE,PRIORITY' | sed 's/^/# /'
	return 1
}
check "closing the view stops its ssh, and journalctl there" gone
keys c q
check "q quits with status 0" test "$(wait_rc c)" = 0

console d 120x30 -- --config "$T/dead.lua"
open_journal d "dead-jr"
check "an unreachable host's journal says what ssh said" wait_for d "deadhost: ssh: connect to host 127.0.0.1 port" "$((TIMEOUT + 10))"
check "...and when it tries again" wait_for d "connecting again in" 10
keys d Escape; keys d q
check "...and quits with status 0" test "$(wait_rc d)" = 0
tmux_cleanup
check "no console printed a sanitizer report" sh -c '! grep -l "Sanitizer\|runtime error" "$1"/c.err "$1"/d.err' _ "$T"
done_testing
