#!/bin/sh
# The interactive demo of tools/try.sh end to end: runs demo_inner.sh inside
# tests/sandbox/sandbox.sh --redis --rabbitmq-nowait --journal, as try.sh
# runs tools/demo-console.sh, passes its TAP through, then checks from
# outside that the sandbox took everything with it: its servers, its temp
# dir, its cgroup.  Where the sandbox cannot run, one SKIP with the reason.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../cli/tap.sh"

skip_all() { echo "ok 1 # SKIP $1"; echo "1..1"; exit 0; }
command -v tmux >/dev/null 2>&1 || skip_all "tmux is not installed"
# The demo's RabbitMQ producer and consumer speak AMQP through pika.
/usr/bin/python3 -c 'import pika' 2>/dev/null ||
	skip_all "python3-pika is not installed (tests/sandbox/install-deps.sh)"

DEMO_TEST_OUT=$T/out
export DEMO_TEST_OUT
mkdir "$DEMO_TEST_OUT"
sh "$here/../sandbox/sandbox.sh" --redis --rabbitmq-nowait --journal -- \
	sh "$here/demo_inner.sh" 2>"$T/err"
rc=$?
[ $rc -eq 77 ] && skip_all "$(sed -n 's/^SKIP: //p' "$T/err" | head -n 1)"
_tap_n=$(cat "$DEMO_TEST_OUT/count" 2>/dev/null || echo 0)
check "the sandbox and the demo inside it exit 0 (exit $rc)" test $rc -eq 0
[ $rc -eq 0 ] || sed 's/^/# /' "$T/err" | tail -n 20

# A recorded process is gone when its PID is, or it is a zombie, or the PID
# now belongs to another program.
survivors() {
	while read -r pid comm; do
		[ -r "/proc/$pid/status" ] || continue
		grep -q '^State:[[:space:]]*Z' "/proc/$pid/status" 2>/dev/null && continue
		[ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$comm" ] && printf '%s(%s) ' "$comm" "$pid"
	done <"$DEMO_TEST_OUT/servers"
}
left=$(survivors)
i=0
# Orphans are reaped by PID 1 on its own schedule.
while [ -n "$left" ] && [ $i -lt 30 ]; do
	sleep 0.1
	i=$((i + 1))
	left=$(survivors)
done
check "servers were recorded (journald, redis, RabbitMQ)" sh -c '
grep -q " systemd-journal$" "$1" && grep -q " redis-server$" "$1" && grep -q " beam.smp$" "$1"' _ "$DEMO_TEST_OUT/servers"
check "no systemd --user, journald, redis-server, RabbitMQ or epmd is left${left:+: $left}" test -z "$left"
tmp=$(cat "$DEMO_TEST_OUT/tempdir" 2>/dev/null)
cg=$(cat "$DEMO_TEST_OUT/cgroup" 2>/dev/null)
check "the sandbox's temp dir is gone" test -n "$tmp" -a ! -e "$tmp"
check "and its cgroup" test -n "$cg" -a ! -e "$cg"
done_testing
