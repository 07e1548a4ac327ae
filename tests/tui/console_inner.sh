#!/bin/sh
# The console end to end: the real binary in tmux panes, inside
# tests/sandbox --redis (through in_sandbox.sh), against a real systemd
# --user, a real redis-server and a real HTTP server.  Keys are typed with
# send-keys and the screen is read back with capture-pane.  Prints TAP.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../cli/tap.sh"
. "$here/tmux.sh"
if ! command -v tmux >/dev/null 2>&1; then
	skip "tmux is not installed"; done_testing; exit 0
fi
export LOOKOUT_RUNBOOK_PATH="$here/../../templates:$T/books"
mkdir -p "$T/books"
U=$XDG_CONFIG_HOME/systemd/user
mkdir -p "$U"
python3 "$here/../e2e/httpd.py" "$T/port" & httpd=$!
trap 'tmux_cleanup; kill $httpd 2>/dev/null || :; rm -rf "$T"' EXIT
for i in $(seq 50); do [ -s "$T/port" ] && break; sleep 0.1; done
HTTP=http://127.0.0.1:$(cat "$T/port")
R="redis-cli -p $REDIS_PORT"
DB=$LOOKOUT_DB
sql() { sqlite3 "$DB" "$1"; }

printf '%s\n' "[Service]" "ExecStart=/bin/sleep 1000" "[Install]" "WantedBy=default.target" > "$U/message-bus.service"
printf '%s\n' "[Service]" "ExecStart=/bin/false" > "$U/broken.service"
# Seed 000: dies at start-up on a missing import.  It writes a first line
# and waits a moment, so that journald still finds the process to name
# its unit (journald 252 attributes a stream by its writer's /proc).
printf '%s\n' "[Service]" "ExecStart=/usr/bin/python3 -c \"import time; print('crashbus: starting', flush=True); time.sleep(1.5); queue.Queue()\"" > "$U/crashbus.service"
systemctl --user daemon-reload
systemctl --user start broken.service 2>/dev/null || true
$R rpush queues:default m1 m2 m3 m4 m5 >/dev/null
cat > "$T/lookout.lua" <<LUA
interval = "1s"
service "message-bus" { unit = "message-bus.service", scope = "user",
  check = http { url = "$HTTP/api/inbox/joe", status = 200 },
  runbook = "restart-service" }
service "broken" { unit = "broken.service", scope = "user" }
service "crashbus" { unit = "crashbus.service", scope = "user" }
queue "mail" { redis = { url = "$REDIS_URL", key = "queues:default" },
  warn = 3, crit = 100 }
LUA
cat > "$T/books/flaky.lua" <<'LUA'
return runbook {
  name = "flaky",
  step "fails" { function(p) return sh { "/bin/false" } end },
  step "never" { function(p) return sh { "/bin/true" } end },
}
LUA
cat > "$T/books/slow.lua" <<LUA
return runbook {
  name = "slow",
  step "wait" { function(p) return sh { "/bin/sh", "-c", "sleep 2; touch $T/slow-done" } end },
  step "after" { function(p) return sh { "/bin/touch", "$T/slow-after" } end },
}
LUA
C="--config $T/lookout.lua"

# --- the overview ----------------------------------------------------------
console a 100x30 LOOKOUT_DB="$DB" -- $C
check "the overview shows the services" wait_for a "SERVICES (3)"
check "a stopped, disabled unit reads inactive/dead, disabled" sh -c \
    "$(cat <<'SH'
for i in $(seq 100); do
	tmux -L "$1" capture-pane -p -t a | grep -Eq '^! +message-bus +inactive/dead +disabled' && exit 0
	sleep 0.05
done
exit 1
SH
)" _ "$TMUX_SOCK"
check "a failed unit reads failed, with its flag" sh -c \
    'screen() { tmux -L "$1" capture-pane -p -t a; }; screen "$1" | grep -Eq "^!! *broken +failed/failed .*failed"' _ "$TMUX_SOCK"
check "the queue shows its depth and state" wait_for a "warn"
check "no watcher has kept this timeline" wait_for a "watch: none"
# A watcher's heartbeat, written as lookout watch writes it.
sql "INSERT INTO heartbeats(who, ts) VALUES ('watch@test[1]', $(date +%s%3N))"
check "a watcher's heartbeat shows it running" wait_for a "watch: running" 5
sql "UPDATE heartbeats SET ts = ts - 600000"
check "and a silent one as stopped" wait_for a "watch: STOPPED 10m ago" 5
check "the queue row has depth 5" sh -c 'tmux -L "$1" capture-pane -p -t a | grep -Eq "^~ *mail +5 "' _ "$TMUX_SOCK"

