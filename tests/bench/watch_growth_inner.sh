#!/bin/sh
# Inner half of bench_watch_growth.sh: runs inside tests/sandbox/sandbox.sh
# --redis.  Loop counters are unused and lists are split on purpose.
# shellcheck disable=SC2034,SC2086
set -eu
. tests/bench/lib.sh
. tests/bench/live_lib.sh
NSVC=${WATCH_GROWTH_SERVICES:-1000}
NQ=${WATCH_GROWTH_QUEUES:-100}
CHANGING=${WATCH_GROWTH_CHANGING:-5}
# A sample that repeats its subject's last one is written every 10 minutes
# (the pulse), and every subject's first came in the same cycle, so their
# pulses come together: a window shorter than that would miss them.
SECS=${WATCH_GROWTH_SECONDS:-600}
D=$W/watch_growth
DB=$D/timeline.db
mkdir -p "$D" "$XDG_CONFIG_HOME/systemd/user"
# The timeline's directory is private, or lookout refuses it.
chmod 700 "$D"
R="redis-cli -p $REDIS_PORT"

# The services: the first CHANGING crash after 50 to 70 s and are
# restarted 5 s later, for ever; the others run.
echo 'interval = "10s"' >"$D/lookout.lua"
units=""
i=1
while [ "$i" -le "$NSVC" ]; do
	if [ "$i" -le "$CHANGING" ]; then
		user_unit "grow-$i.service" "[Unit]" "StartLimitIntervalSec=0" \
		    "[Service]" "ExecStart=/bin/sh -c 'sleep $((50 + i * 4)); exit 1'" \
		    "Restart=always" "RestartSec=5s"
	else
		user_unit "grow-$i.service" "[Service]" "ExecStart=/bin/sleep 100000"
	fi
	units="$units grow-$i.service"
	echo "service \"grow-$i\" { unit = \"grow-$i.service\", scope = \"user\" }" >>"$D/lookout.lua"
	i=$((i + 1))
done
# The queues: empty and quiet, but the first CHANGING, which a producer
# and a consumer keep moving.
i=1
while [ "$i" -le "$NQ" ]; do
	echo "queue \"q$i\" { redis = { url = \"$REDIS_URL\", key = \"grow:$i\" }, warn = 1000 }" >>"$D/lookout.lua"
	i=$((i + 1))
done
systemctl --user daemon-reload
systemctl --user start $units
(while :; do
	for op in "rpush %s a b c" "lpop %s 3"; do
		j=1
		while [ "$j" -le "$CHANGING" ]; do
			# shellcheck disable=SC2059
			$R $(printf "$op" "grow:$j") >/dev/null
			j=$((j + 1))
		done
		sleep 7
	done
done) &
feeder=$!
trap 'kill $feeder $watch 2>/dev/null || :' EXIT

watch=''
"$LOOKOUT" --db "$DB" --config "$D/lookout.lua" watch 2>"$D/watch.log" &
watch=$!
# The bytes the timeline's tables and indexes use, as a reader of the file
# sees them (WAL included), to the byte: the file grows by whole pages.
bytes() { sqlite3 "$DB" "SELECT sum(pgsize - unused) FROM dbstat"; }
# Those of the samples alone.
sbytes() {
	sqlite3 "$DB" "SELECT sum(pgsize - unused) FROM dbstat WHERE name IN
	    ('samples', 'samples_by_ts', 'samples_by_subject')"
}
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$watch/status"; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$watch/stat"; }
count() { sqlite3 "$DB" "SELECT count(*) FROM $1"; }
# Warm up: the first cycles write every service and queue once.
for _ in $(seq 600); do
	[ -s "$DB" ] && [ -n "$(sqlite3 "$DB" "SELECT ts FROM heartbeats" 2>/dev/null)" ] && break
	sleep 0.1
done
sleep 30
b0=$(bytes) sb0=$(sbytes) r0=$(rss_kb) c0=$(cpu_ticks) s0=$(count samples) e0=$(count events)
t0=$(now)
sleep "$SECS"
b1=$(bytes) sb1=$(sbytes) r1=$(rss_kb) c1=$(cpu_ticks) s1=$(count samples) e1=$(count events)
secs=$(elapsed "$t0")
kill -TERM "$watch"
wait "$watch" || { echo "lookout watch exited with $?: $(tail -n 3 "$D/watch.log")" >&2; exit 1; }
watch=''

day=$(echo "$b0 $b1 $secs" | awk '{ printf "%.2f", ($2 - $1) / $3 * 86400 / 1048576 }')
# The peer: every service and queue sampled every cycle, at the bytes a
# sample took here, and the same events.
per=$(echo "$sb0 $sb1 $s0 $s1" | awk '{ s = $4 - $3; print (s > 0 ? ($2 - $1) / s : 100) }')
peer=$(echo "$NSVC $NQ $per $b0 $b1 $sb0 $sb1 $secs" | awk '{
	printf "%.1f", (($1 + $2) * 8640 * $3 + ($5 - $4 - ($7 - $6)) / $8 * 86400) / 1048576 }')
cpu=$(echo "$c0 $c1 $secs $(getconf CLK_TCK)" | awk '{ printf "%.2f", ($2 - $1) / $4 / $3 * 100 }')
echo "# watch_growth_per_day: $((s1 - s0)) samples ($((sb1 - sb0)) bytes, $per a sample) and $((e1 - e0)) events ($((b1 - b0 - sb1 + sb0)) bytes) in ${secs}s; RSS $((r0 / 1024)).$((r0 % 1024 * 10 / 1024)) MB at the start, $((r1 / 1024)).$((r1 % 1024 * 10 / 1024)) MB at the end; CPU ${cpu}%" >&2
echo "BENCH watch_growth_per_day ratio=$(ratio "$day" "$peer" 3) target=<=0.05 lookout=${day}MB/day peer=${peer}MB/day (every sample every cycle; $NSVC services, $CHANGING restarting, $NQ Redis queues, $CHANGING moving, 10 s interval, over $(ratio "$secs" 1 0)s; RSS start=$((r0 / 1024))MB end=$((r1 / 1024))MB)"
