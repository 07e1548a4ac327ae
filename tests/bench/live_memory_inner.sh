#!/bin/sh
# Inner half of bench_live_memory.sh: runs inside tests/sandbox/sandbox.sh --redis.
# Loop counters are unused and lists of timings are split on purpose.
# shellcheck disable=SC2034,SC2086
set -eu
. tests/bench/lib.sh
. tests/bench/live_lib.sh
D=$W/live_memory
memory_setup "$D"

rss="" secs=""
for r in $(seq 1 "$ROUNDS"); do
	rc=0
	/usr/bin/time -v -o "$D/time.txt" "$LOOKOUT" --config "$D/lookout.lua" status --json \
	    >"$D/status.json" 2>"$D/status.err" || rc=$?
	if [ "$rc" -gt 1 ]; then
		echo "lookout status failed (exit $rc): $(cat "$D/status.err")" >&2
		exit 1
	fi
	rss="$rss $(sed -n 's/.*Maximum resident set size (kbytes): *//p' "$D/time.txt")"
	secs="$secs $(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): *//p' "$D/time.txt" | awk -F: '{ print $NF + 60 * $(NF - 1) }')"
done
nsvc=$(grep -o '"unit":"mem-[0-9]*.service"' "$D/status.json" | wc -l)
nq=$(grep -o '"depth":[0-9]*' "$D/status.json" | wc -l)
if [ "$nsvc" -ne "$NSVC" ] || [ "$nq" -ne "$NQ" ]; then
	echo "memory: lookout reported $nsvc services and $nq queue depths" >&2
	exit 1
fi
kb=$(median $rss)
mb=$(ratio "$kb" 1024 1)
echo "BENCH memory_500svc_100q ratio=$(ratio "$mb" 16 2) target=<=1 lookout=${mb}MB peer=16MB (issue target; peak RSS of lookout status --json by /usr/bin/time -v, $NSVC services ($RUNNING running) and $NQ Redis queues, $(median $secs)s)"
