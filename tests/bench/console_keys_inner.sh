#!/bin/sh
# Inner half of bench_console_key_latency.sh: runs inside tests/sandbox/sandbox.sh.
# The console (80x24, on a terminal of our own: tests/bench/console_pty.py)
# with 500 services whose endpoint checks hang until their 5 s timeout
# (tests/e2e/httpd.py's /fault/hang never answers; interval 1s, so hung
# requests never run out), and a runbook running whose step prints a line
# every 100 ms.  j and k, pressed in turn after a pause of 20-60 ms, move
# the overview's selection; each is timed from writing the key to reading
# the screen with the new selection (the overview's last line names the
# selected row).  `less` on a long file, pressed the same way by the same
# harness at the same time, is the peer.
# Lists of timings are split on purpose.
# shellcheck disable=SC2086
set -eu
. tests/bench/lib.sh
. tests/bench/live_lib.sh
N=${CONSOLE_HANG_N:-500}
KEYS=$((ROUNDS * 100))
[ "$KEYS" -ge 200 ] || KEYS=200
D=$W/console_keys
mkdir -p "$D/books" "$XDG_CONFIG_HOME/systemd/user"
trap stop_httpd EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

bench_httpd "$D"
user_unit web.service "[Service]" "ExecStart=/bin/sleep 100000"
systemctl --user daemon-reload
systemctl --user start web.service
echo 'interval = "1s"' >"$D/lookout.lua"
for i in $(seq -w 1 "$N"); do
	echo "service \"hang-$i\" { unit = \"web.service\", scope = \"user\", check = http { url = \"http://127.0.0.1:$HTTPD_PORT/fault/hang\", timeout_ms = 5000 } }" >>"$D/lookout.lua"
done
cat >"$D/books/ticker.lua" <<'LUA'
return runbook {
  name = "ticker",
  step "tick" { function(p)
    return sh { "/bin/sh", "-c", "i=0; while [ $i -lt 6000 ]; do echo tick $i; i=$((i + 1)); sleep 0.1; done" }
  end },
}
LUA
seq -f 'line %06g' 1 100000 >"$D/long.txt"
export LOOKOUT_RUNBOOK_PATH=$D/books

# Once every row has its state: start the runbook (:run, then y for its
# step), go back to the overview (Esc; the run goes on), press keys.
console_pty --ready "SERVICES \\($N\\)" --settled \
    --send ':run ticker\r' --wait 'Run this step' --send y --wait '^output:' \
    --send '\x1b' --wait "SERVICES \\($N\\)" \
    --row 21 --field '^[^:]*' --count "$KEYS" --screen "$D/screen.txt" keys -- \
    "$LOOKOUT" --config "$D/lookout.lua" >"$D/lookout.ms" &
ours_pid=$!
# less is pressed while the console is: the same machine, the same load.
while [ ! -s "$D/lookout.ms" ] && kill -0 "$ours_pid" 2>/dev/null; do
	sleep 0.2
done
console_pty --ready '^line 000001' --row 0 --count "$KEYS" keys -- \
    less "$D/long.txt" >"$D/less.ms"
wait "$ours_pid"

# The keys were pressed on what this benchmark is about: checks timed out
# (the selected row says why it fails), and a run going on (its step runs
# for 10 minutes; the harness ends the console, so it is interrupted).
if ! grep -q '^hang-[0-9]*: timed out after 5000 ms' "$D/screen.txt"; then
	echo "console_keys: no check timed out; screen at the end:" >&2
	cat "$D/screen.txt" >&2
	exit 1
fi
"$LOOKOUT" --config "$D/lookout.lua" runs >"$D/runs.txt" 2>&1 || true
if ! grep -q 'ticker' "$D/runs.txt"; then
	echo "console_keys: no run of the ticker runbook:" >&2
	cat "$D/runs.txt" >&2
	exit 1
fi

ours=$(cat "$D/lookout.ms")
peer=$(cat "$D/less.ms")
o50=$(percentile 50 $ours) o99=$(percentile 99 $ours)
p50=$(percentile 50 $peer) p99=$(percentile 99 $peer)
echo "BENCH console_key_latency ratio=$(ratio "$o99" "$p99" 2) target=<=50ms lookout=${o99}ms peer=${p99}ms (p99s of $KEYS j/k presses each, key written to screen read on a pty; p50 lookout ${o50}ms, less ${p50}ms; peer: less on a 100000-line file, pressed by the same harness at the same time; the console: $N endpoint checks hanging on /fault/hang until their 5 s timeout, interval 1s, a runbook step printing a line every 100 ms)"
