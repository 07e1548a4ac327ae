#!/bin/sh
# 1,000 endpoint checks against a loopback nginx: `lookout status --json`
# with 1,000 services, each with check = http { url = ... } (distinct query
# strings, all services on one running user unit, inside tests/sandbox),
# against `curl --parallel --parallel-max 50` fetching the same 1,000 URLs.
# Compares rates (checks/s over fetches/s).  Target: >= 0.8.
set -eu
. tests/bench/lib.sh
. tests/bench/live_lib.sh
if ! command -v nginx >/dev/null 2>&1 && [ -x /usr/sbin/nginx ]; then
	PATH=$PATH:/usr/sbin
fi
if ! command -v nginx >/dev/null 2>&1; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q nginx-light >/dev/null 2>&1 ||
		    DEBIAN_FRONTEND=noninteractive apt-get install -y -q nginx >/dev/null 2>&1 || true
		PATH=$PATH:/usr/sbin
	fi
	command -v nginx >/dev/null 2>&1 ||
	    { echo "BENCH live_http_1000 skipped: nginx not installed"; exit 0; }
fi
command -v curl >/dev/null 2>&1 ||
    { echo "BENCH live_http_1000 skipped: curl not installed"; exit 0; }
in_sandbox live_http_1000 -- sh tests/bench/live_http_inner.sh
# The inner stage stops nginx by PID and the sandbox sweeps its cgroup;
# make sure no nginx of ours survived either.
if [ -s "$W/live_http/nginx.pid" ] && kill -0 "$(cat "$W/live_http/nginx.pid")" 2>/dev/null; then
	echo "bench live_http_1000: nginx $(cat "$W/live_http/nginx.pid") still running" >&2
	exit 1
fi
