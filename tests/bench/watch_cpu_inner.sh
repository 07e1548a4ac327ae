#!/bin/sh
# Inner half of bench_watch_cpu.sh: runs inside tests/sandbox/sandbox.sh.
# Loop counters are unused and lists are split on purpose.
# shellcheck disable=SC2034,SC2086
set -eu
. tests/bench/lib.sh
. tests/bench/live_lib.sh
. tests/bench/monit_lib.sh
N=${WATCH_CPU_N:-200}
IV=${WATCH_CPU_INTERVAL:-5}
SECS=${WATCH_CPU_SECONDS:-120}
D=$W/watch_cpu
DB=$D/timeline.db
monit_setup watch_cpu_per_min "$D" "$IV"
units=''
i=1
while [ "$i" -le "$N" ]; do
	user_unit "cpu-$i.service" "[Service]" "ExecStart=/bin/sleep $((800000 + i))"
	units="$units cpu-$i.service"
	printf '%s\n' \
	    "service \"cpu-$i\" { unit = \"cpu-$i.service\", scope = \"user\"," \
	    "  check = http { url = \"http://127.0.0.1:$PORT/switch/cpu-$i\", status = 200, json = true } }" \
	    >>"$D/lookout.lua"
	printf '%s\n' \
	    "check process cpu-$i matching \"^/bin/sleep $((800000 + i))\$\"" \
	    "  if does not exist then alert" \
	    "check host api-$i with address 127.0.0.1" \
	    "  if failed port $PORT protocol http request \"/switch/cpu-$i\" status = 200 then alert" \
	    >>"$D/monitrc"
	i=$((i + 1))
done
monit_start "$D" $units
# Past the first cycles, which read everything once.
sleep $((IV * 4))
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
# Monit's checks of processes and hosts run in Monit itself; an `exec`
# would be a child, but nothing fails here.
nproc=$(ls -d /proc/[0-9]* | wc -l)
l0=$(ticks "$watch") m0=$(ticks "$monit")
t0=$(now)
sleep "$SECS"
l1=$(ticks "$watch") m1=$(ticks "$monit")
secs=$(elapsed "$t0")
checks=$(sqlite3 "$DB" "SELECT count(*) FROM events WHERE kind = 'incident.opened'")
monit_stop
if [ "$checks" != 0 ]; then
	echo "watch_cpu: lookout opened $checks incidents on a healthy sandbox" >&2
	tail -n 5 "$D/watch.log" >&2
	exit 1
fi
if grep -qi "failed\|does not exist" "$D/monit.log"; then
	echo "watch_cpu: monit saw a failure on a healthy sandbox:" >&2
	grep -i "failed\|does not exist" "$D/monit.log" | tail -n 3 >&2
	exit 1
fi
hz=$(getconf CLK_TCK)
lo=$(echo "$l0 $l1 $hz $secs" | awk '{ printf "%.3f", ($2 - $1) / $3 / $4 * 60 }')
mo=$(echo "$m0 $m1 $hz $secs" | awk '{ printf "%.3f", ($2 - $1) / $3 / $4 * 60 }')
echo "BENCH watch_cpu_per_min ratio=$(ratio "$lo" "$mo" 3) target=<=0.5 lookout=${lo}s peer=${mo}s (monit -I, set daemon $IV: $N check process matching + $N check host http; lookout watch: $N units over D-Bus + $N HTTP checks, interval ${IV}s; CPU seconds per minute over $(ratio "$secs" 1 0)s, healthy; $nproc processes on the machine, the table each check process scans)"
