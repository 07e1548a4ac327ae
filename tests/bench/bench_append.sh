#!/bin/sh
# Durable append: lookout's append path (store_append: write lock, chain
# head read, SHA-256, insert, commit with fsync) against the sqlite3 shell
# inserting rows of the same shape, one transaction each, with the same
# pragmas (WAL, synchronous=FULL).  Target: lookout's rate >= 0.9 of the
# shell's.
set -eu
. tests/bench/lib.sh
N=${APPEND_N:-2000}

# The peer's script: same table, same row sizes, one transaction per row.
"$LOOKOUT" --db "$W/schema.db" incident open schema >/dev/null
sqlite3 "$W/schema.db" .schema > "$W/schema.sql"
{
	echo "PRAGMA journal_mode = WAL;"
	echo "PRAGMA synchronous = FULL;"
	i=1
	hash=$(printf '%064d' 0)
	awk -v n="$N" -v h="$hash" 'BEGIN {
		for (i = 1; i <= n; i++)
			printf "BEGIN IMMEDIATE; INSERT INTO events(seq, ts, actor_user, kind, subject, message, prev_hash, hash) VALUES (%d, 1795300000000, '\''appender'\'', '\''test.append'\'', '\''w'\'', '\''w %d'\'', '\''%s'\'', '\''%s'\''); INSERT INTO chain_head(one, seq, hash) VALUES (1, %d, '\''%s'\'') ON CONFLICT(one) DO UPDATE SET seq = excluded.seq, hash = excluded.hash; COMMIT;\n", i, i, h, h, i, h
	}'
} > "$W/inserts.sql"

ours="" peer=""
for r in $(seq 1 "$ROUNDS"); do
	rm -f "$W"/a.db* "$W"/p.db*
	"$LOOKOUT" --db "$W/a.db" incident list >/dev/null
	t=$(now); "$APPENDER" "$W/a.db" "$N" w >/dev/null; ours="$ours $(elapsed "$t")"
	sqlite3 "$W/p.db" < "$W/schema.sql"
	t=$(now); sqlite3 "$W/p.db" < "$W/inserts.sql" >/dev/null; peer="$peer $(elapsed "$t")"
done
o=$(median $ours); p=$(median $peer)
orate=$(ratio "$N" "$o" 0); prate=$(ratio "$N" "$p" 0)
echo "BENCH durable_append ratio=$(ratio "$orate" "$prate" 2) target=>=0.9 lookout=${orate}ev/s peer=${prate}ev/s (sqlite3 shell: $N x BEGIN IMMEDIATE; INSERT; COMMIT with WAL + synchronous=FULL)"
