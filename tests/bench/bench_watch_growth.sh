#!/bin/sh
# How much a `lookout watch` that runs for months adds to the timeline a
# day: 1,000 services (a few of them crash and restart every minute or so)
# and 100 Redis queues (a few of them fed and consumed) at a 10 s interval,
# inside tests/sandbox with a real systemd --user and redis-server, for
# WATCH_GROWTH_SECONDS (default 600: one whole pulse of the samples that
# only say "unchanged"), extrapolated to a day.  The peer is
# what the same run would add if every service and queue were sampled
# every cycle (as queues were), from the bytes a sample takes in this run.
# RSS at the start and the end of the run shows memory stays flat.
set -eu
. tests/bench/lib.sh
. tests/bench/live_lib.sh
in_sandbox watch_growth_per_day --redis -- sh tests/bench/watch_growth_inner.sh
