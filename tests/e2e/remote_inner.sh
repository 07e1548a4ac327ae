#!/bin/sh
# Services on other hosts, through OpenSSH and systemd's own bridge: runs
# inside tests/sandbox --ssh 2 (through in_sandbox.sh), where alias1 is the
# sandbox's own user manager behind a real sshd and alias2 a second
# systemd --user behind a second sshd; deadhost refuses connections and
# nokey offers a key sshd does not accept.  Prints TAP, and the figures it
# measured as comments.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../cli/tap.sh"
: "${LOOKOUT_SANDBOX_SSH_CONFIG:?runs inside tests/sandbox --ssh 2}"
: "${PROBE_WATCH:?PROBE_WATCH must point at the probe_watch helper}"
SSHD2=$LOOKOUT_SANDBOX_SSHD2_PID

# Everything that serves host 2: its sshd and every session it forked.
host2_procs() {
	todo=$SSHD2
	while [ -n "$todo" ]; do
		set -- $todo
		todo=''
		for p in "$@"; do
			echo "$p"
			todo="$todo $(pgrep -P "$p" || :)"
		done
		todo=$(echo $todo)
	done
}
thaw() { kill -CONT $(host2_procs) 2>/dev/null || :; }
watch_pid=''
httpd=''
trap 'thaw; { [ -z "$watch_pid" ] || kill "$watch_pid" 2>/dev/null || :; }; { [ -z "$httpd" ] || kill "$httpd" 2>/dev/null || :; }; rm -rf "$T"' EXIT

sd2() {
	XDG_RUNTIME_DIR=$LOOKOUT_SANDBOX_HOST2_RUNTIME_DIR \
	    XDG_CONFIG_HOME=$LOOKOUT_SANDBOX_HOST2_CONFIG_HOME systemctl --user "$@"
}
unit() {
	dir=$1 name=$2; shift 2
	printf '%s\n' "$@" > "$dir/systemd/user/$name"
}
unit "$XDG_CONFIG_HOME" idle.service "[Service]" "ExecStart=/bin/sleep 1000"
unit "$LOOKOUT_SANDBOX_HOST2_CONFIG_HOME" two.service "[Service]" "ExecStart=/bin/sleep 1000"
unit "$LOOKOUT_SANDBOX_HOST2_CONFIG_HOME" web.service "[Service]" "ExecStart=/bin/sh -c 'exit 3'"
systemctl --user daemon-reload
systemctl --user start idle.service
# Seed 001 on another host: a worker whose directory a deploy deleted.
mkdir "$T/release"
unit "$LOOKOUT_SANDBOX_HOST2_CONFIG_HOME" gone.service "[Service]" "WorkingDirectory=$T/release" "ExecStart=/bin/sleep 1000"
sd2 daemon-reload
sd2 start two.service
sd2 start gone.service
# Deleted once the worker runs in it (a start returns at the fork).
for i in $(seq 100); do
	[ "$(readlink "/proc/$(sd2 show -p MainPID --value gone.service)/cwd")" = "$T/release" ] && break
	sleep 0.1
done
rmdir "$T/release"
sd2 start web.service 2>/dev/null || :

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
# This machine runs the tests of others too: an ssh login has taken 5 s
# here.  A host has 20 s to connect and answer, and the bounds below are
# that and a margin, not a measure of speed.
TIMEOUT=20
BOUND=$(( (TIMEOUT + 10) * 1000 ))
SSHCFG="ssh_config = \"$LOOKOUT_SANDBOX_SSH_CONFIG\"
ssh_timeout = \"${TIMEOUT}s\""
json_check() {
	printf '%s' "$1" | python3 -c "
import json, sys
d = json.load(sys.stdin)
s = {x['name']: x for x in d['services']}
$2"
}
timed() {
	t0=$(now_ms)
	run "$@"
	took=$(( $(now_ms) - t0 ))
}

# --- remote state in status --json, with its host ------------------------
cat > "$T/remote.lua" <<LUA
$SSHCFG
service "local-idle" { unit = "idle.service", scope = "user" }
service "one-idle" { unit = "idle.service", scope = "user", host = "alias1" }
service "two" { unit = "two.service", scope = "user", host = "alias2" }
service "two-web" { unit = "web.service", scope = "user", host = "alias2" }
service "two-gone" { unit = "gone.service", scope = "user", host = "alias2" }
queue "two-q" { host = "alias2", command = { argv = { "sh", "-c",
  'cat "\$XDG_RUNTIME_DIR/depth"', "\$(touch $T/qpwn)'; touch $T/qpwn; '" } } }
