#!/bin/sh
# Terminal bytes of the idle console: `lookout --config FILE` at 80x24 on a
# terminal of our own, 100 services on running user units (no checks) and
# 10 queues, interval 1s, nothing changing, counted for 30 s once the units'
# ages no longer count seconds; against `top -d 1` on the same kind of
# terminal for the same time (inside tests/sandbox).  Target: <= 50 B/s;
# ratio = lookout / top.
set -eu
. tests/bench/lib.sh
. tests/bench/live_lib.sh
console_check console_bytes_idle top
in_sandbox console_bytes_idle -- sh tests/bench/console_bytes_inner.sh idle
