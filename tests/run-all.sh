#!/usr/bin/env bash
# Runs every test suite against each build directory given, and closes with
# one "N passed, N failed" line for the whole run.  Exit status 1 if any
# test failed or any suite could not run.  --unit: the cmocka binaries
# alone (BUILD_DIR/tests/test_*: tests/unit and tests/ipc), as
# `make test-unit` runs them.
#
# The shell suites print "ok N - name" / "not ok N - name" and close with
# "N passed, N failed" (tests/lib/harness.sh's summary), which is what
# is counted here.
#
# Usage: tests/run-all.sh [--unit] BUILD_DIR...
set -u
cd "$(dirname "$0")/.." || exit 2
unit_only=
if [ "${1:-}" = --unit ]; then
	unit_only=1
	shift
fi
if [ $# = 0 ]; then
	echo "usage: tests/run-all.sh [--unit] BUILD_DIR..." >&2
	exit 2
fi

passed=0
failed=0
failed_suites=()

# Counts from a cmocka run: "[  PASSED  ] N test(s)." / "[  FAILED  ] N test(s), ..."
count_cmocka() {
	local log=$1 p f
	p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -n1)
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -n1)
	echo "${p:-0} ${f:-0}"
}

for b in "$@"; do
	variant=$(basename "$b")
	for t in "$b"/tests/test_*; do
		[ -x "$t" ] || continue
		log=$(mktemp)
		"$t" >"$log" 2>&1
		rc=$?
		read -r p f < <(count_cmocka "$log")
		if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
			f=1 # crashed or aborted before cmocka could count
		fi
		passed=$((passed + p))
		failed=$((failed + f))
		if [ "$rc" -ne 0 ]; then
			failed_suites+=("$variant/$(basename "$t")")
			cat "$log"
		fi
		printf '%-8s %-28s %4d passed, %d failed\n' "$variant" \
			"$(basename "$t")" "$p" "$f"
		rm -f "$log"
	done
	[ -n "$unit_only" ] && continue
	# "SUITE:PROTO" runs SUITE with NGINX_PROTO=PROTO.
	for sp in tests/cli/run.sh tests/ipc/exports.sh tests/nginx/run.sh \
		tests/nginx/run.sh:h2c tests/e2e/run.sh; do
		s=${sp%%:*}
		proto=
		[ "$s" = "$sp" ] || proto=${sp#*:}
		[ -x "$s" ] || continue
		# nginx and the browser load the release module only, and
		# only the release client is what gets shipped (a sanitizer
		# build needs the sanitizer runtimes).
		case "$variant:$s" in
		release:*|*:tests/cli/run.sh) ;;
		*) continue ;;
		esac
		log=$(mktemp)
		NGINX_PROTO=$proto "$s" "$b" >"$log" 2>&1
		rc=$?
		line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n1)
		p=$(echo "$line" | awk '{print $1}')
		f=$(echo "$line" | awk '{print $3}')
		p=${p:-0}
		f=${f:-0}
		if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
		passed=$((passed + p))
		failed=$((failed + f))
		if [ "$rc" -ne 0 ]; then
			failed_suites+=("$variant/$sp")
			cat "$log"
		fi
		printf '%-8s %-28s %4d passed, %d failed\n' "$variant" \
			"${proto:+$proto }$s" "$p" "$f"
		rm -f "$log"
	done
done

# The daemon's threads under ThreadSanitizer: the multi-process tests
# (release build) drive a TSan-built corsd; a race report kills it
# (halt_on_error), which fails the tests.
if [ -z "$unit_only" ] && [ -x build/tsan/corsd ] &&
	[ -x build/release/tests/test_daemon ]; then
	log=$(mktemp)
	CORSD_BIN=$PWD/build/tsan/corsd \
	TSAN_OPTIONS="halt_on_error=1 exitcode=66 second_deadlock_stack=1" \
		build/release/tests/test_daemon >"$log" 2>&1
	rc=$?
	read -r p f < <(count_cmocka "$log")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
	passed=$((passed + p))
	failed=$((failed + f))
	if [ "$rc" -ne 0 ]; then
		failed_suites+=("tsan/test_daemon")
		cat "$log"
	fi
	printf '%-8s %-28s %4d passed, %d failed\n' tsan test_daemon "$p" "$f"
	rm -f "$log"
fi

if [ ${#failed_suites[@]} -gt 0 ]; then
	echo "failing suites: ${failed_suites[*]}"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ ${#failed_suites[@]} -eq 0 ]
