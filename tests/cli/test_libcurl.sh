#!/bin/sh
# libcurl is loaded on first use (core/curldl.h): commands that make no
# HTTP request never load it, and where it cannot be loaded, whatever
# needed it fails with one sentence naming libcurl.so.4 and its package.
set -eu
. "$(dirname "$0")/tap.sh"

# A libcurl that cannot be loaded is the one fault the real system cannot
# produce on demand, so it is injected: an empty file named libcurl.so.4,
# found first through LD_LIBRARY_PATH.  The libraries lookout is linked
# with are found as usual.
mkdir -p "$T/nocurl"
: > "$T/nocurl/libcurl.so.4"
run_nocurl() {
	set +e
	LD_LIBRARY_PATH="$T/nocurl" "$LOOKOUT" "$@" >"$T/out" 2>"$T/err"
	rc=$?
	set -e
	out=$(cat "$T/out")
	err=$(cat "$T/err")
}
# The whole sentence, dlerror()'s part included.
cannot_load='^lookout: cannot load libcurl\.so\.4: .*/libcurl\.so\.4: file too short; '
cannot_load=$cannot_load'HTTP checks and RabbitMQ queues need it \(Debian package libcurl4\)$'

# libcurl is loaded before any systemd manager is asked, so this holds
# whether or not a manager runs here.
cat > "$T/check.lua" <<'LUA'
service "web" {
	unit = "web.service",
	check = http { url = "http://127.0.0.1:9/health", timeout_ms = 1000 },
}
LUA
run_nocurl --config "$T/check.lua" status
expect_error "status with an HTTP check: libcurl.so.4 cannot be loaded" 2 \
    "$cannot_load"

cat > "$T/rabbit.lua" <<'LUA'
queue "inventory" {
	rabbitmq = { api = "http://127.0.0.1:9", vhost = "/",
	    name = "inventory", user = "guest" },
}
LUA
run_nocurl --config "$T/rabbit.lua" status
expect_error "status with a RabbitMQ queue: libcurl.so.4 cannot be loaded" 2 \
    "$cannot_load"

# In a runbook the step fails with the reason, once: a library that did
# not load will not load on a retry either.
mkdir -p "$T/books"
cat > "$T/books/probe.lua" <<'LUA'
return runbook { name = "probe",
  step "probe" { function(p)
    return http.check { url = "http://127.0.0.1:9/health", retries = 3,
      backoff_ms = 100 }
  end },
}
LUA
set +e
LOOKOUT_RUNBOOK_PATH="$T/books" LD_LIBRARY_PATH="$T/nocurl" \
    timeout 30 "$LOOKOUT" run probe --yes >"$T/out" 2>"$T/err"
rc=$?
set -e
# The run's progress is on stderr.
if [ "$rc" -eq 1 ] &&
    grep -Eq 'FAILED cannot load libcurl\.so\.4: .*libcurl4\)$' "$T/err" &&
    ! grep -q 'try [0-9]* of' "$T/err"; then
	ok "runbook http.check: the step fails once, naming libcurl.so.4"
else
	fail "runbook http.check: the step fails once, naming libcurl.so.4" \
	    "exit $rc (want 1)" "stderr: $(head -c 1500 "$T/err")"
fi

# What ld.so loads, as it tells it with LD_DEBUG=libs.
loads_libcurl() {
	LD_DEBUG=libs "$LOOKOUT" "$@" >/dev/null 2>"$T/ld" || true
	grep -q libcurl "$T/ld"
}
"$LOOKOUT" incident open "no request in sight" >/dev/null
if loads_libcurl incident list; then
	fail "incident list does not load libcurl" "$(grep libcurl "$T/ld")"
else
	ok "incident list does not load libcurl"
fi
# Only systemd units: whether or not their manager answers here, there is
# nothing to fetch.
printf 'service "web" { unit = "web.service" }\n' > "$T/units.lua"
if loads_libcurl --config "$T/units.lua" status; then
	fail "status with only systemd services does not load libcurl" \
	    "$(grep libcurl "$T/ld")"
else
	ok "status with only systemd services does not load libcurl"
fi
# The control: without it the two checks above would also pass if
# LD_DEBUG said nothing at all.
if loads_libcurl --config "$T/rabbit.lua" status; then
	ok "status with a RabbitMQ queue loads libcurl"
else
	fail "status with a RabbitMQ queue loads libcurl" "$(head -c 1000 "$T/ld")"
fi
done_testing
