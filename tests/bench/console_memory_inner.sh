#!/bin/sh
# Inner half of bench_console_memory.sh: runs inside tests/sandbox/sandbox.sh --redis.
# The console (80x24, on a terminal of our own: tests/bench/console_pty.py)
# with 500 services (100 running) and 100 Redis queues, as
# live_memory_inner.sh sets them up; its peak RSS (VmHWM, read while it
# runs) 10 s after its first frame.  `top -d 1` on another such terminal
# at the same time is read the same way, for comparison.
# Loop counters are unused and lists of figures are split on purpose.
# shellcheck disable=SC2034,SC2086
set -eu
. tests/bench/lib.sh
. tests/bench/live_lib.sh
D=$W/console_memory
memory_setup "$D"
rss="" top=""
for r in $(seq 1 "$ROUNDS"); do
	console_pty --secs 10 rss -- top -d 1 >"$D/top.kb" &
	tp=$!
	console_pty --ready "SERVICES \\($NSVC\\)" --secs 10 --screen "$D/screen.txt" rss -- \
	    "$LOOKOUT" --config "$D/lookout.lua" >"$D/lookout.kb"
	wait "$tp"
	rss="$rss $(cat "$D/lookout.kb")"
	top="$top $(cat "$D/top.kb")"
done
grep -q "SERVICES ($NSVC)" "$D/screen.txt" ||
    { echo "console_memory: the console did not show the $NSVC services" >&2; exit 1; }
mb=$(ratio "$(median $rss)" 1024 1)
echo "BENCH console_memory ratio=$(ratio "$mb" 16 2) target=<=1 lookout=${mb}MB peer=16MB (issue target; the console's VmHWM 10 s after its first frame, $NSVC services ($RUNNING running) and $NQ Redis queues; top -d 1 beside it: $(ratio "$(median $top)" 1024 1)MB)"
