#!/bin/sh
# Keypress to screen: the console at 80x24 with 500 endpoint checks hanging
# until their 5 s timeout and a runbook step printing a line every 100 ms;
# j and k move the overview's selection, each timed from writing the key to
# reading the changed screen on the pty (inside tests/sandbox).  Against
# `less` on a long file, pressed by the same harness at the same time.
# Target: p99 <= 50 ms; ratio = lookout's p99 / less's p99.
set -eu
. tests/bench/lib.sh
. tests/bench/live_lib.sh
console_check console_key_latency less
in_sandbox console_key_latency -- sh tests/bench/console_keys_inner.sh
