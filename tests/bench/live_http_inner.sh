#!/bin/sh
# Inner half of bench_live_http.sh: runs inside tests/sandbox/sandbox.sh.
# Starts a private nginx on a free 127.0.0.1 port (its own config, pid file
# and logs under $W) and stops it by PID on exit.
# Loop counters are unused and lists of timings are split on purpose.
# shellcheck disable=SC2034,SC2086
set -eu
. tests/bench/lib.sh
. tests/bench/live_lib.sh
N=${LIVE_HTTP_N:-1000}
D=$W/live_http
mkdir -p "$D/www" "$D/tmp" "$D/logs" "$XDG_CONFIG_HOME/systemd/user"
ngx=""
stop_nginx() {
	[ -n "$ngx" ] || return 0
	kill -TERM "$ngx" 2>/dev/null || true
	for _i in $(seq 50); do
		kill -0 "$ngx" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$ngx" 2>/dev/null || true
	wait "$ngx" 2>/dev/null || true
	# Its workers are its children and exit with it; make sure.
	if [ -s "$D/nginx.pid" ] && kill -0 "$(cat "$D/nginx.pid")" 2>/dev/null; then
		kill -KILL "$(cat "$D/nginx.pid")" 2>/dev/null || true
	fi
	ngx=""
}
trap stop_nginx EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

printf '{"status":{"db":"up"},"queue":"default","depth":0}\n' >"$D/www/status.json"
start_nginx() {
	PORT=$(bench_free_port)
	cat >"$D/nginx.conf" <<NGX
worker_processes 2;
user root;
pid $D/nginx.pid;
error_log $D/logs/error.log warn;
worker_rlimit_nofile 8192;
events { worker_connections 4096; }
http {
	access_log off;
	client_body_temp_path $D/tmp/body;
	proxy_temp_path $D/tmp/proxy;
	fastcgi_temp_path $D/tmp/fastcgi;
	uwsgi_temp_path $D/tmp/uwsgi;
	scgi_temp_path $D/tmp/scgi;
	keepalive_requests 100000;
	server {
		listen 127.0.0.1:$PORT backlog=4096;
		root $D/www;
		location / { default_type application/json; }
	}
}
NGX
	nginx -p "$D/" -c "$D/nginx.conf" -g 'daemon off;' </dev/null >"$D/logs/stdout" 2>&1 &
	ngx=$!
	for _i in $(seq 50); do
		curl -fs -o /dev/null "http://127.0.0.1:$PORT/status.json" && return 0
		kill -0 "$ngx" 2>/dev/null || break
		sleep 0.1
	done
	stop_nginx
	return 1
}
started=""
for attempt in 1 2 3; do
	start_nginx && { started=1; break; }
done
[ -n "$started" ] || { cat "$D/logs/error.log" "$D/logs/stdout" >&2; echo "nginx did not start" >&2; exit 1; }
BASE=http://127.0.0.1:$PORT/status.json

user_unit web.service "[Service]" "ExecStart=/bin/sleep 100000"
systemctl --user daemon-reload
systemctl --user start web.service
: >"$D/lookout.lua"
: >"$D/curl.conf"
i=1
while [ "$i" -le "$N" ]; do
	echo "service \"web-$i\" { unit = \"web.service\", scope = \"user\", check = http { url = \"$BASE?i=$i\" } }" >>"$D/lookout.lua"
	printf 'url = "%s?i=%d"\noutput = "/dev/null"\n' "$BASE" "$i" >>"$D/curl.conf"
	i=$((i + 1))
done

ours="" peer=""
# A round takes ~130 ms and single rounds swing by 20% on a shared machine:
# three times the rounds make the median steadier at little cost.
for r in $(seq 1 $((ROUNDS * 3))); do
	t=$(now); status_json "$D/lookout.lua" "$D/status.json"; ours="$ours $(elapsed "$t")"
	t=$(now)
	curl --parallel --parallel-max 50 -s -w '%{http_code}\n' --config "$D/curl.conf" >"$D/codes.txt" 2>"$D/curl.err"
	peer="$peer $(elapsed "$t")"
done

nok=$(grep -o '"health":"ok"' "$D/status.json" | wc -l)
cok=$(grep -c '^200$' "$D/codes.txt")
if [ "$nok" -ne "$N" ] || [ "$cok" -ne "$N" ]; then
	echo "live_http: lookout: $nok of $N checks ok, curl: $cok of $N 200s" >&2
	grep -o '"reason":"[^"]*"' "$D/status.json" | sort | uniq -c | head >&2
	exit 1
fi
o=$(median $ours); p=$(median $peer)
orate=$(ratio "$N" "$o" 0); prate=$(ratio "$N" "$p" 0)
echo "BENCH live_http_1000 ratio=$(ratio "$orate" "$prate" 2) target=>=0.8 lookout=${orate}checks/s peer=${prate}fetches/s (curl --parallel --parallel-max 50 -s -o /dev/null, the same $N URLs on a loopback nginx; lookout $(ratio "$o" 0.001 0)ms, curl $(ratio "$p" 0.001 0)ms)"
