#!/bin/sh
# Terminal bytes of the console while every service's check latency changes
# each second: as bench_console_bytes_idle.sh, but each of the 100 services
# has an HTTP check on tests/e2e/httpd.py's /jitter (answers after a random
# 1-40 ms); counted for 30 s after it settled, against `top -d 1` for the
# same time.  Target: <= 1 KB/s; ratio = lookout / top.
set -eu
. tests/bench/lib.sh
. tests/bench/live_lib.sh
console_check console_bytes_latency top
in_sandbox console_bytes_latency -- sh tests/bench/console_bytes_inner.sh latency
