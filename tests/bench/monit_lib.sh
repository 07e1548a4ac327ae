# Helpers for the benchmarks of lookout watch against Monit
# (bench_watch_detect.sh, bench_watch_cpu.sh), sourced inside
# tests/sandbox after lib.sh and live_lib.sh.  Both watchers run at once,
# over the same units and the same endpoints of one httpd.py, at the same
# interval.

# monit_setup NAME DIR INTERVAL: DIR made, monit found ($MONIT; without it
# a "BENCH NAME skipped" line and exit 0), httpd.py started ($PORT, its
# PID in $httpd), and the two configurations begun: DIR/monitrc (`set
# daemon INTERVAL`, its files in DIR) and DIR/lookout.lua (`interval`).
# Sets a trap that stops httpd, $monit and $watch.
monit_setup() {
	mkdir -p "$2" "$XDG_CONFIG_HOME/systemd/user"
	# The timeline's directory is private, or lookout refuses it.
	chmod 700 "$2"
	MONIT=$(command -v monit || true)
	if [ -z "$MONIT" ]; then
		echo "BENCH $1 skipped: monit is not installed (apt-get install monit)"
		exit 0
	fi
	# Monit resets connections; httpd.py says so with a traceback.
	python3 tests/e2e/httpd.py "$2/port" 2>"$2/httpd.err" &
	httpd=$!
	monit='' watch=''
	trap 'kill $httpd $monit $watch 2>/dev/null || :' EXIT
	for _ in $(seq 50); do [ -s "$2/port" ] && break; sleep 0.1; done
	PORT=$(cat "$2/port")
	printf '%s\n' "set daemon $3" "set logfile $2/monit.log" \
	    "set pidfile $2/monit.pid" "set idfile $2/monit.id" \
	    "set statefile $2/monit.state" >"$2/monitrc"
	echo "interval = \"${3}s\"" >"$2/lookout.lua"
}

# monit_start DIR UNITS...: the units started, then lookout watch (its
# timeline DIR/timeline.db, PID in $watch) and monit -I (PID in $monit);
# returns once lookout has ended a cycle.
monit_start() {
	_d=$1
	shift
	chmod 600 "$_d/monitrc"
	"$MONIT" -t -c "$_d/monitrc" >&2
	systemctl --user daemon-reload
	systemctl --user start "$@"
	"$LOOKOUT" --db "$_d/timeline.db" --config "$_d/lookout.lua" watch \
	    2>"$_d/watch.log" &
	watch=$!
	"$MONIT" -I -c "$_d/monitrc" >"$_d/monit.out" 2>&1 &
	monit=$!
	for _ in $(seq 600); do
		[ -s "$_d/timeline.db" ] && [ -n "$(sqlite3 "$_d/timeline.db" "SELECT ts FROM heartbeats" 2>/dev/null)" ] && break
		sleep 0.1
	done
}

# monit_stop: SIGTERM to both; waits for lookout.
monit_stop() {
	kill -TERM "$watch" "$monit"
	wait "$watch" || :
	watch='' monit=''
}
