# shellcheck shell=bash
# lib.sh - headless Chromium for the end-to-end tests (tests/e2e/run.sh)
# and the demo of `make run` (tools/examples/run.sh).
#
# Layer: tests/e2e.  One way to drive the browser, with no packages beyond
# Debian's chromium: load a page whose script does its work and writes its
# results into the DOM, under --virtual-time-budget (the clock stops while
# a fetch is in flight, and Chromium quits once the page's budget of
# virtual time is spent), and read the DOM that --dump-dom prints.
# timeout(1) guards the run in real time; it leads its own process group
# and passes a signal on to Chromium and its children, so stopping its pid
# stops the browser.  The caller's EXIT trap calls chromium_stop.

CHROMIUM=${CHROMIUM:-$(command -v chromium || echo /usr/bin/chromium)}
CHROMIUM_TIMEOUT=${CHROMIUM_TIMEOUT:-60}
T_CHROME_PID=

CHROMIUM_FLAGS=(--headless --no-sandbox --disable-gpu --disable-quic
	--no-first-run --disable-background-networking
	--disable-component-update --disable-sync --disable-default-apps
	--disable-extensions --mute-audio)

# chromium_dump URL PROFILE_DIR OUT LOG: load URL in a fresh Chromium with
# the profile PROFILE_DIR (created; the caller removes it), the DOM to OUT
# and Chromium's messages to LOG.  Status: timeout(1)'s.
chromium_dump() {
	local rc
	mkdir -p "$2"
	timeout -k 5 "$CHROMIUM_TIMEOUT" "$CHROMIUM" "${CHROMIUM_FLAGS[@]}" \
		--user-data-dir="$2" --virtual-time-budget=30000 \
		--dump-dom "$1" >"$3" 2>"$4" </dev/null &
	T_CHROME_PID=$!
	wait "$T_CHROME_PID"
	rc=$?
	T_CHROME_PID=
	return $rc
}

# chromium_stop: stop a Chromium that is still running (TERM, then KILL).
chromium_stop() {
	[ -n "$T_CHROME_PID" ] || return 0
	kill -TERM "$T_CHROME_PID" 2>/dev/null
	for _ in $(seq 1 250); do
		kill -0 "$T_CHROME_PID" 2>/dev/null || break
		sleep 0.02
	done
	# Still there: KILL the whole group timeout(1) leads.
	kill -0 "$T_CHROME_PID" 2>/dev/null &&
		kill -KILL -- "-$T_CHROME_PID" 2>/dev/null
	wait "$T_CHROME_PID" 2>/dev/null
	T_CHROME_PID=
	return 0
}
