#!/bin/sh
# Inner half of bench_live_redis.sh: runs inside tests/sandbox/sandbox.sh --redis.
# Loop counters are unused and lists of timings are split on purpose.
# shellcheck disable=SC2034,SC2086
set -eu
. tests/bench/lib.sh
. tests/bench/live_lib.sh
N=${LIVE_REDIS_N:-200}
D=$W/live_redis
mkdir -p "$D"

: >"$D/lookout.lua"
: >"$D/keys"
: >"$D/fill.txt"
i=1
while [ "$i" -le "$N" ]; do
	k=bench:queue:$i
	echo "$k" >>"$D/keys"
	# 1..20 items each
	echo "RPUSH $k $(seq -s ' ' 1 $((i % 20 + 1)))" >>"$D/fill.txt"
	echo "queue \"q$i\" { redis = { url = \"$REDIS_URL\", key = \"$k\" } }" >>"$D/lookout.lua"
	i=$((i + 1))
done
redis-cli -p "$REDIS_PORT" <"$D/fill.txt" >/dev/null

ours="" peer=""
for r in $(seq 1 "$ROUNDS"); do
	t=$(now); status_json "$D/lookout.lua" "$D/status.json"; ours="$ours $(elapsed "$t")"
	t=$(now)
	while read -r k; do
		redis-cli -p "$REDIS_PORT" llen "$k"
	done <"$D/keys" >"$D/llen.txt"
	peer="$peer $(elapsed "$t")"
done

# Both must have read the same depths.
want=$(awk '{ s += $1 } END { print s }' "$D/llen.txt")
got=$(grep -o '"depth":[0-9]*' "$D/status.json" | awk -F: '{ s += $2 } END { print s + 0 }')
nq=$(grep -o '"depth":[0-9]*' "$D/status.json" | wc -l)
if [ "$want" != "$got" ] || [ "$nq" -ne "$N" ]; then
	echo "live_redis: lookout read $nq depths summing to $got, redis-cli $want" >&2
	exit 1
fi
o=$(median $ours); p=$(median $peer)
echo "BENCH live_redis_200 ratio=$(ratio "$o" "$p" 4) target=<=0.1 lookout=$(ratio "$o" 0.001 1)ms peer=$(ratio "$p" 0.001 0)ms (redis-cli -p PORT llen KEY, looped over the same $N keys)"
