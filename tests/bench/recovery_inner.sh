#!/bin/sh
# Inner half of bench_recovery.sh: runs inside tests/sandbox/sandbox.sh.
# shellcheck disable=SC2086
set -eu
. tests/bench/lib.sh
. tests/bench/live_lib.sh
D=$W/recovery
mkdir -p "$D/books"
export LOOKOUT_DB="$D/timeline.db" LOOKOUT_RUNBOOK_PATH="$PWD/templates:$D/books"
python3 tests/e2e/httpd.py "$D/port" & httpd=$!
trap 'kill $httpd 2>/dev/null || true' EXIT
for i in $(seq 50); do [ -s "$D/port" ] && break; sleep 0.1; done
URL=http://127.0.0.1:$(cat "$D/port")/api/inbox/joe
user_unit message-bus.service "[Service]" "ExecStart=/bin/sleep 1000" "[Install]" "WantedBy=default.target"
systemctl --user daemon-reload

reset() {
	systemctl --user stop message-bus.service
	systemctl --user disable message-bus.service 2>/dev/null
}
shell_recovery() {
	systemctl --user start message-bus.service
	systemctl --user enable message-bus.service 2>/dev/null
	for i in 1 2 3 4 5 6; do
		curl -sf -o /dev/null "$URL" && return 0
		sleep 1
	done
	return 1
}

ours="" peer=""
for r in $(seq 1 "$ROUNDS"); do
	reset
	t=$(now); "$LOOKOUT" run restart-service unit=message-bus.service url="$URL" --yes 2>/dev/null
	ours="$ours $(elapsed "$t")"
	reset
	t=$(now); shell_recovery; peer="$peer $(elapsed "$t")"
done
[ "$(systemctl --user is-enabled message-bus.service)" = enabled ]
o=$(median $ours); p=$(median $peer)
echo "BENCH recovery_restart_service ratio=$(ratio "$o" "$p" 2) target=<=1.3 lookout=$(ratio "$o" 0.001 0)ms peer=$(ratio "$p" 0.001 0)ms (systemctl --user start; systemctl --user enable; curl -sf loop)"

# Engine overhead per step: 100 steps that do nothing, so what is left is
# planning, running the coroutine and the two durable events per step.
N=100
{
	echo 'return runbook { name = "empty-steps",'
	i=1
	while [ $i -le $N ]; do
		echo "  step \"s$i\" { function(p) return true end },"
		i=$((i + 1))
	done
	echo '}'
} > "$D/books/empty-steps.lua"
{
	echo "PRAGMA journal_mode = WAL;"
	echo "PRAGMA synchronous = FULL;"
	awk -v n=$N 'BEGIN { for (i = 1; i <= 2 * n; i++)
		printf "BEGIN IMMEDIATE; INSERT INTO events(seq, ts, actor_user, kind, subject, message, prev_hash, hash) VALUES (%d, 1795300000000, '\''root'\'', '\''step.started'\'', '\''s'\'', NULL, '\''%064d'\'', '\''%064d'\''); COMMIT;\n", i, 0, 0 }'
} > "$D/inserts.sql"
ours="" peer=""
for r in $(seq 1 "$ROUNDS"); do
	rm -f "$D"/steps.db* "$D"/peer.db*
	"$LOOKOUT" --db "$D/steps.db" incident list >/dev/null
	sqlite3 "$D/steps.db" .schema > "$D/schema.sql"
	t=$(now); "$LOOKOUT" --db "$D/steps.db" run empty-steps --yes 2>/dev/null; ours="$ours $(elapsed "$t")"
	sqlite3 "$D/peer.db" < "$D/schema.sql"
	t=$(now); sqlite3 "$D/peer.db" < "$D/inserts.sql" >/dev/null; peer="$peer $(elapsed "$t")"
done
o=$(median $ours); p=$(median $peer)
echo "BENCH engine_step_overhead ratio=$(ratio "$o" "$p" 2) target=report lookout=$(echo "$o $N" | awk '{ printf "%.3f", $1 * 1000 / $2 }')ms/step peer=$(echo "$p $N" | awk '{ printf "%.3f", $1 * 1000 / $2 }')ms/step (sqlite3 shell: the same two durable inserts per step)"
