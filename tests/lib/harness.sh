# shellcheck shell=bash
# harness.sh - the shell test harness: results, a temporary directory,
# processes stopped whatever happens, free ports, waiting for a server.
#
# Layer: tests/lib, sourced by every shell suite (tests/*/run.sh), by
# `make run` (tools/examples/run.sh) and by bench/e2e/run.sh; the web
# server libraries beside it (nginx.sh, corsd.sh, chromium.sh, blocks.sh)
# build on it.  Bash 4.3 or later; it sets no shell options.
#
# Results (TAP-like lines; the closing line is what tests/run-all.sh
# counts, so it stays exactly "N passed, N failed"):
#   pass NAME             print "ok N - NAME"
#   fail NAME [FILE]      print "not ok N - NAME", then FILE (when given
#                         and not empty) and the lines of T_DIAG, each
#                         indented "#   "
#   result RC NAME        pass NAME when RC is 0, else fail NAME
#   diag LINE...          add lines to T_DIAG, shown by the next fail
#   diag_file FILE [N]    add FILE's lines (its last N), indented by two
#   summary               print "N passed, N failed"; status 1 if any failed
# pass and fail clear T_DIAG.
#
# Processes and files:
#   h_setup TAG           make T_TMP (mktemp -d, mode 755: workers running
#                         as nobody reach it), call h_worker_user and set
#                         the traps: EXIT runs h_cleanup; INT, TERM and HUP
#                         exit 130, 143, 129 (a caller may set its own)
#   h_setup -d DIR        the same with DIR (created), which is kept
#   h_at_exit FN          run FN at exit, after every process is stopped
#                         (latest first; once however often it is asked)
#   h_track PID [-g]      stop PID at exit; -g: KILL its process group
#                         too if it will not stop (it leads one)
#   h_stop_pid PID [SIG]  SIG (TERM) to PID, KILL after 5 s, reaped and
#                         no longer tracked; an empty PID is fine
#   h_cleanup             what the EXIT trap runs: stop the tracked
#                         processes (latest first), run the h_at_exit
#                         functions, remove T_TMP (KEEP=1 keeps it)
#   h_worker_user         T_WORKER_USER/T_WORKER_GROUP: nobody/nogroup
#                         when we are root and they exist, else empty
#                         (servers' workers then run as us)
#
# Ports and servers (always 127.0.0.1):
#   h_free_port VAR       set VAR to a port in 20000-39999 that nobody
#                         listens on and this run has not handed out before
#                         (so parallel runs and our own servers-to-be do not
#                         collide; a server that finds it taken after all is
#                         started again on another, see nginx.sh)
#   h_wait_http [-t S] PORT PID [CURL_ARG...]
#                         until http://127.0.0.1:PORT/__ready answers (any
#                         status), while PID lives, for up to S seconds (5)
#   h_now_ms              milliseconds of the monotonic-enough wall clock
#   h_build_dir SCRIPT ARG...
#                         the absolute path of the one build directory ARG
#                         names, for BUILD=$(h_build_dir SCRIPT "$@") || exit 2
#                         (a usage line, or that it does not exist, on
#                         stderr; status 2).  Before any cd: ARG may be
#                         relative.
#
# Globals: T_NUM, T_PASSED, T_FAILED (counts), T_DIAG (array), T_TMP,
# T_WORKER_USER, T_WORKER_GROUP; H_PIDS, H_PGRP, H_AT_EXIT, H_PORTS,
# H_KEEP_TMP are the harness's own.  KEEP=1 in the environment keeps T_TMP.

T_NUM=0
T_PASSED=0
T_FAILED=0
T_DIAG=()
T_TMP=
T_WORKER_USER=
T_WORKER_GROUP=
H_PIDS=()
declare -A H_PGRP=()
H_AT_EXIT=()
H_PORTS=()
H_KEEP_TMP=

# ---- results ----------------------------------------------------------------

pass() {
	T_NUM=$((T_NUM + 1))
	T_PASSED=$((T_PASSED + 1))
	echo "ok $T_NUM - $1"
	T_DIAG=()
}

