#!/bin/sh
# Seeds 001 and 002 end to end with their runbook templates, inside
# tests/sandbox --redis (through in_sandbox.sh): real systemd --user, real
# redis-server, workers that really consume.  Prints TAP.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../cli/tap.sh"
export LOOKOUT_RUNBOOK_PATH="$here/../../templates"
U=$XDG_CONFIG_HOME/systemd/user
mkdir -p "$U" "$T/releases/65" "$T/releases/66"
R="redis-cli -p $REDIS_PORT"

# A worker consumes only while its release directory is there (seed 001:
# the code is gone, the master lives on).
cat > "$T/worker.sh" <<SH
#!/bin/sh
while true; do
	if [ -e app.ok ]; then $R lpop queues:default >/dev/null; fi
	sleep 0.1
done
SH
chmod +x "$T/worker.sh"
touch "$T/releases/65/app.ok" "$T/releases/66/app.ok"
ln -sfn "$T/releases/65" "$T/current"
printf '%s\n' "[Service]" "WorkingDirectory=$T/current" "ExecStart=$T/worker.sh" > "$U/mail-worker.service"
systemctl --user daemon-reload
systemctl --user start mail-worker.service
# A Type=simple start is done once systemd has forked: the worker enters
# its directory a moment later.  The deploy must come after that, or the
# worker starts in the new release and nothing is stale.
worker_cwd() {
	pid=$(systemctl --user show -p MainPID --value mail-worker.service)
	readlink "/proc/$pid/cwd" 2>/dev/null
}
for i in $(seq 100); do
	[ "$(worker_cwd)" = "$T/releases/65" ] && break
	sleep 0.05
done
cat > "$T/lookout.lua" <<LUA
interval = "200ms"
service "mail-worker" { unit = "mail-worker.service", scope = "user" }
queue "mail" { redis = { url = "$REDIS_URL", key = "queues:default",
  paused_key = "queues:default:paused" }, stall_after = "1s" }
LUA

# A deploy removes release 65 and points current at 66; the worker stays.
ln -sfn "$T/releases/66" "$T/current"
rm -rf "$T/releases/65"
$R rpush queues:default m1 m2 m3 m4 m5 >/dev/null
# status is a one-shot command: the history that tells "stalled" from "just
# filled up" comes from the samples earlier runs left in the timeline.
run --config "$T/lookout.lua" status --json
check "one look cannot tell a stall yet" sh -c 'printf "%s" "$1" | grep -q "\"name\":\"mail\",.*\"state\":\"ok\""' _ "$out"
sleep 1.6
run --config "$T/lookout.lua" status --json
check "seed 001: the queue is stalled while systemd says active" sh -c 'printf "%s" "$1" | grep -q "\"state\":\"stalled\"" && printf "%s" "$1" | grep -q "\"active\":\"active\""' _ "$out"
check "and the worker runs from a deleted directory" sh -c 'printf "%s" "$1" | grep -q "deleted-cwd"' _ "$out"
old_pid=$(systemctl --user show -p MainPID --value mail-worker.service)
run --config "$T/lookout.lua" run queue-stalled service=mail-worker unit=mail-worker.service queue=mail drain_within=20s every=300ms --yes
check "queue-stalled succeeds" sh -c '[ "$1" -eq 0 ]' _ "$rc"
[ "$rc" -eq 0 ] || printf '%s\n' "$err" | sed 's/^/# /'
new_pid=$(systemctl --user show -p MainPID --value mail-worker.service)
check "the main process was replaced ($old_pid -> $new_pid)" test "$old_pid" != "$new_pid"
check "the queue drains again" sh -c 'for i in $(seq 50); do [ "$($1 llen queues:default)" = 0 ] && exit 0; sleep 0.1; done; exit 1' _ "$R"
check "the notes recorded what was seen" sh -c 'printf "%s" "$1" | grep -q "note: queue mail: .*none consumed" && printf "%s" "$1" | grep -q "deleted-cwd"' _ "$err"

# Seed 002: a backlog.  Extra workers from a template unit drain it.
printf '%s\n' "[Service]" "WorkingDirectory=$T/releases/66" "ExecStart=$T/worker.sh" > "$U/extra-worker@.service"
systemctl --user daemon-reload
systemctl --user stop mail-worker.service
i=0; while [ $i -lt 40 ]; do echo "RPUSH queues:default j$i"; i=$((i + 1)); done | $R >/dev/null
run --config "$T/lookout.lua" run backlog queue=mail template=extra-worker@.service workers=2 drain_within=30s every=300ms --yes
check "backlog succeeds" sh -c '[ "$1" -eq 0 ]' _ "$rc"
[ "$rc" -eq 0 ] || printf '%s\n' "$err" | sed 's/^/# /'
check "the backlog drained" test "$($R llen queues:default)" = 0
check "the extra workers are stopped again" test "$(systemctl --user is-active extra-worker@extra1.service extra-worker@extra2.service | sort -u)" = inactive
check "depth and rates were recorded first" sh -c 'printf "%s" "$1" | grep -q "note: queue mail: depth [0-9]*, in "' _ "$err"
run verify
check "the chain is valid" test "$rc" -eq 0
done_testing
