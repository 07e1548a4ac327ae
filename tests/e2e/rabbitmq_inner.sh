#!/bin/sh
# A RabbitMQ queue through the real management API of a real
# rabbitmq-server; runs inside tests/sandbox (through in_sandbox.sh).
# Prints TAP.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../cli/tap.sh"

api() { curl -s -u "$RABBITMQ_USER:$RABBITMQ_PASS" -H 'content-type: application/json' "$@"; }
api -X PUT "$RABBITMQ_API/api/queues/%2F/inventory" -d '{"durable": false}' >/dev/null
for i in 1 2 3; do
	api -X POST "$RABBITMQ_API/api/exchanges/%2F/amq.default/publish" \
	    -d "{\"properties\": {}, \"routing_key\": \"inventory\", \"payload\": \"order $i\", \"payload_encoding\": \"string\"}" >/dev/null
done
# The management API counts messages on its own statistics tick.
for i in $(seq 60); do
	api "$RABBITMQ_API/api/queues/%2F/inventory" | grep -q '"messages":3' && break
	sleep 0.25
done

cat > "$T/rabbit.lua" <<LUA
queue "inventory" { rabbitmq = { api = "$RABBITMQ_API", vhost = "/", name = "inventory",
  user = "$RABBITMQ_USER", password_env = "RABBIT_PASS" } }
queue "missing" { rabbitmq = { api = "$RABBITMQ_API", vhost = "/", name = "nope",
  user = "$RABBITMQ_USER", password_env = "RABBIT_PASS" } }
LUA
RABBIT_PASS=$RABBITMQ_PASS run --config "$T/rabbit.lua" status --json
printf '%s' "$out" > "$T/status.json"
check "messages and no consumer: depth 3 (3 ready, 0 unacked), consumers 0, no-consumers" python3 -c "
import json
q = {x['name']: x for x in json.load(open('$T/status.json'))['queues']}
i = q['inventory']
assert i['depth'] == 3 and i['consumers'] == 0, i
assert i['ready'] == 3 and i['unacked'] == 0, i
assert 'no-consumers' in i['flags'], i
assert i['source'] == 'rabbitmq', i
"
check "an unknown queue says so" python3 -c "
import json
q = {x['name']: x for x in json.load(open('$T/status.json'))['queues']}
assert 'no queue nope in vhost /' in q['missing']['reason'], q['missing']
assert 'stale' in q['missing']['flags'], q['missing']
"
check "status is degraded (exit 1)" test "$rc" -eq 1

RABBIT_PASS=wrong-canary-5f3a run --config "$T/rabbit.lua" status --json
check "a wrong password is named as refused credentials" sh -c 'printf "%s" "$1" | grep -q "refused the credentials of user guest"' _ "$out"
check "the password itself appears nowhere in the output" sh -c '! printf "%s%s" "$1" "$2" | grep -q wrong-canary' _ "$out" "$err"
done_testing