queue "dead-q" { host = "deadhost", command = { argv = { "echo", "1" } } }
LUA
# Only host 2's sessions have this XDG_RUNTIME_DIR (sshd's SetEnv): a
# depth of 17 is read there and nowhere else.
echo 17 > "$LOOKOUT_SANDBOX_HOST2_RUNTIME_DIR/depth"
pid2=$(sd2 show -p MainPID --value two.service)
timed --config "$T/remote.lua" status --json
echo "# status --json with two hosts: $took ms"
check "status --json: each unit's state from its own host's manager" json_check "$out" "
assert s['local-idle']['host'] is None, s
assert s['one-idle']['host'] == 'alias1', s
assert (s['one-idle']['active'], s['one-idle']['sub']) == ('active', 'running'), s
assert s['two']['host'] == 'alias2', s
assert (s['two']['active'], s['two']['sub']) == ('active', 'running'), s
assert s['two']['main_pid'] == int('$pid2'), s
assert s['two']['flags'] == [], s
g = s['two-gone']
assert (g['host'], g['active'], g['flags']) == ('alias2', 'active', ['deleted-cwd']), g
assert g['reason'].endswith('runs in deleted $T/release'), g
"
check "a failed unit on another host says why, and status exits 1" sh -c '[ "$1" -eq 1 ] && printf "%s" "$2" | python3 -c "
import json, sys
s = {x[\"name\"]: x for x in json.load(sys.stdin)[\"services\"]}
w = s[\"two-web\"]
assert (w[\"host\"], w[\"active\"], w[\"reason\"]) == (\"alias2\", \"failed\", \"failed: exited with status 3\"), w
assert \"failed\" in w[\"flags\"], w
"' _ "$rc" "$out"
check "a command queue runs on its host, its words quoted: nothing else runs" json_check "$out" "
import os
q = {x['name']: x for x in d['queues']}
assert (q['two-q']['host'], q['two-q']['depth']) == ('alias2', 17), q
assert q['dead-q']['host'] == 'deadhost', q
assert 'stale' in q['dead-q']['flags'], q
assert 'deadhost: ssh failed (status 255)' in q['dead-q']['reason'], q
assert not os.path.exists('$T/qpwn'), 'injected command ran'
"
timed --config "$T/remote.lua" status
check "the table shows another host's services under its name" sh -c 'printf "%s\n" "$1" | grep -qx "on alias2:" && printf "%s\n" "$1" | grep -Eq "^two +active/running"' _ "$out"

# --- the console: rows by host, and a filter to one ------------------------
if ! command -v tmux >/dev/null 2>&1; then
	skip "console by host: tmux is not installed"
else
	. "$here/../tui/tmux.sh"
	console c 120x30 -- --config "$T/remote.lua"
	check "the console shows host 2's failed unit" wait_for c "failed/failed" "$((TIMEOUT + 10))"
	# The names of the services section, and "@HOST" for a host's line.
	service_names() {
		screen c | awk '/^ *SERVICES/ { s = 1; next } s && /^$/ { exit } s { print }' |
		    sed -E 's/^on (.*)/@\1/; t; s/^..([^ ]+).*/\1/' | tr '\n' ' '
	}
	grouped() {
		for i in $(seq $((TIMEOUT * 10))); do
			[ "$(service_names)" = "local-idle @alias1 one-idle @alias2 two-web two-gone two " ] && return 0
			sleep 0.1
		done
		screen c | sed 's/^/# | /'
		return 1
	}
	check "this machine's rows first, then each host under its name" grouped
	keys c /; type_text c "@alias2"; keys c Enter
	check "/@alias2 keeps host 2's rows alone" sh -c '
	    for i in $(seq 100); do
		s=$(tmux -L "$1" capture-pane -p -t c)
		if printf "%s\n" "$s" | grep -q "SERVICES (3)" &&
		    printf "%s\n" "$s" | grep -q "two-q" &&
		    ! printf "%s\n" "$s" | grep -Eq "local-idle|one-idle|dead-q"; then
			exit 0
		fi
		sleep 0.1
	    done
	    printf "%s\n" "$s" | sed "s/^/# | /"; exit 1' _ "$TMUX_SOCK"
	# A unit of the same name here is another unit: one on another host
	# has its journal read there (remote_journal_inner.sh shows the
	# lines; this sandbox has no journald, so there are none).
	keys c Enter
	wait_for c "│ journal" >/dev/null
	keys c j; keys c Enter
	check "the journal of a remote unit is read on its host" wait_for c "JOURNAL web.service on alias2"
	check "...which says why it shows no line" wait_for c "journal of web.service" "$((TIMEOUT + 10))"
	tmux_cleanup
fi

# --- a runbook on another host ----------------------------------------------
# restart-service on host 2's unit: every step, and every action with its
# host, in the timeline and the export.
export LOOKOUT_RUNBOOK_PATH="$here/../../templates:$T/books"
mkdir -p "$T/books"
python3 "$here/httpd.py" "$T/port" & httpd=$!
for i in $(seq 100); do [ -s "$T/port" ] && break; sleep 0.1; done
HTTP=http://127.0.0.1:$(cat "$T/port")
unit "$LOOKOUT_SANDBOX_HOST2_CONFIG_HOME" mb.service "[Service]" \
    "ExecStart=/bin/sleep 1000" "[Install]" "WantedBy=default.target"
sd2 daemon-reload
id=$("$LOOKOUT" --config "$T/remote.lua" incident open "mb down on alias2")
run --config "$T/remote.lua" run restart-service unit=mb.service \
    url="$HTTP/api/inbox/joe" host=alias2 --yes --incident "$id"
check "restart-service on host 2 succeeds (exit 0)" test "$rc" -eq 0
check "the unit was started and enabled there, by its own manager" test \
    "$(sd2 is-active mb.service)/$(sd2 is-enabled mb.service)" = active/enabled
check "...and not here" sh -c '! systemctl --user cat mb.service >/dev/null 2>&1'
"$LOOKOUT" --config "$T/remote.lua" export "$id" --format json > "$T/exp.json"
check "every step is in the timeline, every action with host alias2" python3 -c "
import json
e = json.load(open('$T/exp.json'))['events']
kinds = [x['kind'] + ':' + (x['subject'] or '') for x in e if x['kind'] != 'incident.opened']
want = ['run.started:restart-service', 'step.started:start', 'action.started:systemctl.start', 'action.finished:systemctl.start', 'step.finished:start', 'step.started:enable', 'action.started:systemctl.enable', 'action.finished:systemctl.enable', 'step.finished:enable', 'step.started:endpoint check', 'action.started:http.check', 'action.finished:http.check', 'step.finished:endpoint check', 'run.finished:restart-service']
assert [k for k in kinds if k in want] == want, kinds
for x in e:
    if x['kind'].startswith('action.') and x['subject'].startswith('systemctl.'):
        d = x['data'] if isinstance(x['data'], dict) else json.loads(x['data'])
        assert d['host'] == 'alias2', x
    if x['kind'] == 'action.started' and x['subject'] == 'systemctl.start':
        assert 'alias2' in x['message'], x
    if x['kind'] == 'step.finished':
        d = x['data'] if isinstance(x['data'], dict) else json.loads(x['data'])
        # The steps that acted there say so; the local endpoint check not.
        assert d.get('host') == (None if x['subject'] == 'endpoint check' else 'alias2'), x
"
"$LOOKOUT" --config "$T/remote.lua" export "$id" --format md > "$T/exp.md"
check "the postmortem names the host of each step that ran there" sh -c \
    'grep -q "| Step \"start\" on alias2: ok" "$1" && grep -q "| Step \"enable\" on alias2: ok" "$1" && grep -q "| Step \"endpoint check\": ok" "$1"' _ "$T/exp.md"
run --config "$T/remote.lua" verify
check "the chain verifies" test "$rc" -eq 0

# A remote sh step: its parameters reach the remote program as words, and
# nothing in them runs there, nor here; a secret goes by stdin, not argv.
cat > "$T/books/remote-args.lua" <<'LUA'
return runbook {
  name = "remote-args",
  params = { a = {}, b = {}, host = { required = true }, out = { required = true },
             token = { secret = true, env = "RB_TOKEN", required = true } },
  step "write" { function(p)
    return sh { "/bin/sh", "-c", 'for x in "$@"; do printf "[%s]\n" "$x"; done > "$0"; printf "<%s>\n" "$TOKEN" >> "$0"; printf "{%s}\n" "$XDG_RUNTIME_DIR" >> "$0"',
                p.out, p.a, p.b, host = p.host, env = { TOKEN = p.token } }
  end },
}
LUA
cd "$T"
RB_TOKEN=tok-5ec2e7 run --config "$T/remote.lua" run remote-args "a='; touch $T/x" 'b=$(id)$(touch pwned2)`touch pwned3`' \
    "out=$T/args" host=alias2 --yes
cd - >/dev/null
check "the remote sh step succeeded" test "$rc" -eq 0
check "it ran on host 2, each parameter one argument, the secret by env" test "$(cat "$T/args" 2>/dev/null)" = "['; touch $T/x]
[\$(id)\$(touch pwned2)\`touch pwned3\`]
<tok-5ec2e7>
{$LOOKOUT_SANDBOX_HOST2_RUNTIME_DIR}"
check "nothing in the parameters executed" sh -c '[ ! -e "$1/x" ] && [ ! -e "$1/pwned2" ] && [ ! -e "$1/pwned3" ] && [ ! -e "$HOME/pwned2" ]' _ "$T"
check "the secret is nowhere in the timeline" sh -c '! grep -rq tok-5ec2e7 "$1"* 2>/dev/null' _ "$LOOKOUT_DB"
RB_TOKEN=unused-9q4z run --config "$T/remote.lua" run remote-args a=1 b=2 "out=$T/args2" host=deadhost --yes
check "a remote sh step on an unreachable host fails with what ssh said" sh -c '[ "$1" -eq 1 ] && printf "%s" "$2" | grep -q "deadhost: ssh: connect to host 127.0.0.1 port [0-9]*: Connection refused"' _ "$rc" "$err"
kill "$httpd" 2>/dev/null || :
wait "$httpd" 2>/dev/null || :
httpd=""

# --- a host that refuses the connection, one that refuses the key --------
cat > "$T/dead.lua" <<LUA
$SSHCFG
service "local-idle" { unit = "idle.service", scope = "user" }
service "dead" { unit = "x.service", scope = "user", host = "deadhost" }
service "nokey" { unit = "idle.service", scope = "user", host = "nokey" }
LUA
timed --config "$T/dead.lua" status --json
echo "# unreachable hosts: status in $took ms"
check "unreachable hosts are reported in $took ms (bound $BOUND), exit 1" sh -c '[ "$1" -lt "$2" ] && [ "$3" -eq 1 ]' _ "$took" "$BOUND" "$rc"
check "a refused connection: unreachable, with what ssh said" json_check "$out" "
d = s['dead']
assert d['flags'] == ['unreachable'], d
assert d['reason'].startswith('deadhost: ssh: connect to host 127.0.0.1 port '), d
assert d['reason'].endswith('Connection refused'), d
"
check "a refused key: unreachable, Permission denied (publickey)" json_check "$out" "
d = s['nokey']
assert d['flags'] == ['unreachable'], d
assert 'Permission denied (publickey)' in d['reason'], d
"
check "the local service is read as ever" json_check "$out" "
l = s['local-idle']
assert (l['active'], l['flags'], l['reason']) == ('active', [], None), l
"

# --- a host that hangs: its sshd stopped ----------------------------------
cat > "$T/hang.lua" <<LUA
$SSHCFG
service "local-idle" { unit = "idle.service", scope = "user" }
service "two" { unit = "two.service", scope = "user", host = "alias2" }
LUA
kill -STOP "$SSHD2"
timed --config "$T/hang.lua" status --json
kill -CONT "$SSHD2"
echo "# a hanging host: status in $took ms (its timeout ${TIMEOUT} s)"
check "a hanging host is reported when its timeout ends ($took ms, bound $BOUND)" sh -c '[ "$1" -ge "$2" ] && [ "$1" -lt "$3" ] && [ "$4" -eq 1 ]' _ "$took" "$((TIMEOUT * 1000))" "$BOUND" "$rc"
check "as unreachable: no answer within its timeout; the local one is fine" json_check "$out" "
t = s['two']
assert t['flags'] == ['unreachable'], t
assert t['reason'] == 'systemd user manager on alias2: no answer within $TIMEOUT s', t
l = s['local-idle']
assert (l['active'], l['flags']) == ('active', []), l
"

# --- a host that freezes while watched ------------------------------------
# probe_watch keeps the probes running as the console does.  Host 2 is
# frozen whole (sshd and its sessions), so the connection stays open and
# says nothing; meanwhile a local unit stops, which must show at once.
cat > "$T/watch.lua" <<LUA
$SSHCFG
interval = "1s"
service "local-idle" { unit = "idle.service", scope = "user" }
service "two" { unit = "two.service", scope = "user", host = "alias2" }
LUA
"$PROBE_WATCH" "$T/watch.lua" 180000 > "$T/watch" &
watch_pid=$!
# wait_line SECONDS PATTERN: until the watch prints a line matching it.
wait_line() { wait_until "$1" grep -Eq "$2" "$T/watch"; }
check "watched: host 2's unit reads active" wait_line "$((TIMEOUT + 10))" '^[0-9]+ [0-9]+ S two active running static none - '
kill -STOP $(host2_procs) 2>/dev/null || :
stop_ms=$(now_ms)
sleep 1
local_ms=$(now_ms)
systemctl --user stop idle.service
check "while host 2 is frozen, the local unit's stop shows" wait_line 10 '^[0-9]+ [0-9]+ S local-idle inactive dead'
shown=$(awk '$4 == "local-idle" && $5 == "inactive" { print $2; exit }' "$T/watch")
echo "# the local stop showed $((shown - local_ms)) ms after it"
check "within 2 s ($((shown - local_ms)) ms)" test "$((shown - local_ms))" -lt 2000
check "host 2 turns unreachable and stale, its last state kept" wait_line "$((TIMEOUT + 15))" '^[0-9]+ [0-9]+ S two active running static none unreachable,stale \| systemd user manager on alias2: no answer within '"$TIMEOUT"' s'
stale=$(awk '$4 == "two" && $9 ~ /stale/ { print $2; exit }' "$T/watch")
echo "# frozen host reported $((stale - stop_ms)) ms after it froze (timeout ${TIMEOUT} s, interval 1 s)"
check "within its timeout and a cycle ($((stale - stop_ms)) ms, bound $BOUND)" test "$((stale - stop_ms))" -lt "$BOUND"
thaw
: > "$T/watch.mark"
lines=$(wc -l < "$T/watch")
recovered() {
	tail -n "+$((lines + 1))" "$T/watch" | grep -Eq '^[0-9]+ [0-9]+ S two active running static none - '
}
wait_until "$((3 * TIMEOUT + 20))" recovered || :
check "thawed, it connects again and reads active, unflagged" recovered
kill "$watch_pid" 2>/dev/null || :
wait "$watch_pid" 2>/dev/null || :
watch_pid=''
systemctl --user start idle.service

# --- lookout watch on another host's unit -----------------------------------
# Stopped there: the state change and the incident's evidence name the
# host, in the events and in the postmortem.
unit "$LOOKOUT_SANDBOX_HOST2_CONFIG_HOME" wb.service "[Service]" "ExecStart=/bin/sleep 1000"
sd2 daemon-reload
sd2 start wb.service
cat > "$T/wwatch.lua" <<LUA
$SSHCFG
interval = "1s"
service "wb" { unit = "wb.service", scope = "user", host = "alias2" }
LUA
"$LOOKOUT" --db "$T/wwatch.db" --config "$T/wwatch.lua" watch 2>"$T/wwatch.log" &
watch_pid=$!
# Never before lookout made the file: sqlite3 would make it, mode 0644.
wsql() { [ -s "$T/wwatch.db" ] && sqlite3 -readonly "$T/wwatch.db" "$1" 2>/dev/null || :; }
# wsql_more SQL N: the count SQL selects is above N.
wsql_more() { [ "$(wsql "$1")" -gt "$2" ] 2>/dev/null; }
# Stopped only once the watcher has recorded it running there.
wait_until "$((TIMEOUT + 10))" wsql_more "SELECT count(*) FROM samples WHERE subject = 'wb' AND state GLOB 'active/running*'" 0 || :
sd2 stop wb.service
# The rule's evidence, then the unit's journal, read there.
wait_until "$((TIMEOUT + 10))" wsql_more "SELECT count(*) FROM events WHERE kind = 'incident.evidence' AND subject = 'wb'" 1 || :
kill -TERM "$watch_pid" 2>/dev/null || :
wait "$watch_pid" 2>/dev/null || :
watch_pid=''
check "watch: host 2's stopped unit is an incident whose events name alias2" python3 -c "
import sqlite3, json
db = sqlite3.connect('$T/wwatch.db')
rows = db.execute(\"SELECT kind, data FROM events WHERE subject = 'wb'\").fetchall()
kinds = {k for k, d in rows}
assert {'state.change', 'incident.evidence'} <= kinds, (rows, open('$T/wwatch.log').read()[-1500:])
for k, d in rows:
    assert json.loads(d or '{}').get('host') == 'alias2', (k, d)
"
check "...its journal read on alias2, not here" test "$(wsql "SELECT count(*) FROM events WHERE kind = 'incident.evidence' AND subject = 'wb' AND message LIKE 'journal of wb.service on alias2: %'")" = 1
check "...and the watcher stopped cleanly" grep -q " stopped$" "$T/wwatch.log"
inc=$(wsql "SELECT incident_id FROM events WHERE kind = 'incident.evidence' AND subject = 'wb' LIMIT 1")
"$LOOKOUT" --db "$T/wwatch.db" export "${inc:-0}" --format md > "$T/wwatch.md" 2>&1 || :
md_names_host() {
	grep -q "| wb on alias2: .*inactive" "$1" &&
	    grep -q "Evidence (.*): wb on alias2: " "$1" && return 0
	grep "wb" "$1" | head -n 8 | sed 's/^/# /'
	return 1
}
check "...and its postmortem says where it ran" md_names_host "$T/wwatch.md"

# --- reconnects back off ----------------------------------------------------
# A host ssh can never reach, watched for 12 s: each attempt is logged by
# its ProxyCommand (which then fails, as a refused connection would).
# Retries wait 1 s, then 2, 4... (plus the second ssh may take to say why):
# four attempts in 12 s, where retrying every second would make a dozen.
# Only lower bounds on the gaps, which a slow machine only widens.
cat > "$T/ssh_backoff" <<CFG
Host backoff
  ProxyCommand /bin/sh -c 'date +%%s%%N >> $T/attempts; exit 1'
  BatchMode yes
CFG
chmod 600 "$T/ssh_backoff"
cat > "$T/backoff.lua" <<LUA
ssh_config = "$T/ssh_backoff"
ssh_timeout = "5s"
interval = "1s"
service "far" { unit = "far.service", scope = "user", host = "backoff" }
LUA
"$PROBE_WATCH" "$T/backoff.lua" 12000 > "$T/backoff.out" 2>&1 || :
check "an unreachable host is tried again, less and less often" python3 -c "
t = [int(x) / 1e9 for x in open('$T/attempts').read().split()]
gaps = [b - a for a, b in zip(t, t[1:])]
assert 3 <= len(t) <= 5, ('attempts', len(t), gaps)
assert gaps[0] >= 0.9 and gaps[1] >= 1.9, gaps
assert len(gaps) < 3 or gaps[2] >= 3.9, gaps
"
echo "# reconnect attempts at (s): $(python3 -c "
t = [int(x) / 1e9 for x in open('$T/attempts').read().split()]
print(' '.join('%.1f' % (x - t[0]) for x in t))" 2>/dev/null || :)"

# --- valgrind: a short remote status ----------------------------------------
if ! command -v valgrind >/dev/null 2>&1; then
	skip "valgrind is not installed"
elif ldd "$LOOKOUT" 2>/dev/null | grep -q libasan; then
	skip "valgrind: built with AddressSanitizer"
else
	cat > "$T/vg.lua" <<LUA
$SSHCFG
service "one-idle" { unit = "idle.service", scope = "user", host = "alias1" }
service "dead" { unit = "x.service", scope = "user", host = "deadhost" }
LUA
	set +e
	valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect \
	    --error-exitcode=99 "$LOOKOUT" --config "$T/vg.lua" status --json \
	    >"$T/out" 2>"$T/vg"
	rc=$?
	set -e
	# 1: the refusing host is degraded; 99 would be valgrind's.
	if [ "$rc" -eq 1 ] && json_check "$(cat "$T/out")" "
assert s['one-idle']['active'] == 'active', s
assert s['dead']['flags'] == ['unreachable'], s
"; then
		ok "valgrind: a remote status (one host answering, one refusing)"
	else
		fail "valgrind: a remote status" "$(head -c 2000 "$T/vg")" "$(cat "$T/out")"
	fi
fi
done_testing