# --- an incident, then the seed 000 runbook, one key per step --------------
keys a : ; type_text a "incident open message-bus down --severity P2 --service message-bus"; keys a Enter
check "an incident opened from the console shows in the header" wait_for a "incident 1 P2 open"
check "titled without its options, about the service named" sh -c '
"$1" incident list --json | python3 -c "
import json, sys
i = json.load(sys.stdin)[0]
assert (i[\"title\"], i[\"services\"]) == (\"message-bus down\", [\"message-bus\"]), i"' _ "$LOOKOUT"
keys a Escape
type_text a ":run restart-service unit=message-bus.service url=$HTTP/api/inbox/joe"
keys a Enter
check "the runner shows the first step's plan" wait_for a "systemctl --user start message-bus.service"
check "and asks, one key per answer" wait_for a "Run this step? y run it  s skip  a abort"
keys a Enter
sleep 0.5
check "Enter alone runs nothing" test "$(systemctl --user is-active message-bus.service)" != active
keys a y
check "y runs the step" wait_for a "[ok]   1. start"
keys a y
check "the second step too" wait_for a "[ok]   2. enable"
keys a y
check "and the endpoint check" wait_for a "[ok]   3. endpoint check" 15
check "the run succeeded" wait_for a "3 steps done"
check "the plans in its log are lines of their own, never joined by ^J" sh -c '
! tmux -L "$1" capture-pane -p -t a | grep -qF "^J"' _ "$TMUX_SOCK"
check "the unit is active" test "$(systemctl --user is-active message-bus.service)" = active
check "and enabled" test "$(systemctl --user is-enabled message-bus.service)" = enabled
check "the endpoint answers 200" sh -c 'curl -fsS -o /dev/null "$1/api/inbox/joe"' _ "$HTTP"
check "the run is attached to the open incident" test "$(sql "SELECT incident_id || ':' || status FROM runs WHERE id = 1")" = "1:succeeded"
check "its steps are in the timeline, each ok" test "$(sql "SELECT group_concat(subject || '=' || substr(message, 1, 2), ' ') FROM events WHERE kind = 'step.finished' AND run_id = 1")" = "start=ok enable=ok endpoint check=ok"

# --- a failing step: retry, skip or abort; abort asks once more -------------
keys a Escape
type_text a ":run flaky"; keys a Enter
wait_for a "Run this step?" >/dev/null
keys a y
check "a failed step offers retry, skip and abort" wait_for a "The step failed: r retry  s skip  a abort"
keys a a
check "abort asks once more" wait_for a "abort the run? a again"
keys a a
check "then the run is aborted" wait_for a "aborted by the operator"
check "recorded aborted" test "$(sql "SELECT status FROM runs WHERE runbook = 'flaky'")" = aborted

# --- a quick action from the menu: confirmed, then recorded as a run ---------
systemctl --user stop message-bus.service
keys a Escape
wait_for a "inactive/dead" >/dev/null
keys a / ; type_text a "message-bus"; keys a Enter
check "/ filters the rows by name" wait_gone a "broken"
keys a Enter
check "the menu of a stopped unit offers start" wait_for a "│ start"
check "and not stop" sh -c '! tmux -L "$1" capture-pane -p -t a | grep -q "│ stop"' _ "$TMUX_SOCK"
n=$(screen a | grep -n '│ start' | head -n 1 | cut -d: -f1)
m=$(screen a | grep -n '│ details' | head -n 1 | cut -d: -f1)
i=0; while [ "$i" -lt $((n - m)) ]; do keys a j; i=$((i + 1)); done
keys a Enter
check "the quick action shows the exact action before it runs" wait_for a "systemctl --user start message-bus.service: run it (recorded)? [y/n]"
keys a y
check "and starts the unit" sh -c 'for i in $(seq 100); do [ "$(systemctl --user is-active message-bus.service)" = active ] && exit 0; sleep 0.05; done; exit 1'
check "as a recorded, replayable one-step run" test "$(sql "SELECT runbook || ':' || status || ':' || incident_id FROM runs ORDER BY id DESC LIMIT 1")" = "quick-start:succeeded:1"

# --- the journal: seed 000's NameError, found, searched, kept as evidence ---
keys a Escape; keys a Escape
systemctl --user start crashbus.service
keys a / ; type_text a "crashbus"; keys a Enter
keys a Enter
wait_for a "│ journal" >/dev/null
keys a j; keys a Enter
check "the journal view shows the unit's journal" wait_for a "JOURNAL crashbus.service"
check "with the traceback's last line" wait_for a "NameError: name 'queue' is not defined" 15
keys a / ; type_text a "starting"; keys a Enter
check "/ finds a line" wait_for a "/starting"
keys a : ; type_text a "incident 1"; keys a Enter
wait_for a "incident 1 P2" >/dev/null
keys a Escape
check "back in the journal" wait_for a "JOURNAL crashbus.service"
keys a / ; type_text a "NameError"; keys a Enter
keys a e
check "e adds the line under the cursor to the incident" wait_for a "1 journal line added to incident 1"
check "the NameError is in the incident's timeline" sh -c '
"$1" incident show 1 | grep -A1 "journal of crashbus.service:" | grep -q "NameError: name .queue. is not defined"' _ "$LOOKOUT"

# --- two consoles on one timeline -------------------------------------------
keys a Escape
keys a Escape
keys a t
wait_for a "incident 1 P2" >/dev/null
console b 80x24 LOOKOUT_DB="$DB" -- $C
wait_for b "SERVICES" >/dev/null
seen=""
for try in 1 2 3; do
	keys b : ; type_text b "note from b, try $try"
	t0=$(date +%s%N)
	keys b Enter
	if wait_for a "from b, try $try" 5 >/dev/null; then
		ms=$(( ($(date +%s%N) - t0) / 1000000 ))
		echo "# the note showed in the other console after $ms ms"
		[ "$ms" -le 1000 ] && { seen=$ms; break; }
	fi
done
check "a note in one console shows in the other within 1 s" test -n "$seen"
[ -n "$seen" ] || { screen a | sed "s/^/# a| /"; screen b | sed "s/^/# b| /"; sql "SELECT seq, kind, message FROM events ORDER BY seq DESC LIMIT 5" | sed 's/^/# /'; }
keys b q
check "the second console quits with 0" test "$(wait_rc b)" = 0
"$LOOKOUT" incident note 1 "from a script"
check "so does a note from another process" wait_for a "from a script" 5

# --- text from outside never steers the terminal ----------------------------
tmux -L "$TMUX_SOCK" select-pane -t a -T "lookout-test-title"
"$LOOKOUT" incident note 1 "$(printf 'title\033]2;pwned\007 and clear\033[2J end')"
check "an escaped note shows, its escapes visible" wait_for a "title^[]2;pwned^G and clear^[[2J end" 5
check "it did not retitle the terminal" test "$(tmux -L "$TMUX_SOCK" display -p -t a '#{pane_title}')" = "lookout-test-title"
check "nor clear the screen" sh -c 'tmux -L "$1" capture-pane -p -t a | head -n 1 | grep -q "lookout"' _ "$TMUX_SOCK"

# --- resizing, fifty times ----------------------------------------------------
keys a Escape
i=0
while [ "$i" -lt 50 ]; do
	tmux -L "$TMUX_SOCK" resize-window -t a -x 200 -y 50
	sleep 0.02
	tmux -L "$TMUX_SOCK" resize-window -t a -x 80 -y 24
	sleep 0.02
	i=$((i + 1))
done
sleep 0.5
check "the console survives 50 resizes" test ! -s "$T/a.rc"
check "and fits 80x24 again: header, headings, footer" sh -c '
s=$(tmux -L "$1" capture-pane -p -t a)
printf "%s\n" "$s" | head -n 1 | grep -q "^ lookout" &&
printf "%s\n" "$s" | sed -n 2p | grep -q "SERVICES" &&
printf "%s\n" "$s" | tail -n 1 | grep -q "Enter actions"' _ "$TMUX_SOCK"
check "no line is wider than the screen" sh -c '
tmux -L "$1" capture-pane -p -J -t a | while IFS= read -r l; do
	[ "$(printf %s "$l" | LC_ALL=C.UTF-8 wc -m)" -le 80 ] || exit 1
done' _ "$TMUX_SOCK"

# --- a plain terminal: vt100, no colour, no UTF-8 ------------------------------
console c 80x24 LOOKOUT_DB="$DB" TERM=vt100 NO_COLOR=1 LANG=C LC_ALL=C -- $C
check "vt100, NO_COLOR, LANG=C: the overview reads" wait_for c "QUEUES (1)"
check "with markers, not colour alone" sh -c 'tmux -L "$1" capture-pane -p -t c | grep -Eq "^!! *broken"' _ "$TMUX_SOCK"
check "and nothing but ASCII on screen" sh -c '! tmux -L "$1" capture-pane -p -t c | LC_ALL=C grep -q "[^[:print:][:space:]]"' _ "$TMUX_SOCK"
keys c q
check "q quits with status 0" test "$(wait_rc c)" = 0

# --- read-only: every change refused, with a message ---------------------------
before=$(sql "SELECT count(*) FROM events")
console r 100x30 LOOKOUT_DB="$DB" -- $C --readonly
wait_for r "SERVICES" >/dev/null
check "the header says read-only" wait_for r "[read-only]"
keys r : ; type_text r "run flaky"; keys r Enter
check ":run is refused" wait_for r "read-only console: :run is not allowed"
keys r : ; type_text r "note hello"; keys r Enter
check ":note is refused" wait_for r "read-only console: :note is not allowed"
keys r : ; type_text r "resolve"; keys r Enter
check ":resolve is refused" wait_for r "read-only console: :resolve is not allowed"
keys r : ; type_text r "incident open nope"; keys r Enter
check ":incident open is refused" wait_for r "read-only console: opening an incident is not allowed"
keys r g; keys r Enter
check "a menu offers nothing that changes anything" sh -c '! tmux -L "$1" capture-pane -p -t r | grep -Eq "│ (start|stop|restart|run |open an)"' _ "$TMUX_SOCK"
keys r Escape; keys r t
wait_for r "incident 1" >/dev/null
keys r n
check "n (a note) is refused in the timeline" wait_for r "adding a note is not allowed"
keys r m
check "m (a milestone) too" wait_for r "setting a milestone is not allowed"
check "nothing was written to the timeline" test "$(sql "SELECT count(*) FROM events")" = "$before"
keys r Escape; keys r q
check "the read-only console quits with 0" test "$(wait_rc r)" = 0
LOOKOUT_DB="$T/long.db" "$LOOKOUT" incident open "an incident whose title is long enough to fill the header" >/dev/null
console r2 80x24 LOOKOUT_DB="$T/long.db" -- $C --readonly
check "a long incident title leaves the read-only mark in the header" wait_for r2 "[read-only]"
keys r2 q
wait_rc r2 >/dev/null

# --- SIGHUP during a step: the step ends, the run is interrupted, resumable ------
keys a : ; type_text a "run slow"; keys a Enter
wait_for a "Run this step?" >/dev/null
keys a y
wait_for a "running" >/dev/null
# The pane runs sh, which runs lookout (through env, which execs it).
pid=$(pgrep -P "$(tmux -L "$TMUX_SOCK" display -p -t a '#{pane_pid}')" -x lookout) || pid=""
check "found the console's process" test -n "$pid"
kill -HUP "$pid"
check "after SIGHUP the console exits 4" test "$(wait_rc a 15)" = 4
check "the action in flight finished" test -e "$T/slow-done"
check "no further step started" test ! -e "$T/slow-after"
check "the run is recorded interrupted" test "$(sql "SELECT status FROM runs WHERE runbook = 'slow'")" = interrupted
slow=$(sql "SELECT id FROM runs WHERE runbook = 'slow'")
console d 100x30 LOOKOUT_DB="$DB" -- $C
check "a new console offers to resume it" wait_for d "run $slow (slow) was interrupted: :resume $slow"
keys d : ; type_text d "resume $slow"; keys d Enter
check "resume offers the step that did not finish" wait_for d "Run this step?"
check "the interrupted step, first" wait_for d "[ ?? ] 1. wait"
keys d y
wait_for d "[ ?? ] 2. after" 15 >/dev/null
keys d y
check "and the run then succeeds" wait_for d "steps done" 15
check "the second step ran" test -e "$T/slow-after"
keys d Escape; keys d q
check "q quits" test "$(wait_rc d)" = 0

# --- a crash leaves the terminal sane ----------------------------------------
console z 80x24 LOOKOUT_DB="$DB" -- $C
wait_for z "SERVICES" >/dev/null
check "the console runs on the alternate screen" test "$(tmux -L "$TMUX_SOCK" display -p -t z '#{alternate_on}')" = 1
pid=$(pgrep -P "$(tmux -L "$TMUX_SOCK" display -p -t z '#{pane_pid}')" -x lookout) || pid=""
kill -SEGV "$pid"
rc=$(wait_rc z 10) || true
# 139 is the signal's own status; an ASan build's handler exits 1 first.
check "a SIGSEGV ends it (status $rc)" sh -c '[ "$1" = 139 ] || [ "$1" = 1 ]' _ "$rc"
check "and leaves the terminal off the alternate screen" test "$(tmux -L "$TMUX_SOCK" display -p -t z '#{alternate_on}')" = 0
check "with its cursor shown" test "$(tmux -L "$TMUX_SOCK" display -p -t z '#{cursor_flag}')" = 1

check "no console printed a sanitizer report" sh -c '! grep -l "Sanitizer\|runtime error" $(ls "$1"/*.err | grep -v /z.err)' _ "$T"
check "the chain is valid after all of it" sh -c '"$1" verify >/dev/null' _ "$LOOKOUT"
done_testing
