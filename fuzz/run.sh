#!/bin/sh
# Builds (if needed) and runs one fuzz target for a while on a copy of its
# seed corpus, so the committed corpus never grows.
#
#	sh fuzz/run.sh TARGET SECONDS [libFuzzer options...]
#
# TARGET is config, runbook, http_eval, rabbit, journal_json or secrets
# (or fuzz_config...).  The build directory is $FUZZ_BUILD, default build-fuzz in the checkout; crashes
# and new inputs are kept in a temporary directory that is printed at the
# end (FUZZ_KEEP=1 keeps it; otherwise only a finding keeps it).
set -eu

usage() {
	echo "usage: sh fuzz/run.sh config|runbook|http_eval|rabbit|journal_json|secrets SECONDS [libFuzzer options...]" >&2
	exit 2
}
[ $# -ge 2 ] || usage
target=${1#fuzz_}
seconds=$2
shift 2
case $target in
config|runbook) dict=config.dict ;;
http_eval|rabbit|journal_json) dict=json.dict ;;
secrets) dict= ;;
*) usage ;;
esac
case $seconds in
''|*[!0-9]*) usage ;;
esac

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
build=${FUZZ_BUILD:-$root/build-fuzz}

if [ ! -f "$build/build.ninja" ]; then
	CC=${CC:-clang} meson setup "$build" "$root" -Dfuzz=true \
	    -Dtests=false -Db_lundef=false >/dev/null
fi
ninja -C "$build" "fuzz/fuzz_$target" >/dev/null

work=$(mktemp -d "${TMPDIR:-/tmp}/lookout-fuzz-$target.XXXXXX")
mkdir "$work/corpus" "$work/artifacts"
cp "$here/corpus/$target/"* "$work/corpus/"
# The shipped templates are seeds too, read from where they live.
case $target in
config) cp "$root/templates/lookout.example.lua" "$work/corpus/" ;;
runbook)
	for f in "$root"/templates/*.lua; do
		[ "$(basename "$f")" = lookout.example.lua ] || cp "$f" "$work/corpus/"
	done ;;
esac

# Leaks are findings; UBSan stops at the first report (see meson.build).
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

status=0
"$build/fuzz/fuzz_$target" -max_total_time="$seconds" -rss_limit_mb=2048 \
    -timeout=10 -print_final_stats=1 ${dict:+-dict="$here/$dict"} \
    -artifact_prefix="$work/artifacts/" "$@" "$work/corpus" || status=$?

if [ $status -ne 0 ] || [ -n "$(ls -A "$work/artifacts")" ]; then
	echo "run.sh: finding(s) kept in $work/artifacts" >&2
	ls -l "$work/artifacts" >&2
	[ $status -ne 0 ] || status=1
elif [ "${FUZZ_KEEP:-0}" = 1 ]; then
	echo "run.sh: corpus kept in $work/corpus" >&2
else
	rm -rf "$work"
fi
exit $status
