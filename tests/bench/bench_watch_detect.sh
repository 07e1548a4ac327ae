#!/bin/sh
# Detection latency of `lookout watch` against Monit (Debian `monit`, the
# classic C watcher), both running at once inside tests/sandbox, with the
# same checks at the same interval (WATCH_DETECT_INTERVAL, 5 s): for each
# failure mode, the median of WATCH_DETECT_ROUNDS (10) from the fault to
# the watcher's record of it (lookout: its incident.opened event; Monit:
# its `exec` action, which stamps the time).  Failure modes: a unit's
# process killed (lookout: the unit over D-Bus; Monit: `check process
# ... matching`, the way Monit watches a daemon) and an endpoint that
# starts answering 404 with an empty body (both: one HTTP GET per cycle,
# one failure fires).  Target for the crash: lookout <= 1 s; the ratio's
# target says lookout is not bound to its poll cycle.
set -eu
. tests/bench/lib.sh
. tests/bench/live_lib.sh
in_sandbox watch_detect -- sh tests/bench/watch_detect_inner.sh
