#!/bin/sh
# The main paths of the timeline commands leak nothing and touch no
# uninitialised memory under valgrind.
set -eu
. "$(dirname "$0")/tap.sh"

need_valgrind
db="$T/vg.db"
vg() {
	name=$1; shift
	if valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect \
	    --error-exitcode=99 "$LOOKOUT" --db "$db" "$@" >"$T/out" 2>"$T/vg"; then
		ok "valgrind: $name"
	else
		fail "valgrind: $name" "$(head -c 2000 "$T/vg")"
	fi
}
vg "incident open" incident open "leak check" --severity P1 --service a --service b
vg "incident note" incident note 1 "a note | with a pipe"
vg "incident ack" incident ack 1
vg "incident list --json" incident list --json
vg "incident show" incident show 1
vg "export md" export 1
vg "export json" export 1 --format json
vg "export csv" export 1 --format csv
vg "verify" verify
mkdir -p "$T/books"
cat > "$T/books/vg.lua" <<'LUA'
return runbook { name = "vg", params = { x = { default = "1" } },
  step "a" { function(p) note("hi " .. p.x); return sh { "/bin/echo", p.x } end },
  step "b" { function(p)
    return wait_until { function() return true end, timeout = "1s", interval = "100ms" }
  end },
}
LUA
printf 'queue "jobs" { command = { argv = { "/bin/echo", "3" } } }\n' > "$T/vg.lua"
LOOKOUT_RUNBOOK_PATH="$T/books" vg "run (sh, note, wait_until)" run vg --yes
vg "status (a command queue)" --config "$T/vg.lua" status
# libcurl is dlopen()ed for this one and kept until exit (core/curldl.c):
# what it holds then is still reachable, not lost.
printf 'queue "q" { rabbitmq = { api = "http://127.0.0.1:9", vhost = "/", name = "q", user = "guest" } }\n' > "$T/vg-rabbit.lua"
set +e
valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect \
    --error-exitcode=99 "$LOOKOUT" --db "$db" --config "$T/vg-rabbit.lua" \
    status >/dev/null 2>"$T/vg"
rc=$?
set -e
# Exit 1: nothing listens on port 9, so the queue is not answering.
check "valgrind: status (a RabbitMQ queue, through libcurl)" test "$rc" -eq 1
set +e
valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect \
    --error-exitcode=99 "$LOOKOUT" --db "$db" incident note 99 x >/dev/null 2>"$T/vg"
rc=$?
set -e
check "valgrind: an error path (unknown incident)" test "$rc" -eq 2
done_testing
