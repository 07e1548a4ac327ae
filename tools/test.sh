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
# ninja's output goes to a log; on failure its errors are shown, and the
# build counts as a failure in the last line.
build() {
	if ninja -C "$1" >"$1/build.log" 2>&1; then
		return 0
	fi
	grep -E -B2 -A8 'FAILED|error' "$1/build.log" | head -60 >&2
	logs="$logs --build-failed $2"
	status=1
	return 1
}
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
	build "$dir" "$variant" || continue
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
if build "$dir" clang; then
	echo "== test (fuzz corpora)"
	meson test -C "$dir" --print-errorlogs --suite fuzz || status=1
	logs="$logs $dir/meson-logs/testlog.json"
fi
python3 tools/count-tests.py $logs || status=1
exit $status
