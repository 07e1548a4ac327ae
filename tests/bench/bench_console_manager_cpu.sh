#!/bin/sh
# The manager's CPU while the console watches: 200 user units (as
# bench_live_units.sh makes them), the console open for 60 s with nothing
# changing, counted once it settled; against a client refreshing the same
# state every 2 s for 60 s (k9s's default refresh), `systemctl --user show
# -p <the properties lookout reads> <the 200 units>`, in the same run
# (inside tests/sandbox).  utime + stime of the systemd --user process.
# Target: <= 0.05.
set -eu
. tests/bench/lib.sh
. tests/bench/live_lib.sh
console_check console_manager_cpu
in_sandbox console_manager_cpu -- sh tests/bench/console_cpu_inner.sh
