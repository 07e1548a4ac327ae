#!/bin/sh
# Inner half of bench_console_bytes_idle.sh (MODE idle) and
# bench_console_bytes_latency.sh (MODE latency): runs inside
# tests/sandbox/sandbox.sh.  The console at 80x24 on a terminal of our own
# (tests/bench/console_pty.py), 100 services on running user units and 10
# queues, interval 1s; `top -d 1` on another such terminal at the same time
# for the same time.  Both are counted for CONSOLE_SECS (30) seconds after
# the console settled.
#
# idle: no checks, nothing changes (the console shows ages to the minute,
# so a unit's age changes the screen once a minute, not every second).
# latency: every service has an HTTP check on tests/e2e/httpd.py's /jitter,
# which answers after a random 1-40 ms, so the latency every row shows
# changes every second.
# shellcheck disable=SC2086
set -eu
. tests/bench/lib.sh
. tests/bench/live_lib.sh
MODE=$1
NSVC=${CONSOLE_SERVICES:-100}
NQ=${CONSOLE_QUEUES:-10}
SECS=${CONSOLE_SECS:-30}
D=$W/console_bytes_$MODE
mkdir -p "$D" "$XDG_CONFIG_HOME/systemd/user"
trap stop_httpd EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

check=""
if [ "$MODE" = latency ]; then
	bench_httpd "$D"
	check="http://127.0.0.1:$HTTPD_PORT/jitter"
fi
echo 'interval = "1s"' >"$D/lookout.lua"
units=""
for i in $(seq -w 1 "$NSVC"); do
	user_unit "con-$i.service" "[Service]" "ExecStart=/bin/sleep 100000"
	units="$units con-$i.service"
	chk=""
	[ -z "$check" ] || chk=", check = http { url = \"$check?i=$i\", status = 200, timeout_ms = 5000 }"
	echo "service \"con-$i\" { unit = \"con-$i.service\", scope = \"user\"$chk }" >>"$D/lookout.lua"
done
for i in $(seq 1 "$NQ"); do
	echo "queue \"q$i\" { command = { argv = { \"/bin/echo\", \"0\" } } }" >>"$D/lookout.lua"
done
systemctl --user daemon-reload
systemctl --user start $units

# window NAME: the console and top, each on its own terminal, counted for
# the same SECS; writes NAME.lookout and NAME.top ("<bytes> <seconds>
# <CPU ticks>") and the console's bytes of the window to NAME.bytes.
window() {
	console_pty --settle 3 --secs "$SECS" bytes -- top -d 1 >"$D/$1.top" &
	_top=$!
	console_pty --ready "SERVICES \\($NSVC\\)" --settled --settle 3 --secs "$SECS" \
	    --dump "$D/$1.bytes" bytes -- "$LOOKOUT" --config "$D/lookout.lua" >"$D/$1.lookout"
	wait "$_top"
}
rate() { awk '{ printf "%.1f", $1 / $2 }' "$1"; }

window steady
ours=$(rate "$D/steady.lookout")
peer=$(rate "$D/steady.top")
if [ "$MODE" = idle ]; then
	target="<=50B/s"
	what="$NSVC services on running units, no checks"
else
	target="<=1KB/s"
	what="$NSVC services, each with an HTTP check answered in a random 1-40 ms"
fi
echo "BENCH console_bytes_$MODE ratio=$(ratio "$ours" "$peer" 3) target=$target lookout=${ours}B/s peer=${peer}B/s (top -d 1 on the same kind of 80x24 terminal (TERM=tmux-256color) for the same ${SECS}s; the console: $what, $NQ queues, interval 1s)"
