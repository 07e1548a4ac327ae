# Helpers for the tests of lookout watch (tests/e2e/watch_*_inner.sh),
# sourced after tests/cli/tap.sh inside tests/sandbox: the watcher runs as
# a systemd --user service made from the shipped unit
# (templates/lookout-watch.service, as meson configured it: $WATCH_UNIT).

U=$XDG_CONFIG_HOME/systemd/user
mkdir -p "$U"
DB=$T/timeline.db
export LOOKOUT_DB="$DB"

sql() { sqlite3 "$DB" "$1"; }
now_ms() { date +%s%3N; }

# unit NAME LINE...: a user unit file.
unit() { _n=$1; shift; printf '%s\n' "$@" >"$U/$_n"; }

# incident_of NAME: the newest incident whose services include NAME, or "".
incident_of() {
	sql "SELECT incident_id FROM events WHERE kind = 'incident.opened'
	    AND EXISTS (SELECT 1 FROM json_each(data, '\$.services')
	    WHERE value = '$1') ORDER BY seq DESC LIMIT 1"
}
has_incident() { [ -n "$(incident_of "$1")" ]; }
incidents() { sql "SELECT count(*) FROM events WHERE kind = 'incident.opened'"; }
# has_event KIND ID PATTERN: incident ID has an event of KIND whose
# message is LIKE PATTERN (SQL).
has_event() {
	[ -n "$(sql "SELECT seq FROM events WHERE kind = '$1' AND incident_id = ${2:-0} AND message LIKE '$3'")" ]
}

# await_incident NAME SECONDS T0 WHAT: waits for an incident of NAME and
# says "# WHAT: incident N opened MS ms later", with MS (from T0) in $ms;
# when none comes, the watcher's last lines.
await_incident() {
	ms=''
	if wait_until "$2" has_incident "$1"; then
		ms=$(($(now_ms) - $3))
		echo "# $4: incident $(incident_of "$1") opened $ms ms later"
		return 0
	fi
	watch_log | tail -n 20 | sed 's/^/#   /'
	return 1
}

# need_journal: skips the whole test (and exits) without the sandbox's
# journald, which the watcher logs to and reads the units' lines from.
need_journal() {
	[ -n "${LOOKOUT_SANDBOX_JOURNAL:-}" ] && return 0
	skip "the sandbox runs no journald (sandbox.sh --journal)"
	done_testing
	exit 0
}

# start_httpd: tests/e2e/httpd.py on loopback, its URL in $HTTP and its
# PID in $httpd (the caller's trap kills it); what it is posted goes to
# $T/posts, a JSON object a line.
start_httpd() {
	: >"$T/posts"
	python3 "$here/httpd.py" "$T/port" "$T/posts" &
	httpd=$!
	for _ in $(seq 50); do [ -s "$T/port" ] && break; sleep 0.1; done
	HTTP=http://127.0.0.1:$(cat "$T/port")
}

# status_is ID STATUS...: incident ID's status is one of those.
status_is() {
	_st=$("$LOOKOUT" incident list --json | python3 -c "
import json, sys
print([x for x in json.load(sys.stdin) if x['id'] == int(sys.argv[1])][0]['status'])" "$1")
	shift
	for _want in "$@"; do [ "$_st" = "$_want" ] && return 0; done
	return 1
}

# watch_unit [WATCHDOG]: installs lookout-watch.service from the shipped
# unit, running this build against $DB and $T/lookout.lua, with its
# watchdog at WATCHDOG (default 10s).  Its core dumps are off (the
# watchdog's SIGABRT would leave one) and it runs in $T.
watch_unit() {
	: "${WATCH_UNIT:?WATCH_UNIT must point at the configured lookout-watch.service}"
	sed -e "s|^ExecStart=.*|ExecStart=$LOOKOUT --db $DB --config $T/lookout.lua watch|" \
	    -e "s|^WatchdogSec=.*|WatchdogSec=${1:-10s}|" "$WATCH_UNIT" >"$U/lookout-watch.service"
	mkdir -p "$U/lookout-watch.service.d"
	unit lookout-watch.service.d/test.conf "[Service]" "LimitCORE=0" \
	    "WorkingDirectory=$T" "RestartSec=100ms" \
	    "Environment=\"ASAN_OPTIONS=${ASAN_OPTIONS:-}\" \"UBSAN_OPTIONS=${UBSAN_OPTIONS:-}\""
	systemctl --user daemon-reload
}

watch_prop() { systemctl --user show -p "$1" --value lookout-watch.service; }

# watch_log: the watcher's log as the journal has it, one "PRIORITY text"
# a line (through probes/journal.c: the sandbox's manager is not where
# journalctl -u looks).
watch_log() {
	"$JOURNAL_TAIL" -n 1000 lookout-watch.service 2>/dev/null |
	    sed -n 's/^L [0-9]* \([0-9]\) [0-9]* [01] /\1 /p'
}
