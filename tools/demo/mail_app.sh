#!/bin/sh
# mail-app: the application that queues mail for mail-worker, as the demo
# runs it (tools/demo-console.sh): a reminder every 3 s.
#   mail_app.sh REDIS_PORT
set -u
n=0
while :; do
	n=$((n + 1))
	redis-cli -p "$1" rpush queues:default "reminder-$n" >/dev/null
	sleep 3
done
