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
    elseif k == "os" then os.execute("touch " .. p.out)
    elseif k == "io" then io.open(p.out, "w")
    elseif k == "load" then load("return 1")
    elseif k == "require" then require("os")
    elseif k == "debug" then debug.getinfo(1)
    elseif k == "undefined" then return undefined_thing
    end
  end },
}
LUA

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
# How long the last run's last step took, from its timeline: the start of
# the process (slow under ASan) and a loaded machine do not count there.
step_ms() {
	sqlite3 "$LOOKOUT_DB" "SELECT max(ts) - min(ts) FROM events WHERE kind IN ('step.started', 'step.finished') AND run_id = (SELECT max(run_id) FROM events)"
}
# The Lua budget is 700 ms of CPU, and 1000 ms on the clock at most.  Each
# reason is an extended regular expression.  Lua itself takes about half a
# second of CPU to recurse to its stack limit, so on a loaded machine the
# clock may stop that step first: either reason is a clear one.
for pair in "loop|ran for over 700 ms without waiting" \
    "pcall-loop|ran for over 700 ms without waiting" \
    "rep|out of memory: the runbook may use 64 MiB" \
    "recurse|stack overflow|ran for over 700 ms without waiting" \
    "pattern|too costly" \
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
