#!/bin/sh
# Inner half of bench_live_units.sh: runs inside tests/sandbox/sandbox.sh.
# Loop counters are unused and lists of timings are split on purpose.
# shellcheck disable=SC2034,SC2086
set -eu
. tests/bench/lib.sh
. tests/bench/live_lib.sh
N=${LIVE_UNITS_N:-200}
D=$W/live_units
mkdir -p "$D" "$XDG_CONFIG_HOME/systemd/user"

running="" failed=""
: >"$D/units"
: >"$D/lookout.lua"
for i in $(seq 1 "$N"); do
	u=bench-$i.service
	if [ $((i % 10)) -eq 0 ]; then
		# every 10th: a service that exits 1 at once (failed)
		user_unit "$u" "[Service]" "ExecStart=/bin/false"
		failed="$failed $u"
	elif [ $((i % 20)) -eq 5 ]; then
		# every 20th (offset 5): never started (inactive)
		user_unit "$u" "[Service]" "ExecStart=/bin/sleep 100000"
	else
		user_unit "$u" "[Service]" "ExecStart=/bin/sleep 100000"
		running="$running $u"
	fi
	echo "$u" >>"$D/units"
	echo "service \"bench-$i\" { unit = \"$u\", scope = \"user\" }" >>"$D/lookout.lua"
done
systemctl --user daemon-reload
# shellcheck disable=SC2086
systemctl --user start $running
# shellcheck disable=SC2086
systemctl --user start --no-block $failed
# shellcheck disable=SC2086
for t in $(seq 1 100); do
	nfailed=$(systemctl --user list-units --state=failed --no-legend --plain 'bench-*' | wc -l)
	[ "$nfailed" -ge $((N / 10)) ] && break
	sleep 0.1
done

PROPS=ActiveState,SubState,LoadState,UnitFileState,MainPID,NRestarts,ControlGroup,Result,ExecMainStatus,StateChangeTimestamp
show_loop() {
	while read -r u; do
		systemctl --user show -p "$PROPS" "$u"
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
echo "BENCH live_units_200 ratio=$(ratio "$o" "$p" 4) target=<=0.02 lookout=$(ratio "$o" 0.001 1)ms peer=$(ratio "$p" 0.001 0)ms (systemctl --user show -p <10 props> UNIT, looped over the same $N units: $prun active, $pfail failed; systemd --user's own CPU: ${sd_ours}ms per lookout run, ${sd_peer}ms per loop)"
