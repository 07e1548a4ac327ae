#!/bin/sh
# Try lookout: installs what is missing, builds, then, as root:
#  - on a terminal, opens the console on the three seed incidents, live
#    inside a private systemd --user with its own journald, Redis and
#    RabbitMQ (tools/demo-console.sh; README.md walks through fixing seed
#    000 from it); q quits, and the sandbox takes everything with it;
#  - without one (piped, CI), plays seed 000 (a service that died at
#    start-up with a NameError) for real in the same kind of sandbox:
#    status, incident, the restart-service runbook, and the postmortem
#    that comes out of the timeline (tools/demo-inner.sh).
# Where that sandbox cannot run (not root), it plays the same incident into
# a throwaway timeline by hand instead.
set -eu
cd "$(dirname "$0")/.."
. tools/deps.sh
lookout_install_deps $LOOKOUT_BUILD_DEPS
[ -d build ] || meson setup build -Dtests=false >/dev/null
ninja -C build >/dev/null
export LOOKOUT="$PWD/build/lookout"

if [ "$(id -u)" -eq 0 ]; then
	sh tests/sandbox/install-deps.sh >/dev/null 2>&1 || true
	rc=0
	if [ -t 0 ] && [ -t 1 ]; then
		# RabbitMQ boots (about 7 s) while the demo sets up the rest.
		sh tests/sandbox/sandbox.sh --redis --rabbitmq-nowait --journal \
		    -- sh tools/demo-console.sh || rc=$?
		[ $rc -eq 0 ] && echo "The demo's sandbox is gone, and its services, timeline and files with it."
	else
		sh tests/sandbox/sandbox.sh -- sh tools/demo-inner.sh || rc=$?
	fi
	[ $rc -ne 77 ] && exit $rc
	echo "(no sandbox here: playing the incident by hand instead)"
fi

demo=$(mktemp -d /tmp/lookout-demo.XXXXXX)
export LOOKOUT_DB="$demo/timeline.db"
L=$LOOKOUT
id=$($L incident open "message-bus down: NameError at start-up" \
    --severity P2 --service message-bus --service dashboard-lite)
$L incident note "$id" "heartbeat: message-bus.service inactive (dead) since 21:48"
$L incident ack "$id" "on it"
$L incident note "$id" "journal: NameError: name 'queue' is not defined (app.py:604)"
$L incident note "$id" "fix: add 'import queue'; systemctl --user start message-bus"
$L incident mitigate "$id" "service started"
$L incident note "$id" "systemctl --user enable message-bus, so it survives a reboot"
$L incident resolve "$id" "GET /api/inbox/joe answers 200"
$L export "$id"
echo
$L verify
echo
echo "The timeline is $LOOKOUT_DB; try: LOOKOUT_DB=$LOOKOUT_DB $L incident show $id"
