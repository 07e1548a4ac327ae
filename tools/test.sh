#!/bin/sh
# Runs every test: installs what is missing, builds twice with -Werror
# (plain, and with AddressSanitizer + UndefinedBehaviorSanitizer), runs the
# suite in both, builds once more with clang and the fuzz targets (-Werror
# too) and replays their corpora, and ends with one line: N passed, N
# failed, N skipped.
set -eu
cd "$(dirname "$0")/.."
. tools/deps.sh
lookout_install_deps $LOOKOUT_BUILD_DEPS $LOOKOUT_TEST_DEPS
# The end-to-end tests' real services (systemd --user, Redis, RabbitMQ);
# without root they SKIP with the reason.
if [ "$(id -u)" -eq 0 ]; then
	sh tests/sandbox/install-deps.sh
elif command -v sudo >/dev/null 2>&1; then
	sudo sh tests/sandbox/install-deps.sh || true
fi

status=0
logs=""
for variant in plain asan; do
	dir=build-test-$variant
	opts="-Dwerror=true -Dbuildtype=debugoptimized"
	[ $variant = asan ] && opts="$opts -Db_sanitize=address,undefined"
	if [ ! -d "$dir" ]; then
		meson setup "$dir" $opts >/dev/null
	else
		meson configure "$dir" $opts >/dev/null
	fi
	echo "== build ($variant)"
	ninja -C "$dir" >/dev/null || { status=1; continue; }
	echo "== test ($variant)"
	meson test -C "$dir" --print-errorlogs --num-processes 2 "$@" || status=1
	logs="$logs $dir/meson-logs/testlog.json"
done
# clang, for its warnings and the fuzz targets, which nothing else builds.
dir=build-test-fuzz
opts="-Dwerror=true -Dbuildtype=debugoptimized -Dfuzz=true"
if [ ! -d "$dir" ]; then
	CC=clang meson setup "$dir" $opts >/dev/null
else
	meson configure "$dir" $opts >/dev/null
fi
echo "== build (clang, fuzz targets)"
if ninja -C "$dir" >/dev/null; then
	echo "== test (fuzz corpora)"
	meson test -C "$dir" --print-errorlogs --suite fuzz || status=1
	logs="$logs $dir/meson-logs/testlog.json"
else
	status=1
fi
python3 tools/count-tests.py $logs || status=1
exit $status
