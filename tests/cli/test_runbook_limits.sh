#!/bin/sh
# Runaway runbook code is stopped within a second with a clear reason, and
# the sandbox has no way out (no os.execute, io, load, require, debug).
set -eu
. "$(dirname "$0")/tap.sh"

mkdir -p "$T/books"
export LOOKOUT_RUNBOOK_PATH="$T/books"
cat > "$T/books/misbehave.lua" <<'LUA'
return runbook {
  name = "misbehave",
  params = { kind = { required = true }, out = { default = "/tmp/lookout-must-not-exist" } },
  step "misbehave" { function(p)
    local k = p.kind
    if k == "loop" then while true do end
    elseif k == "pcall-loop" then while true do pcall(function() while true do end end) end
    elseif k == "rep" then local s = ("x"):rep(2^30); return #s > 0
    elseif k == "recurse" then local function f(n) return f(n + 1) + 1 end; return f(1)
    elseif k == "pattern" then return (("a"):rep(20000)):find(".-.-.-b") ~= nil
    elseif k == "balance" then return ("("):rep(400000):find("%b()") ~= nil
    elseif k == "classes" then return ("a"):rep(1000000):find(("[a]"):rep(3000) .. "b") ~= nil
    elseif k == "backref" then return ("a"):rep(20000):match("(.-)%1b") ~= nil
    elseif k == "gsub" then return select(2, ("a"):rep(20000):gsub("(.-)%1b", "")) > 0
    elseif k == "plain" then return ("a"):rep(5000000):find(("a"):rep(5000) .. "b", 1, true) ~= nil
    elseif k == "rep0" then return #string.rep("", 2^53) ~= 0
    elseif k == "sort" then
      big = {}
      for i = 1, 2000000 do big[i] = (i * 7919) % 2000003 end
    elseif k == "os" then os.execute("touch " .. p.out)
    elseif k == "io" then io.open(p.out, "w")
    elseif k == "load" then load("return 1")
    elseif k == "require" then require("os")
    elseif k == "debug" then debug.getinfo(1)
    elseif k == "undefined" then return undefined_thing
    end
  end },
  -- Sorting millions in one C call took seconds: the table is built by
  -- the step before, so that only the sort is timed.
  step "sort" { function(p)
    if p.kind == "sort" then table.sort(big, rawequal) end
  end },
}
LUA

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
# How long the last run's last step took, from its timeline: the start of
# the process (slow under ASan) and a loaded machine do not count there.
step_ms() {
	sqlite3 "$LOOKOUT_DB" "SELECT (SELECT max(ts) FROM events WHERE kind = 'step.finished' AND run_id = r) - (SELECT max(ts) FROM events WHERE kind = 'step.started' AND run_id = r) FROM (SELECT max(run_id) AS r FROM events)"
}
# The Lua budget is 700 ms of CPU, and 1000 ms on the clock at most.  Each
# reason is an extended regular expression.  Lua itself takes about half a
# second of CPU to recurse to its stack limit, so on a loaded machine the
# clock may stop that step first: either reason is a clear one.
for pair in "loop|ran for over 700 ms without waiting" \
    "pcall-loop|ran for over 700 ms without waiting" \
    "rep|out of memory: the runbook may use 64 MiB" \
    "recurse|stack overflow|ran for over 700 ms without waiting" \
    "pattern|ran for over 700 ms without waiting.*in string.find: the pattern is too costly" \
    "balance|ran for over 700 ms without waiting.*in string.find: the pattern is too costly" \
    "classes|ran for over 700 ms without waiting.*in string.find: the pattern is too costly" \
    "backref|ran for over 700 ms without waiting.*in string.match: the pattern is too costly" \
    "gsub|ran for over 700 ms without waiting.*in string.gsub: the pattern is too costly" \
    "plain|the step returned false" \
    "rep0|the step returned false" \
    "sort|ran for over 700 ms without waiting" \
    "os|attempt to call a nil value \\(field 'execute'\\)" \
    "io|undefined variable 'io'" \
    "load|undefined variable 'load'" \
    "require|undefined variable 'require'" \
    "debug|undefined variable 'debug'" \
    "undefined|undefined variable 'undefined_thing'"; do
	kind=${pair%%|*}; want=${pair#*|}
	t0=$(now_ms)
	run run misbehave kind="$kind" out="$T/escaped" --yes
	took=$(( $(now_ms) - t0 ))
	step=$(step_ms)
	if [ "$rc" -eq 1 ] && printf '%s' "$err" | grep -qE "$want" &&
	    [ "$step" -lt 1500 ] && [ "$took" -lt 5000 ]; then
		ok "$kind: the step fails in $step ms: $want"
	else
		fail "$kind: the step fails within 1 s with a clear reason" "rc=$rc step=${step}ms took=${took}ms" "$err"
	fi
done
check "nothing escaped the sandbox" test ! -e "$T/escaped"

# SIGTERM while the step is deep inside one library call (here Lua's
# pattern matching, where the count hook never fires): the run ends at
# once, recorded as interrupted (exit status 4), not when the call would
# have ended, nor as a failure once the budget runs out.  The step tells
# when it is about to match by leaving a file.  A timeline of its own.
timeline=$LOOKOUT_DB
LOOKOUT_DB=$T/stuck.db
cat > "$T/books/stuck.lua" <<'LUA'
return runbook {
  name = "stuck",
  params = { ready = { required = true } },
  step "match" { function(p)
    sh { "/usr/bin/touch", p.ready }
    return ("("):rep(400000):find("%b()") ~= nil
  end },
}
LUA
rm -f "$T/ready"
"$LOOKOUT" run stuck ready="$T/ready" --yes >"$T/out" 2>"$T/err" &
pid=$!
i=0
while [ ! -e "$T/ready" ] && [ $i -lt 500 ]; do sleep 0.01; i=$((i + 1)); done
sleep 0.1
t0=$(now_ms)
kill -TERM "$pid"
set +e
wait "$pid"
rc=$?
set -e
took=$(( $(now_ms) - t0 ))
err=$(cat "$T/err")
if [ "$rc" -eq 4 ] && [ "$took" -lt 1000 ] &&
    printf '%s' "$err" | grep -q 'step 1 "match": interrupted: lookout was interrupted (Terminated)'; then
	ok "SIGTERM inside a pattern match ends the run in $took ms, interrupted"
else
	fail "SIGTERM inside a pattern match ends the run within 1 s, interrupted" "rc=$rc took=${took}ms" "$err"
fi
run runs --json
check "lookout runs --json shows the run interrupted" sh -c 'printf "%s" "$1" | jq -e "map(select(.runbook == \"stuck\"))[0].status == \"interrupted\"" >/dev/null' _ "$out"
check "the timeline has the step interrupted and run.interrupted" test "$(sqlite3 "$LOOKOUT_DB" "SELECT group_concat(kind || ':' || coalesce(json_extract(data, '$.status'), ''), ' ') FROM (SELECT kind, data FROM events WHERE run_id = (SELECT max(run_id) FROM events) AND kind IN ('step.finished', 'run.interrupted', 'run.finished') ORDER BY seq)")" = "step.finished:interrupted run.interrupted:interrupted"
LOOKOUT_DB=$timeline

# Found by fuzzing: tables with a raising metatable (_G's) where the
# loader or the engine reads fields.  A clear error, never a crash.
cat > "$T/books/hostile-tables.lua" <<'LUA'
return runbook {
  name = "hostile-tables",
  params = { nope = _G },
  step "a" { function(p) return true end },
}
LUA
run check "$T/books/hostile-tables.lua"
check "the loader reports a param that is _G, and does not crash" sh -c '[ "$1" -eq 2 ] && printf "%s" "$2" | grep -q "param nope: unknown key"' _ "$rc" "$err"
cat > "$T/books/returns-g.lua" <<'LUA'
return runbook {
  name = "returns-g",
  step "a" { function(p) return _G end },
  step "b" { function(p) return http.check(_G) end },
}
LUA
run run returns-g --yes
check "steps that hand _G to the engine fail cleanly" sh -c '[ "$1" -eq 1 ] && printf "%s" "$2" | grep -q "url must be an http"' _ "$rc" "$err"
# Text that is not UTF-8 (a parameter typed in Latin-1) is recorded as
# U+FFFD, not dropped from the record of what ran.
cat > "$T/books/latin1.lua" <<'LUA'
return runbook { name = "latin1", params = { word = { required = true } },
  step "echo" { function(p) return sh { "/bin/echo", p.word } end } }
LUA
run run latin1 --yes word="$(printf 'caf\351')"
check "an argv that is not UTF-8 is kept whole in the timeline" test "$(sqlite3 "$LOOKOUT_DB" "SELECT json_array_length(data, '$.argv') || ' ' || (json_extract(data, '$.argv[1]') = 'caf' || char(65533)) FROM events WHERE kind = 'action.started'")" = "2 1"
check "and so is the parameter" test "$(sqlite3 "$LOOKOUT_DB" "SELECT json_extract(params, '$.word') = 'caf' || char(65533) FROM runs WHERE runbook = 'latin1'")" = 1
run verify
check "every failure is in a valid timeline" test "$rc" -eq 0
done_testing
