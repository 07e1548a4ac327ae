#!/bin/sh
# mail-worker: seed 001's queue master, as the demo runs it
# (tools/demo-console.sh).  Its unit starts it in RELEASES/current; systemd
# resolves the symlink, so it runs in the release that was current then.
# Each round it hands one job to a worker that runs the release's code
# (./artisan); once a deploy has deleted that release, every worker fails
# with "Could not open file", the master stays alive, and systemd keeps
# saying "active".
#   mail_worker.sh REDIS_PORT
set -u
release=$PWD
while :; do
	if [ -e artisan ]; then
		# Blocks up to 5 s for a job, so an idle worker costs nothing.
		job=$(redis-cli -p "$1" --raw blpop queues:default 5 | tail -n 1)
		[ -n "$job" ] && echo "mail-worker: sent $job"
	else
		echo "mail-worker: Could not open file $release/artisan" >&2
		sleep 5
	fi
done
