#!/bin/sh
# Inner half of bench_console_first_frame.sh: runs inside tests/sandbox/sandbox.sh.
# 200 user units as live_units_inner.sh makes them.  The time from starting
# the console (80x24, on a terminal of our own: tests/bench/console_pty.py)
# to the first frame whose every row shows its unit's state, against
# `systemctl --user list-units --all` over the same units.
# Loop counters are unused and lists of timings are split on purpose.
# shellcheck disable=SC2034,SC2086
set -eu
. tests/bench/lib.sh
. tests/bench/live_lib.sh
D=$W/console_frame
mkdir -p "$D"
echo 'interval = "1s"' >"$D/lookout.lua"
bench_units "$D"

# A full frame: the 19 rows below the heading are services, each with its
# marker and no "?" of a state not read yet.
frame() {
	console_pty --ready '^(  |!!|! |~ )bench-[0-9]' --ready-lines 19 --settled \
	    --timeout 30 frame -- "$LOOKOUT" --config "$D/lookout.lua"
}
list() {
	systemctl --user list-units --all --no-pager --plain 'bench-*' >"$D/list.txt"
}
# Unmeasured: the first console creates the timeline.
frame >/dev/null
list
ours="" peer=""
for r in $(seq 1 "$ROUNDS"); do
	ours="$ours $(frame)"
	t=$(now); list; peer="$peer $(elapsed "$t")"
done
nlisted=$(grep -c '^bench-' "$D/list.txt")
o=$(median $ours); p=$(median $peer)
echo "BENCH console_first_frame ratio=$(ratio "$o" "$p" 2) target=report lookout=$(ratio "$o" 0.001 0)ms peer=$(ratio "$p" 0.001 0)ms (systemctl --user list-units --all --no-pager 'bench-*': $nlisted of the $N units loaded; the console from its start to the first 80x24 frame with every row's state)"
