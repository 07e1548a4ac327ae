#!/bin/sh
# The three seed incidents, live, and the console open on them.  Runs inside
# tests/sandbox/sandbox.sh --redis --rabbitmq-nowait --journal (tools/try.sh
# with a terminal, and tests/tui/demo_inner.sh in a tmux pane):
#
#   seed 000  message-bus dies at start-up on a missing "import queue", its
#             traceback in the journal; dashboard-lite answers 404 with an
#             empty body on /api/settings/auth
#   seed 001  mail-worker runs from a release directory a deploy deleted;
#             its Redis queue "mail" fills, paused, with nothing consumed
#   seed 002  the RabbitMQ queue "inventory" grows: orders come in faster
#             than inventory-api consumes them
#
# Everything lives under $LOOKOUT_SANDBOX/demo (the timeline, the apps, an
# exported postmortem) and goes with the sandbox.  When the console quits,
# the demo's units are stopped here, so that nothing of it is left for the
# sandbox to kill, and the postmortems exported meanwhile are printed,
# since their files go with the sandbox.
set -eu
repo=$(cd "$(dirname "$0")/.." && pwd)
L=${LOOKOUT:-$repo/build/lookout}
D=$LOOKOUT_SANDBOX/demo
U=$XDG_CONFIG_HOME/systemd/user
# The timeline's directory is private, as lookout requires of it.
mkdir -p "$D" && chmod 700 "$D"
mkdir -p "$D/message-bus" "$D/releases/65" "$D/releases/66" "$D/runbooks" "$U"
export LOOKOUT_DB="$D/timeline.db" LOOKOUT_RUNBOOK_PATH="$repo/templates:$D/runbooks"
export RABBIT_PASS="$RABBITMQ_PASS"
UNITS="message-bus.service dashboard-lite.service mail-worker.service
mail-app.service inventory-api.service inventory-feed.service"

# Two ports the kernel hands out as free; the apps bind them a moment later.
# Debian's python3 (-S: no site packages to load), which has pika too.
PY=/usr/bin/python3
# shellcheck disable=SC2046 # two numbers, split on purpose
set -- $($PY -S -c 'import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(*[x.getsockname()[1] for x in s])')
BUS_PORT=$1 DASH_PORT=$2
AMQP_URL=amqp://$RABBITMQ_USER:$RABBITMQ_PASS@127.0.0.1:$RABBITMQ_PORT/%2F

# unit NAME WORKDIR EXEC [INSTALL]: a user unit; INSTALL "yes" gives it an
# [Install] section, so that it can be enabled (or found not enabled).
# systemd expands %-specifiers in ExecStart (the URL's %2F), hence %%.
unit() {
	{
		printf '[Unit]\nDescription=%s (lookout demo)\n[Service]\n' "$1"
		printf 'WorkingDirectory=%s\nExecStart=%s\n' "$2" \
		    "$(printf '%s' "$3" | sed 's/%/%%/g')"
		if [ "${4:-}" = yes ]; then
			printf '[Install]\nWantedBy=default.target\n'
		fi
	} >"$U/$1"
}

# Seed 000.  The app is a copy, so that the fix edits the demo's, never the
# checkout's.
cp "$repo/tools/demo/message_bus.py" "$D/message-bus/app.py"
unit message-bus.service "$D/message-bus" "$PY $D/message-bus/app.py $BUS_PORT" yes
unit dashboard-lite.service "$D" "$PY $repo/tools/demo/dashboard_lite.py $DASH_PORT" yes
# The demo's stand-in for an editor and a deploy: the fix as a runbook, so
# that it lands in the timeline with the rest.
cat >"$D/runbooks/fix-seed-000.lua" <<LUA
-- The lookout demo's fix for seed 000: add the missing import to app.py.
return runbook {
  name = "fix-seed-000",
  description = "Add the missing 'import queue' to message-bus's app.py",
  params = { app = { default = "$D/message-bus/app.py" } },
  step "add import queue" { function(p)
    return sh { "/bin/sed", "-i", "/^import json\$/a import queue", p.app }
  end },
}
LUA

