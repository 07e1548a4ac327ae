#!/bin/sh
# Memory of the console: its peak RSS (VmHWM from /proc, read while it runs,
# 10 s after its first frame) with 500 services (100 running) and 100 Redis
# queues, as bench_live_memory.sh sets them up (inside tests/sandbox with a
# real systemd --user and redis-server).  Target: <= 16 MB (there is no
# peer process to match, so ratio = RSS / 16 MB; top's is given besides).
set -eu
. tests/bench/lib.sh
. tests/bench/live_lib.sh
console_check console_memory top
in_sandbox console_memory --redis -- sh tests/bench/console_memory_inner.sh
