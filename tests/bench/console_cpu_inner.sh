#!/bin/sh
# Inner half of bench_console_manager_cpu.sh: runs inside tests/sandbox/sandbox.sh.
# 200 user units as live_units_inner.sh makes them.  The manager's CPU
# (utime + stime of LOOKOUT_SANDBOX_SYSTEMD_PID) during CONSOLE_CPU_SECS
# (60) seconds of the console open with nothing changing, counted once it
# has settled, against the same time of a client refreshing the same state
# every 2 s (k9s's default refresh): `systemctl --user show -p <the
# properties lookout reads> <the 200 units>`.
# Loop counters are unused and lists of figures are split on purpose.
# shellcheck disable=SC2034,SC2086
set -eu
. tests/bench/lib.sh
. tests/bench/live_lib.sh
SECS=${CONSOLE_CPU_SECS:-60}
D=$W/console_cpu
mkdir -p "$D"
echo 'interval = "1s"' >"$D/lookout.lua"
bench_units "$D"
sd_ticks() { awk '{ print $14 + $15 }' "/proc/$LOOKOUT_SANDBOX_SYSTEMD_PID/stat"; }
tick_ms=$(awk -v hz="$(getconf CLK_TCK)" 'BEGIN { print 1000 / hz }')
ms() { echo "$1 $tick_ms" | awk '{ print $1 * $2 }'; }

# The console: the harness counts the manager's ticks (and the console's)
# over the window itself.
console_pty --ready "SERVICES \\($N\\)" --settled --settle 5 --secs "$SECS" \
    --cpu-of "$LOOKOUT_SANDBOX_SYSTEMD_PID" bytes -- \
    "$LOOKOUT" --config "$D/lookout.lua" >"$D/console.txt"
read -r _bytes _secs con_ticks sd_con <"$D/console.txt"

# The peer, every 2 s for the same time; each refresh's own cost besides.
units=$(tr '\n' ' ' <"$D/units")
each=""
a=$(sd_ticks)
end=$(echo "$(now) $SECS" | awk '{ printf "%.3f", $1 + $2 }')
while [ "$(echo "$(now) $end" | awk '{ print ($1 < $2) }')" = 1 ]; do
	t=$(now)
	x=$(sd_ticks)
	systemctl --user show -p "$BENCH_UNIT_PROPS" $units >"$D/show.txt"
	each="$each $(($(sd_ticks) - x))"
	left=$(echo "$t $(now)" | awk '{ w = 2 - ($2 - $1); print (w > 0 ? w : 0) }')
	sleep "$left"
done
sd_peer=$(($(sd_ticks) - a))
nref=$(echo $each | wc -w)

prun=$(grep -c '^ActiveState=active$' "$D/show.txt")
[ "$prun" -gt 0 ] || { echo "console_cpu: systemctl show saw no active unit" >&2; exit 1; }
ours=$(ms "$sd_con")
peer=$(ms "$sd_peer")
echo "BENCH console_manager_cpu ratio=$(ratio "$ours" "$peer" 3) target=<=0.05 lookout=${ours}ms peer=${peer}ms (systemd --user's CPU over ${SECS}s: console open, settled, nothing changing, vs systemctl --user show -p <10 props> <the $N units> every 2 s ($nref refreshes, median $(ms "$(median $each)")ms of the manager's CPU each); the console's own CPU $(ms "$con_ticks")ms)"
