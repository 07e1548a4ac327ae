#!/bin/sh
# Inner half of bench_live_units.sh: runs inside tests/sandbox/sandbox.sh.
# Loop counters are unused and lists of timings are split on purpose.
# shellcheck disable=SC2034,SC2086
set -eu
. tests/bench/lib.sh
. tests/bench/live_lib.sh
D=$W/live_units
bench_units "$D"

show_loop() {
	while read -r u; do
		systemctl --user show -p "$BENCH_UNIT_PROPS" "$u"
	done <"$D/units" >"$D/show.txt"
}
ours="" peer=""
for r in $(seq 1 "$ROUNDS"); do
	t=$(now); status_json "$D/lookout.lua" "$D/status.json"; ours="$ours $(elapsed "$t")"
	t=$(now); show_loop; peer="$peer $(elapsed "$t")"
done

# The manager's own CPU time (utime + stime) per run of each side: its
# answers, and its tidying up after them (unloading the stopped units the
# answers loaded, dropping the connection).  A client asking the same
# questions waits for most of it, however fast it is itself.  Counted over
# 20 lookout runs and one loop, since clock ticks are coarse.
sd_ticks() { awk '{ print $14 + $15 }' "/proc/$LOOKOUT_SANDBOX_SYSTEMD_PID/stat"; }
tick_ms=$(awk -v hz="$(getconf CLK_TCK)" 'BEGIN { print 1000 / hz }')
a=$(sd_ticks)
for r in $(seq 1 20); do status_json "$D/lookout.lua" "$D/status.json"; done
b=$(sd_ticks)
show_loop
c=$(sd_ticks)
sd_ours=$(echo "$a $b $tick_ms" | awk '{ printf "%.1f", ($2 - $1) * $3 / 20 }')
sd_peer=$(echo "$b $c $tick_ms" | awk '{ printf "%.0f", ($2 - $1) * $3 }')

# Both must have seen the same thing.
nrun=$(grep -o '"active":"active"' "$D/status.json" | wc -l)
nfail=$(grep -o '"active":"failed"' "$D/status.json" | wc -l)
prun=$(grep -c '^ActiveState=active$' "$D/show.txt")
pfail=$(grep -c '^ActiveState=failed$' "$D/show.txt")
if [ "$nrun" != "$prun" ] || [ "$nfail" != "$pfail" ]; then
	echo "live_units: lookout saw $nrun active/$nfail failed, systemctl $prun/$pfail" >&2
	exit 1
fi
o=$(median $ours); p=$(median $peer)
# How much of lookout's wall time per run is the manager's work: lookout
# cannot answer before the manager has.
wall_cpu=$(echo "$o $sd_ours" | awk '{ if ($2 > 0) printf "%.1f", $1 * 1000 / $2; else print "inf" }')
echo "BENCH live_units_200 ratio=$(ratio "$o" "$p" 4) target=<=0.03 lookout=$(ratio "$o" 0.001 1)ms peer=$(ratio "$p" 0.001 0)ms (systemctl --user show -p <10 props> UNIT, looped over the same $N units: $prun active, $pfail failed; systemd --user's own CPU: ${sd_ours}ms per lookout run, ${sd_peer}ms per loop; lookout's wall time per run = ${wall_cpu}x the manager's CPU per run)"
