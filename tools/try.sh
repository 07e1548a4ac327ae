#!/bin/sh
# Try lookout: installs what is missing, builds, then plays the seed 000
# incident (message-bus down for nine hours) into a throwaway timeline and
# prints its postmortem.
set -eu
cd "$(dirname "$0")/.."
. tools/deps.sh
lookout_install_deps $LOOKOUT_BUILD_DEPS
[ -d build ] || meson setup build -Dtests=false >/dev/null
ninja -C build >/dev/null

demo=$(mktemp -d /tmp/lookout-demo.XXXXXX)
export LOOKOUT_DB="$demo/timeline.db"
L=./build/lookout
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
