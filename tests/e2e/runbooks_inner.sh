#!/bin/sh
# The runbook engine end to end: real systemd --user, a real HTTP server,
# the real binary.  Runs inside tests/sandbox (through in_sandbox.sh).
# Prints TAP.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../cli/tap.sh"
export LOOKOUT_RUNBOOK_PATH="$here/../../templates:$T/books"
mkdir -p "$T/books"
U=$XDG_CONFIG_HOME/systemd/user
mkdir -p "$U"
python3 "$here/httpd.py" "$T/port" & httpd=$!
trap 'kill $httpd 2>/dev/null || :; rm -rf "$T"' EXIT
for i in $(seq 50); do [ -s "$T/port" ] && break; sleep 0.1; done
HTTP=http://127.0.0.1:$(cat "$T/port")
printf '%s\n' "[Service]" "ExecStart=/bin/sleep 1000" "[Install]" "WantedBy=default.target" > "$U/message-bus.service"
systemctl --user daemon-reload
L=$LOOKOUT
events() { sqlite3 "$LOOKOUT_DB" "SELECT group_concat(kind || ':' || coalesce(subject, ''), ' ') FROM (SELECT kind, subject FROM events WHERE run_id = $1 ORDER BY seq)"; }

# --- seed 000: restart-service takes a stopped, disabled unit all the way --
id=$($L incident open "message-bus down" --severity P2 --service message-bus)
run run restart-service unit=message-bus.service url="$HTTP/api/inbox/joe" --yes --incident "$id"
check "restart-service succeeds (exit 0)" test "$rc" -eq 0
check "the unit is active" test "$(systemctl --user is-active message-bus.service)" = active
check "and enabled" test "$(systemctl --user is-enabled message-bus.service)" = enabled
check "every step and action is in the timeline, in order" test "$(events 1)" = \
"run.started:restart-service step.started:start action.started:systemctl.start action.finished:systemctl.start step.finished:start step.started:enable action.started:systemctl.enable action.finished:systemctl.enable step.finished:enable step.started:endpoint check action.started:http.check action.finished:http.check step.finished:endpoint check run.finished:restart-service"
run verify
check "the chain is valid" test "$rc" -eq 0
run export "$id"
check "the postmortem lists the run and its steps" sh -c 'printf "%s" "$1" | grep -q "Step \"endpoint check\": ok" && printf "%s" "$1" | grep -q "Runbook \`restart-service\` (run 1) at .*: succeeded"' _ "$out"

# --- replay: same outcome, then a broken service differs -------------------
run replay 1 --yes
check "replay of a good run reports no difference" sh -c '[ "$1" -eq 0 ] && printf "%s" "$2" | grep -q "replay of run 1: no step differs"' _ "$rc" "$err"
# Break it for sure: the unit file is gone.
mv "$U/message-bus.service" "$T/message-bus.service.saved"
systemctl --user stop message-bus.service
systemctl --user daemon-reload
run replay 1 --yes
check "after breaking the service, replay names the step that differs" sh -c '[ "$1" -eq 1 ] && printf "%s" "$2" | grep -q "DIFFERS: step 1 \"start\" was ok (active (running), MainPID [0-9]*), now failed: Unit message-bus.service not found"' _ "$rc" "$err"
mv "$T/message-bus.service.saved" "$U/message-bus.service"
systemctl --user daemon-reload

# --- a failing endpoint, and a dry run ------------------------------------
cat > "$T/books/quick-check.lua" <<'LUA'
return runbook {
  name = "quick-check",
  params = { url = { required = true } },
  step "endpoint" { function(p) return http.check { url = p.url, status = 200 } end },
}
LUA
run run quick-check url="$HTTP/api/settings/auth" --yes
check "a failing endpoint fails the run (exit 1) with the reason" sh -c '[ "$1" -eq 1 ] && printf "%s" "$2" | grep -q "HTTP 404 with an empty body (expected 200)"' _ "$rc" "$err"
systemctl --user stop message-bus.service
systemctl --user reset-failed message-bus.service 2>/dev/null || true
systemctl --user disable message-bus.service 2>/dev/null
run run restart-service unit=message-bus.service url="$HTTP/api/inbox/joe" --dry-run
check "--dry-run shows the exact actions" sh -c '[ "$1" -eq 0 ] && printf "%s" "$2" | grep -q "systemctl --user start message-bus.service" && printf "%s" "$2" | grep -q "GET http://127.0.0.1:[0-9]*/api/inbox/joe"' _ "$rc" "$err"
check "--dry-run changed nothing" test "$(systemctl --user is-active message-bus.service)/$(systemctl --user is-enabled message-bus.service)" = inactive/disabled
check "--dry-run is recorded as a dry run" test "$(sqlite3 "$LOOKOUT_DB" "SELECT dry_run || status FROM runs ORDER BY id DESC LIMIT 1")" = 1dry-run

