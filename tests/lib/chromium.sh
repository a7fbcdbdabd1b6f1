# shellcheck shell=bash
# chromium.sh - headless Chromium for the end-to-end tests
# (tests/e2e/run.sh) and the demo of `make run` (tools/examples/run.sh).
#
# Layer: tests/lib, on harness.sh (source that first).  One way to drive
# the browser, with no packages beyond Debian's chromium: load a page
# whose script does its work and writes its results into the DOM, under
# --virtual-time-budget (the clock stops while a fetch is in flight, and
# Chromium quits once the page's budget of virtual time is spent), and
# read the DOM that --dump-dom prints.  timeout(1) guards the run in real
# time; it leads its own process group and passes a signal on to Chromium
# and its children, so stopping its pid stops the browser.  The browser is
# tracked (h_track -g): an exit while it runs stops it, its group KILLed
# if it will not stop.
#
#   h_chromium_dump URL PROFILE_DIR OUT LOG
#                         load URL in a fresh Chromium with the profile
#                         PROFILE_DIR (created; the caller removes it), the
#                         DOM to OUT and Chromium's messages to LOG.
#                         Status: timeout(1)'s
#
# Globals: CHROMIUM (the binary: chromium on PATH, else /usr/bin/chromium),
# CHROMIUM_TIMEOUT (60 s), CHROMIUM_FLAGS (array).

CHROMIUM=${CHROMIUM:-$(command -v chromium || echo /usr/bin/chromium)}
CHROMIUM_TIMEOUT=${CHROMIUM_TIMEOUT:-60}

CHROMIUM_FLAGS=(--headless --no-sandbox --disable-gpu --disable-quic
	--no-first-run --disable-background-networking
	--disable-component-update --disable-sync --disable-default-apps
	--disable-extensions --mute-audio)

h_chromium_dump() {
	local rc pid
	mkdir -p "$2"
	timeout -k 5 "$CHROMIUM_TIMEOUT" "$CHROMIUM" "${CHROMIUM_FLAGS[@]}" \
		--user-data-dir="$2" --virtual-time-budget=30000 \
		--dump-dom "$1" >"$3" 2>"$4" </dev/null &
	pid=$!
	h_track "$pid" -g
	wait "$pid"
	rc=$?
	h_stop_pid "$pid"
	return $rc
}
