#!/bin/sh
# What `sh tools/try.sh` plays without a terminal (piped, CI): seed 000 for
# real in the sandbox, tools/demo-inner.sh, from its status to its
# postmortem and a verified timeline.
set -u
repo=$(cd "$(dirname "$0")/../.." && pwd)
out=$LOOKOUT_SANDBOX/try.out
echo "1..5"
rc=0
(cd "$repo" && sh tools/demo-inner.sh) >"$out" 2>&1 || rc=$?
check() {	# check DESCRIPTION PATTERN
	if grep -q -e "$2" "$out"; then
		echo "ok - $1"
	else
		echo "not ok - $1"
		sed 's/^/# | /' "$out" | tail -n 25
	fi
}
if [ $rc -eq 0 ]; then echo "ok - the demo exits 0"; else
	echo "not ok - the demo exits 0 (exit $rc)"
	sed 's/^/# | /' "$out" | tail -n 25
fi
check "status shows message-bus failed" 'message-bus.*failed'
check "the postmortem holds the NameError" "NameError: name 'queue' is not defined"
check "restart-service ran and succeeded" 'Runbook `restart-service` (run 1) .*: succeeded'
check "the timeline verifies" '^ok: [0-9]* events verified'