# --- hostile parameters reach the program as single arguments ---------------
cat > "$T/books/echo-args.lua" <<'LUA'
return runbook {
  name = "echo-args",
  params = { a = {}, b = {}, c = {}, d = {}, out = { required = true } },
  step "write" { function(p)
    return sh { "/bin/sh", "-c", 'for x in "$@"; do printf "[%s]\n" "$x"; done > "$0"', p.out, p.a, p.b, p.c, p.d }
  end },
}
LUA
cd "$T"
run run echo-args "a=; touch $T/pwned" 'b=$(touch pwned2)' "c=line1
line2" "d=-rf" "out=$T/args" --yes
cd - >/dev/null
check "the run succeeded" test "$rc" -eq 0
check "each parameter arrived as one argument" test "$(cat "$T/args")" = "[; touch $T/pwned]
[\$(touch pwned2)]
[line1
line2]
[-rf]"
check "nothing else executed" sh -c '[ ! -e "$1/pwned" ] && [ ! -e "$1/pwned2" ]' _ "$T"

# --- a canary secret appears nowhere ----------------------------------------
cat > "$T/books/secret-use.lua" <<'LUA'
return runbook {
  name = "secret-use",
  params = { token = { secret = true, env = "CANARY_TOKEN", required = true }, url = { required = true } },
  step "use it" { function(p)
    local r = sh { "/bin/sh", "-c", 'read t; echo "got $t"; sleep 1', stdin = p.token, env = { TOKEN = p.token } }
    note("the token is " .. p.token)
    http.check { url = p.url, headers = { Authorization = "Bearer " .. p.token } }
    return r
  end },
  step "in argv" { function(p) return sh { "/bin/echo", p.token } end },
}
LUA
canary=canary-7f3e9a51c0ffee
CANARY_TOKEN=$canary "$L" run secret-use url="$HTTP/api/inbox/joe" --yes --json >"$T/secret.out" 2>"$T/secret.err" &
pid=$!
sleep 0.5
cmdlines=$(cat /proc/[0-9]*/cmdline 2>/dev/null | tr '\0' ' ' || true)
wait $pid || true
id=$(sqlite3 "$LOOKOUT_DB" "SELECT max(id) FROM runs")
"$L" export 1 --format json > "$T/exp.json"
"$L" export 1 --format csv > "$T/exp.csv"
"$L" export 1 > "$T/exp.md"
check "a secret in argv is refused" grep -q "holds a secret" "$T/secret.err"
check "the secret was used (stdin reached the command)" grep -q '"got \*\*\*' "$T/secret.out"
found=""
for f in "$LOOKOUT_DB" "$LOOKOUT_DB-wal" "$T/secret.out" "$T/secret.err" "$T/exp.json" "$T/exp.csv" "$T/exp.md"; do
	[ -e "$f" ] && grep -qa "$canary" "$f" && found="$found $f"
done
check "the canary is in no DB, WAL, export or output${found:+ (found in$found)}" test -z "$found"
check "nor in any process's command line during the run" sh -c '! printf "%s" "$1" | grep -q "$2"' _ "$cmdlines" "$canary"
run run secret-use url="$HTTP/" token=$canary --yes
check "a secret cannot be given on the command line" sh -c '[ "$1" -eq 2 ] && printf "%s" "$2" | grep -q "comes from the environment"' _ "$rc" "$err"

