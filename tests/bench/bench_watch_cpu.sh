#!/bin/sh
# CPU of `lookout watch` against Monit (Debian `monit`) with 200 HTTP
# checks and 200 units at a 5 s interval, both running at once inside
# tests/sandbox on a healthy sandbox: CPU seconds (user + system) per
# minute, from /proc, over WATCH_CPU_SECONDS (120).  lookout reads the
# units over D-Bus (changes and a pulse); Monit, the classic way, scans
# the process table for each `check process ... matching`.  Target:
# lookout <= 0.5x Monit.
set -eu
. tests/bench/lib.sh
. tests/bench/live_lib.sh
in_sandbox watch_cpu_per_min -- sh tests/bench/watch_cpu_inner.sh
