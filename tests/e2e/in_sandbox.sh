#!/bin/sh
# Runs an inner TAP script inside tests/sandbox/sandbox.sh and passes its
# TAP through; where the sandbox cannot run here, reports one SKIP with the
# sandbox's reason.
#   in_sandbox.sh [--redis] [--rabbitmq] -- INNER.sh
set -u
here=$(cd "$(dirname "$0")" && pwd)
err=$(mktemp "${TMPDIR:-/tmp}/lookout-e2e.XXXXXX")
sh "$here/../sandbox/sandbox.sh" "$@" 2>"$err"
rc=$?
if [ $rc -eq 77 ]; then
	echo "ok 1 # SKIP $(sed -n 's/^SKIP: //p' "$err" | head -n 1)"
	echo "1..1"
	rc=0
elif [ $rc -ne 0 ]; then
	sed 's/^/# /' "$err" | tail -n 20
fi
rm -f "$err"
exit $rc