# --- kill -9 during an sh step, then --resume --------------------------------
cat > "$T/books/slow.lua" <<LUA
return runbook {
  name = "slow",
  step "prepare" { function(p) return sh { "/bin/true" } end },
  step "long" { function(p) return sh { "/bin/sh", "-c", "sleep 2; touch $T/long-done" } end },
  step "after" { function(p) return sh { "/bin/touch", "$T/after-done" } end },
}
LUA
"$L" run slow --yes >/dev/null 2>&1 &
pid=$!
for i in $(seq 50); do
	[ "$(sqlite3 "$LOOKOUT_DB" "SELECT count(*) FROM steps s JOIN runs r ON r.id = s.run_id WHERE r.runbook = 'slow' AND s.name = 'long'")" = 1 ] && break
	sleep 0.1
done
kill -9 $pid
wait $pid 2>/dev/null || true
slow=$(sqlite3 "$LOOKOUT_DB" "SELECT max(id) FROM runs WHERE runbook = 'slow'")
check "after kill -9 the step reads started, outcome unknown" test "$(sqlite3 "$LOOKOUT_DB" "SELECT status FROM steps WHERE run_id = $slow AND name = 'long'")" = started
run runs
check "runs shows the run as interrupted" sh -c 'printf "%s" "$1" | grep -Eq "^$2 +slow +interrupted"' _ "$out" "$slow"
# When the step started, as the resume must say it.
started=$(sqlite3 "$LOOKOUT_DB" "SELECT strftime('%Y-%m-%dT%H:%M:%S', started_at / 1000, 'unixepoch') || printf('.%03dZ', started_at % 1000) FROM steps WHERE run_id = $slow AND name = 'long'")
run run --resume "$slow" --yes
check "--resume continues from that step and finishes" sh -c '[ "$1" -eq 0 ] && [ -e "$2/long-done" ] && [ -e "$2/after-done" ]' _ "$rc" "$T"
check "--resume shows the step whose outcome was unknown, and when it started (UTC, ISO 8601: $started)" sh -c 'printf "%s" "$1" | grep -qF "step 2 \"long\": started at $2, outcome unknown"' _ "$err" "$started"
check "the first step was not run again" test "$(sqlite3 "$LOOKOUT_DB" "SELECT count(*) FROM events WHERE run_id = $slow AND kind = 'step.started' AND subject = 'prepare'")" = 1
echo '-- changed' >> "$T/books/slow.lua"
"$L" run slow --yes >/dev/null 2>&1 &
pid=$!
sleep 0.5; kill -9 $pid; wait $pid 2>/dev/null || true
slow2=$(sqlite3 "$LOOKOUT_DB" "SELECT max(id) FROM runs WHERE runbook = 'slow'")
echo '-- changed again' >> "$T/books/slow.lua"
run run --resume "$slow2" --yes
check "--resume refuses when the runbook changed" sh -c '[ "$1" -eq 2 ] && printf "%s" "$2" | grep -q "changed since it ran"' _ "$rc" "$err"

# --- one run per runbook and target ---------------------------------------
"$L" run slow --yes >/dev/null 2>&1 &
pid=$!
sleep 0.3
run run slow --yes
check "a second run is refused, naming who holds it" sh -c '[ "$1" -eq 2 ] && printf "%s" "$2" | grep -q "already running: root.* since .*pid"' _ "$rc" "$err"
wait $pid || true

# --- SIGHUP mid-run: the action finishes, the run is interrupted -------------
"$L" run slow --yes >"$T/hup.out" 2>&1 &
pid=$!
sleep 0.8
kill -HUP $pid
set +e; wait $pid; hrc=$?; set -e
check "SIGHUP: exit 4, interrupted" sh -c '[ "$1" -eq 4 ] && grep -q "run [0-9]* interrupted" "$2"' _ "$hrc" "$T/hup.out"
check "the running action finished and was recorded" test "$(sqlite3 "$LOOKOUT_DB" "SELECT count(*) FROM events WHERE run_id = (SELECT max(id) FROM runs) AND kind = 'action.finished'")" -ge 2

# --- without a terminal and without --yes, run refuses ----------------------
set +e; setsid "$L" run slow </dev/null >/dev/null 2>"$T/notty"; nrc=$?; set -e
check "no terminal and no --yes: exit 2" sh -c '[ "$1" -eq 2 ] && grep -q "add --yes" "$2"' _ "$nrc" "$T/notty"

run verify
check "after all of it the chain is valid" test "$rc" -eq 0
done_testing
