#!/bin/sh
# 200 Redis queue depths: `lookout status --json` with 200 queue blocks
# (redis source, one server) against a loop of `redis-cli -p PORT llen KEY`
# over the same 200 keys, inside tests/sandbox with a real redis-server on
# 127.0.0.1.  Target: <= 0.1 of the loop's time.
set -eu
. tests/bench/lib.sh
. tests/bench/live_lib.sh
in_sandbox live_redis_200 --redis -- sh tests/bench/live_redis_inner.sh
