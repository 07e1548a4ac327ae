#!/bin/sh
# Export: a 100,000-event incident to a Markdown postmortem, against the
# sqlite3 shell dumping the same rows as CSV.  Target: <= 2x its time.
set -eu
. tests/bench/lib.sh
N=${EXPORT_N:-100000}
db="$W/export.db"

"$LOOKOUT" --db "$db" incident open "queue backlog" --severity P2 \
    --service inventory-api >/dev/null
# The fixture is generated in one transaction for speed; export reads rows
# the same way whatever wrote them (it does not verify hashes).
sqlite3 "$db" "WITH RECURSIVE n(i) AS (SELECT 2 UNION ALL SELECT i + 1 FROM n WHERE i < $N + 1)
INSERT INTO events(seq, ts, incident_id, actor_user, actor_from, kind, message, prev_hash, hash)
SELECT i, 1795300000000 + i * 1000, 1, 'alice', '203.0.113.9', 'incident.note',
  'depth ' || (i * 7 % 5000) || ' | consumers 0, paused since deploy 65',
  printf('%064x', i - 1), printf('%064x', i) FROM n;"

Q="SELECT seq, ts, actor_user, actor_from, kind, subject, message, data, prev_hash, hash FROM events WHERE incident_id = 1 ORDER BY seq"
ours="" peer=""
for r in $(seq 1 "$ROUNDS"); do
	t=$(now); "$LOOKOUT" --db "$db" export 1 >"$W/pm.md"; ours="$ours $(elapsed "$t")"
	t=$(now); sqlite3 -csv "$db" "$Q" >"$W/dump.csv"; peer="$peer $(elapsed "$t")"
done
rows=$(grep -c '^| [0-9]' "$W/pm.md")
[ "$rows" -ge "$N" ] || { echo "bench_export: only $rows timeline rows" >&2; exit 1; }
o=$(median $ours); p=$(median $peer)
echo "BENCH export_md_100k ratio=$(ratio "$o" "$p" 2) target=<=2 lookout=$(ratio "$o" 0.001 0)ms peer=$(ratio "$p" 0.001 0)ms (sqlite3 -csv dumping the same $N rows)"