# Seed 001: releases 65 and 66 of the mail app, current pointing at 65.
touch "$D/releases/65/artisan" "$D/releases/66/artisan"
ln -sfn "$D/releases/65" "$D/current"
unit mail-worker.service "$D/current" "/bin/sh $repo/tools/demo/mail_worker.sh $REDIS_PORT" yes
unit mail-app.service "$D" "/bin/sh $repo/tools/demo/mail_app.sh $REDIS_PORT"

# Seed 002.  Both wait for RabbitMQ, which is still booting.
unit inventory-api.service "$D" "$PY $repo/tools/demo/inventory.py api $AMQP_URL" yes
unit inventory-feed.service "$D" "$PY $repo/tools/demo/inventory.py feed $AMQP_URL"
# More consumers for the backlog runbook (template=inventory-api@.service).
unit inventory-api@.service "$D" "$PY $repo/tools/demo/inventory.py api $AMQP_URL"

cat >"$D/lookout.lua" <<LUA
-- The lookout demo: the three seed incidents, live in a sandbox.
interval = "2s"
service "message-bus" { unit = "message-bus.service", scope = "user",
  check = http { url = "http://127.0.0.1:$BUS_PORT/api/inbox/joe", status = 200, json = true },
  runbook = "restart-service" }
service "dashboard-lite" { unit = "dashboard-lite.service", scope = "user",
  check = http { url = "http://127.0.0.1:$DASH_PORT/api/settings/auth", status = 200, json = true } }
service "mail-worker" { unit = "mail-worker.service", scope = "user", runbook = "queue-stalled" }
service "inventory-api" { unit = "inventory-api.service", scope = "user" }
queue "mail" { redis = { url = "$REDIS_URL", key = "queues:default",
                         paused_key = "queues:default:paused" },
  warn = 100, crit = 1000, stall_after = "20s" }
queue "inventory" { rabbitmq = { api = "$RABBITMQ_API", vhost = "/", name = "inventory",
                                 user = "$RABBITMQ_USER", password_env = "RABBIT_PASS" },
  warn = 100, crit = 1000 }
LUA

teardown() {
	trap - EXIT
	# shellcheck disable=SC2086
	systemctl --user stop $UNITS 'inventory-api@*.service' 2>/dev/null || :
}
trap teardown EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# message-bus is not enabled: seed 000's recovery has to enable it.  The
# enable reloads the manager, which so learns of every unit written above.
systemctl --user -q enable dashboard-lite.service mail-worker.service \
    inventory-api.service
# shellcheck disable=SC2086
systemctl --user start --no-block $UNITS

# The deploy of release 66 removes 65.  It must come after the worker has
# entered 65 (a start returns once systemd forked, before the chdir), or the
# worker would start in 66 and nothing would be stale.
worker_cwd() {
	readlink "/proc/$(systemctl --user show -p MainPID --value mail-worker.service)/cwd" 2>/dev/null
}
i=0
while [ "$(worker_cwd)" != "$D/releases/65" ] && [ "$i" -lt 200 ]; do
	sleep 0.05
	i=$((i + 1))
done
ln -sfn "$D/releases/66" "$D/current"
rm -rf "$D/releases/65"
# Forty reminders queued since, and the queue paused by the other app that
# shares this Redis database (seed 001's red herring).
i=0
while [ "$i" -lt 40 ]; do
	i=$((i + 1))
	echo "RPUSH queues:default reminder-early-$i"
done | redis-cli -p "$REDIS_PORT" >/dev/null
redis-cli -p "$REDIS_PORT" set queues:default:paused 1 >/dev/null

# The console's cwd is the demo's directory: ":export md" writes there.
cd "$D"
# The console runs as a job of its own, in the terminal's foreground: ^C
# must reach it alone (it cancels the action in flight), not the sandbox's
# shells and servers, which share this process group and would end the
# demo.
set -m
status=0
"$L" --config "$D/lookout.lua" || status=$?
# ^Z stops the console alone, and this script cannot hand the terminal back
# to the shell that started try.sh: the console goes on instead.
while jobs >"$D/jobs" && grep -q Stopped "$D/jobs"; do
	status=0
	fg >/dev/null || status=$?
done
set +m
teardown
for f in "$D"/incident-*.md; do
	[ -e "$f" ] || continue
	printf '\n== %s (exported from the console; it goes with the sandbox)\n\n' "${f##*/}"
	cat "$f"
done
exit "$status"
