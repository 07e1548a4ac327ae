#!/bin/sh
# A healthy sandbox for two minutes under lookout watch, inside
# tests/sandbox --redis (through in_sandbox.sh): services with endpoint
# checks that answer, a queue that is fed and consumed, a command queue.
# Nothing is an incident, nothing a warning, no state changes; the
# heartbeat keeps coming.  WATCH_HEALTHY_SECONDS (default 120) sets the
# length.  Prints TAP; what was seen as comments.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../cli/tap.sh"
. "$here/watch_lib.sh"
secs=${WATCH_HEALTHY_SECONDS:-120}
start_httpd
feeder=''
trap 'kill $httpd $feeder 2>/dev/null || :; rm -rf "$T"' EXIT
R="redis-cli -p $REDIS_PORT"

# A worker that consumes what a producer pushes, as seed 001's did before
# its directory went.
cat >"$T/worker.sh" <<SH
#!/bin/sh
while :; do $R lpop queues:mail >/dev/null; sleep 0.2; done
SH
chmod +x "$T/worker.sh"
unit bus.service "[Service]" "ExecStart=/bin/sleep 100000" "[Install]" "WantedBy=default.target"
unit api.service "[Service]" "ExecStart=/bin/sleep 100000" "[Install]" "WantedBy=default.target"
unit worker.service "[Service]" "ExecStart=$T/worker.sh" "[Install]" "WantedBy=default.target"
cat >"$T/lookout.lua" <<LUA
interval = "1s"
service "bus" { unit = "bus.service", scope = "user",
  check = http { url = "$HTTP/api/inbox/joe", status = 200, json = true } }
service "api" { unit = "api.service", scope = "user",
  check = http { url = "$HTTP/jitter", status = 200, json = true } }
service "worker" { unit = "worker.service", scope = "user" }
queue "mail" { redis = { url = "$REDIS_URL", key = "queues:mail" },
  warn = 100, crit = 1000, stall_after = "10s" }
queue "jobs" { command = { argv = { "/bin/echo", "0" } }, warn = 10 }
LUA
watch_unit
systemctl --user enable --now bus.service api.service worker.service 2>/dev/null
(while :; do $R rpush queues:mail m >/dev/null; sleep 0.3; done) & feeder=$!
systemctl --user start lookout-watch.service
t0=$(now_ms)
sleep "$secs"
beat=$(sql "SELECT ts FROM heartbeats ORDER BY ts DESC LIMIT 1")
n=$(incidents)
w=$(sql "SELECT count(*) FROM events WHERE kind = 'watch.warning'")
c=$(sql "SELECT count(*) FROM events WHERE kind = 'state.change'")
echo "# $(($(now_ms) - t0)) ms healthy: $n incidents, $w warnings, $c state changes; the queue held $($R llen queues:mail)"
check "${secs}s of a healthy sandbox: no incident" test "$n" = 0
check "no warning" test "$w" = 0
check "no state change" test "$c" = 0
check "the heartbeat kept coming (last one $(($(now_ms) - beat)) ms ago)" test $(($(now_ms) - beat)) -lt 3000
check "the watcher ran throughout, never restarted" test "$(watch_prop NRestarts):$(watch_prop ActiveState)" = "0:active"
systemctl --user stop lookout-watch.service
check "SIGTERM: exit 0" test "$(watch_prop ExecMainStatus):$(watch_prop Result)" = "0:success"
done_testing