fail() {
	local d
	T_NUM=$((T_NUM + 1))
	T_FAILED=$((T_FAILED + 1))
	echo "not ok $T_NUM - $1"
	if [ $# -gt 1 ] && [ -s "$2" ]; then
		sed 's/^/#   /' "$2"
	fi
	for d in "${T_DIAG[@]}"; do
		echo "#   $d"
	done
	T_DIAG=()
}

result() {
	if [ "$1" = 0 ]; then
		pass "$2"
	else
		fail "$2"
	fi
}

diag() {
	T_DIAG+=("$@")
}

diag_file() {
	local l
	while IFS= read -r l; do
		T_DIAG+=("  $l")
	done < <(if [ -n "${2:-}" ]; then tail -n "$2" "$1"; else cat "$1"; fi 2>/dev/null)
}

summary() {
	echo "$T_PASSED passed, $T_FAILED failed"
	[ "$T_FAILED" = 0 ]
}

# ---- processes and files ----------------------------------------------------

h_setup() {
	if [ "${1:-}" = -d ]; then
		T_TMP=$2
		H_KEEP_TMP=1
		mkdir -p "$T_TMP" || exit 1
	else
		T_TMP=$(mktemp -d "${TMPDIR:-/tmp}/corsd-${1:-test}.XXXXXX") ||
			exit 1
	fi
	chmod 755 "$T_TMP"
	h_worker_user
	trap h_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	trap 'exit 129' HUP
}

h_at_exit() {
	local f
	for f in "${H_AT_EXIT[@]}"; do
		[ "$f" = "$1" ] && return 0
	done
	H_AT_EXIT+=("$1")
}

h_track() {
	H_PIDS+=("$1")
	[ "${2:-}" = -g ] && H_PGRP[$1]=1
	return 0
}

h_stop_pid() {
	local pid=$1 sig=${2:-TERM} i keep=()
	[ -n "$pid" ] || return 0
	kill "-$sig" "$pid" 2>/dev/null
	for i in $(seq 1 250); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.02
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid" 2>/dev/null
		# a leader's children (timeout(1) and the browser) too
		[ -n "${H_PGRP[$pid]:-}" ] && kill -KILL -- "-$pid" 2>/dev/null
	fi
	wait "$pid" 2>/dev/null
	for i in "${H_PIDS[@]}"; do
		[ "$i" = "$pid" ] || keep+=("$i")
	done
	H_PIDS=("${keep[@]}")
	unset "H_PGRP[$pid]"
	return 0
}

h_cleanup() {
	local i
	for ((i = ${#H_PIDS[@]} - 1; i >= 0; i--)); do
		h_stop_pid "${H_PIDS[i]}"
	done
	for ((i = ${#H_AT_EXIT[@]} - 1; i >= 0; i--)); do
		"${H_AT_EXIT[i]}"
	done
	if [ -n "$T_TMP" ] && [ -z "$H_KEEP_TMP" ] && [ -z "${KEEP:-}" ]; then
		rm -rf "$T_TMP"
	elif [ -n "$T_TMP" ] && [ -z "$H_KEEP_TMP" ]; then
		echo "# kept $T_TMP"
	fi
}

# shellcheck disable=SC2034 # read by the server libraries
h_worker_user() {
	T_WORKER_USER=
	T_WORKER_GROUP=
	if [ "$(id -u)" = 0 ] && getent passwd nobody >/dev/null &&
		getent group nogroup >/dev/null; then
		T_WORKER_USER=nobody
		T_WORKER_GROUP=nogroup
	fi
}

# ---- ports and servers ------------------------------------------------------

h_free_port() {
	# odd local names: VAR is the caller's, and may be any other
	local -n _hfp_var=$1
	local _hfp_p _hfp_i _hfp_q
	for _hfp_i in $(seq 1 100); do
		_hfp_p=$((20000 + (RANDOM * 32768 + RANDOM) % 20000))
		for _hfp_q in "${H_PORTS[@]}"; do
			[ "$_hfp_q" = "$_hfp_p" ] && continue 2
		done
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$_hfp_p") 2>/dev/null; then
			H_PORTS+=("$_hfp_p")
			_hfp_var=$_hfp_p
			return 0
		fi
	done
	return 1
}

h_wait_http() {
	local secs=5 port pid deadline
	if [ "$1" = -t ]; then
		secs=$2
		shift 2
	fi
	port=$1 pid=$2
	shift 2
	deadline=$(($(h_now_ms) + secs * 1000))
	while :; do
		if curl -s -o /dev/null --max-time 1 "$@" \
			"http://127.0.0.1:$port/__ready"; then
			return 0
		fi
		kill -0 "$pid" 2>/dev/null || return 1
		[ "$(h_now_ms)" -lt "$deadline" ] || return 1
		sleep 0.02
	done
}

h_build_dir() {
	local script=$1
	shift
	if [ $# -ne 1 ]; then
		echo "usage: $script BUILD_DIR" >&2
		return 2
	fi
	(cd "$1" 2>/dev/null && pwd) || {
		echo "$script: build directory '$1' does not exist (make build)" >&2
		return 2
	}
}

h_now_ms() {
	echo $(($(date +%s%N) / 1000000))
}
