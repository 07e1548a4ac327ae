#!/bin/sh
# Inner half of bench_watch_detect.sh: runs inside tests/sandbox/sandbox.sh.
# Loop counters are unused and lists are split on purpose.
# shellcheck disable=SC2034,SC2086
set -eu
. tests/bench/lib.sh
. tests/bench/live_lib.sh
. tests/bench/monit_lib.sh
N=${WATCH_DETECT_ROUNDS:-10}
IV=${WATCH_DETECT_INTERVAL:-5}
D=$W/watch_detect
DB=$D/timeline.db
now_ms() { date +%s%3N; }
monit_setup watch_detect "$D" "$IV"
# What Monit does when a check fails: the time, to the millisecond, and
# the check's name (Monit passes it in MONIT_SERVICE).
printf '%s\n' '#!/bin/sh' \
    'echo "$MONIT_SERVICE $(date +%s%3N)" >>"${0%/*}/monit.marks"' >"$D/mark.sh"
chmod 755 "$D/mark.sh"
: >"$D/monit.marks"
units=''
i=1
while [ "$i" -le "$N" ]; do
	# A unique argument, for Monit's `matching`.  The endpoints' units
	# stay up: an endpoint is unhealthy while its unit is active.
	user_unit "crash-$i.service" "[Service]" "ExecStart=/bin/sleep $((700000 + i))"
	user_unit "web-$i.service" "[Service]" "ExecStart=/bin/sleep $((710000 + i))"
	units="$units crash-$i.service web-$i.service"
	# The defaults: down_after 500ms, against Monit acting on the
	# first sample that fails.
	printf '%s\n' \
	    "service \"crash-$i\" { unit = \"crash-$i.service\", scope = \"user\" }" \
	    "service \"api-$i\" { unit = \"web-$i.service\", scope = \"user\"," \
	    "  check = http { url = \"http://127.0.0.1:$PORT/switch/api-$i\", status = 200, json = true }," \
	    "  watch = { unhealthy_after = 1, ignore = { \"down\" } } }" >>"$D/lookout.lua"
	printf '%s\n' \
	    "check process crash-$i matching \"^/bin/sleep $((700000 + i))\$\"" \
	    "  if does not exist then exec \"$D/mark.sh\"" \
	    "check host api-$i with address 127.0.0.1" \
	    "  if failed port $PORT protocol http request \"/switch/api-$i\" status = 200 then exec \"$D/mark.sh\"" \
	    >>"$D/monitrc"
	i=$((i + 1))
done
monit_start "$D" $units
sleep $((IV * 3))

# opened_ms NAME: when lookout opened the incident of NAME, or "".
opened_ms() {
	sqlite3 "$DB" "SELECT ts FROM events WHERE kind = 'incident.opened'
	    AND EXISTS (SELECT 1 FROM json_each(data, '\$.services')
	    WHERE value = '$1') ORDER BY seq LIMIT 1"
}
marked_ms() { awk -v n="$1" '$1 == n { print $2; exit }' "$D/monit.marks"; }
# round NAME T0 MODE: the two latencies, in ms, once both have seen the
# fault (a generous wait: the machine may be loaded), appended to
# $D/MODE.lat.
round() {
	for _ in $(seq $((IV * 40 + 200))); do
		[ -n "$(opened_ms "$1")" ] && [ -n "$(marked_ms "$1")" ] && break
		sleep 0.1
	done
	o=$(opened_ms "$1") m=$(marked_ms "$1")
	if [ -z "$o" ] || [ -z "$m" ]; then
		echo "watch_detect: $1 not seen (lookout: ${o:-no}, monit: ${m:-no})" >&2
		tail -n 5 "$D/watch.log" "$D/monit.log" >&2
		exit 1
	fi
	echo "$((o - $2)) $((m - $2))" >>"$D/$3.lat"
}
# A pause of 1 s to 1 + IV s: faults come at any point of a cycle.
pause() {
	sleep "$(awk -v s="$(od -An -N2 -tu2 /dev/urandom)" -v iv="$IV" \
	    'BEGIN { printf "%.2f", 1 + (s % 1000) / 1000 * iv }')"
}
: >"$D/crash.lat"
: >"$D/http.lat"
i=1
while [ "$i" -le "$N" ]; do
	pause
	pid=$(systemctl --user show -p MainPID --value "crash-$i.service")
	t0=$(now_ms)
	kill -KILL "$pid"
	round "crash-$i" "$t0" crash
	pause
	t0=$(now_ms)
	curl -fsS -o /dev/null "http://127.0.0.1:$PORT/switch/api-$i/break"
	round "api-$i" "$t0" http
	i=$((i + 1))
done
monit_stop

for m in crash http; do
	lo=$(ratio "$(median $(awk '{ print $1 }' "$D/$m.lat"))" 1 0)
	mo=$(ratio "$(median $(awk '{ print $2 }' "$D/$m.lat"))" 1 0)
	echo "# watch_detect_$m: lookout $(awk '{ printf "%s ", $1 }' "$D/$m.lat")ms; monit $(awk '{ printf "%s ", $2 }' "$D/$m.lat")ms" >&2
	case $m in
	crash) what="a unit's process killed: lookout over D-Bus with the default down_after (500ms), monit check process matching; target lookout <=1000ms"; tgt="<=0.5" ;;
	http) what="an endpoint answering 404 with an empty body: both one GET a cycle, one failure fires; both bound to the poll cycle, so reported only"; tgt=report ;;
	esac
	echo "BENCH watch_detect_$m ratio=$(ratio "$lo" "$mo" 3) target=$tgt lookout=${lo}ms peer=${mo}ms (monit -I, set daemon $IV, same checks; median of $N; $what)"
done
