# tmux helpers for the console tests, as tig tests its views: the real
# binary in a real terminal (a tmux pane), keys typed with send-keys, the
# screen read back as text with capture-pane.  Source it after tap.sh.
#
#   console NAME [ENV=V ...] -- ARGS...   starts `lookout ARGS` in pane NAME
#   screen NAME                           the pane's text
#   keys NAME KEY...                      tmux send-keys
#   wait_for NAME TEXT [SECONDS]          until the screen shows TEXT
#   wait_gone NAME TEXT [SECONDS]         until it no longer does

# One tmux server per test script: a new session on the socket of a server
# that kill-server is still taking down fails ("server exited
# unexpectedly").
TMUX_SOCK=lookout-tui-$$
export TMUX_SOCK
tmux_cleanup() { tmux -L "$TMUX_SOCK" kill-server 2>/dev/null || :; }

# console NAME COLSxROWS ENV... -- ARGS: the exit status lands in $T/NAME.rc.
console() {
	_name=$1 _size=$2
	shift 2
	_envs=""
	while [ $# -gt 0 ] && [ "$1" != "--" ]; do
		_envs="$_envs '$1'"
		shift
	done
	shift
	_args=""
	for _a in "$@"; do _args="$_args '$_a'"; done
	rm -f "$T/$_name.rc"
	tmux -L "$TMUX_SOCK" new-session -d -s "$_name" -x "${_size%x*}" \
	    -y "${_size#*x}" "env $_envs '$LOOKOUT' $_args 2>'$T/$_name.err'; echo \$? > '$T/$_name.rc'; sleep 600"
}

screen() { tmux -L "$TMUX_SOCK" capture-pane -p -t "$1"; }

keys() {
	_n=$1
	shift
	tmux -L "$TMUX_SOCK" send-keys -t "$_n" "$@"
}

# Literal text, with no key names looked up.
type_text() { tmux -L "$TMUX_SOCK" send-keys -t "$1" -l "$2"; }

wait_for() {
	_n=$1 _text=$2 _secs=${3:-10}
	_i=0
	while [ "$_i" -lt $((_secs * 20)) ]; do
		screen "$_n" | grep -qF -- "$_text" && return 0
		sleep 0.05
		_i=$((_i + 1))
	done
	echo "# $_n never showed: $_text"
	screen "$_n" | sed 's/^/# | /'
	return 1
}

wait_gone() {
	_n=$1 _text=$2 _secs=${3:-10}
	_i=0
	while [ "$_i" -lt $((_secs * 20)) ]; do
		screen "$_n" | grep -qF -- "$_text" || return 0
		sleep 0.05
		_i=$((_i + 1))
	done
	echo "# $_n still shows: $_text"
	screen "$_n" | sed 's/^/# | /'
	return 1
}

# wait_rc NAME [SECONDS]: until the console exited; prints its status.
wait_rc() {
	_i=0
	while [ "$_i" -lt $((${2:-10} * 20)) ]; do
		[ -s "$T/$1.rc" ] && { cat "$T/$1.rc"; return 0; }
		sleep 0.05
		_i=$((_i + 1))
	done
	echo timeout
	return 1
}
