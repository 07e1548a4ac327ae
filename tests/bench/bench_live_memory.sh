#!/bin/sh
# Memory: the peak RSS of `lookout status --json` with 500 services and 100
# Redis queues configured (inside tests/sandbox with a real systemd --user
# and redis-server; 100 of the units run, the rest do not exist), measured
# by /usr/bin/time -v.  Target: <= 16 MB (the figure; there is no
# peer process, so ratio = RSS / 16 MB).
set -eu
. tests/bench/lib.sh
. tests/bench/live_lib.sh
if [ ! -x /usr/bin/time ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q time >/dev/null 2>&1 || true
fi
[ -x /usr/bin/time ] ||
    { echo "BENCH memory_500svc_100q skipped: /usr/bin/time not installed (package time)"; exit 0; }
in_sandbox memory_500svc_100q --redis -- sh tests/bench/live_memory_inner.sh
