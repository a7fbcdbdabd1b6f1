# shellcheck shell=bash
# corsd.sh - a real corsd for the shell suites: its policy file, start,
# stop (clean or a crash), reload, and the shared memory it leaves.
#
# Layer: tests/lib, on harness.sh (source that first).  Whatever web
# server a suite drives (nginx now; Apache httpd, HAProxy next), its
# workers reach this corsd through the instance T_INSTANCE.
#
#   h_corsd_init [INSTANCE [POLICY [RUNDIR]]]
#                         T_INSTANCE (a unique name by default),
#                         T_POLICY ($T_TMP/policy.yaml), CORSD_RUNDIR
#                         (exported, created 0755: a new directory in
#                         /dev/shm when that is tmpfs, else $T_TMP/run;
#                         nginx configs pass it on with
#                         "env CORSD_RUNDIR;"), T_GROUP_ARGS
#                         (--group T_WORKER_GROUP when workers run as
#                         another user); at exit, once corsd is stopped,
#                         the instance's segments (and a runtime directory
#                         it made in /dev/shm) are removed
#   h_policy TEXT         write T_POLICY atomically, as an editor would
#   h_corsd_start         start $CORSD on T_POLICY (log: $T_TMP/corsd.log,
#                         appended) and wait until it serves: its segment
#                         is new and, when corsctl has `query`, it answers
#                         through the client library; stopped at exit
#   h_corsd_stop [SIG]    TERM (a clean stop) by default, KILL for a crash;
#                         notes the time for h_since_stop_ms
#   h_corsd_pause         SIGSTOP: corsd hung, as a swapped-out, starved
#                         or deadlocked one is (alive, its segments there,
#                         nothing answers), returning once every thread
#                         has stopped; h_corsd_resume (SIGCONT) ends it,
#                         and so does h_corsd_stop
#   h_corsd_reload        `corsctl reload` (waits for the outcome), else
#                         SIGHUP (the caller then retries for a while)
#   h_since_stop_ms MS    sleep until MS ms have passed since the stop
#   h_corsd_answers N ORIGIN CURL_ARG...
#                         until N requests in a row (curl CURL_ARGs, to a
#                         web server in front of corsd) are answered with
#                         Access-Control-Allow-Origin: ORIGIN, for about
#                         5 s: each worker opens its client handle when it
#                         starts, and a reload by SIGHUP is not waited for
#   h_corsctl_has CMD     does this corsctl have CMD (query, reload, stats)
#   h_shm_ino             inode of the instance's cache segment, or "none"
#
# Globals it reads: CORSD, CORSCTL (the binaries), T_TMP.  Sets:
# T_INSTANCE, T_POLICY, T_GROUP_ARGS, T_CORSD_PID, T_CORSD_STOPPED_AT,
# CORSD_RUNDIR.

T_INSTANCE=
T_POLICY=
T_GROUP_ARGS=()
T_CORSD_PID=
T_CORSD_STOPPED_AT=0
T_CORSD_RUNDIR_OWN=

# shellcheck disable=SC2120 # every argument has a default
h_corsd_init() {
	T_INSTANCE=${1:-t$$-$RANDOM}
	T_POLICY=${2:-$T_TMP/policy.yaml}
	# On tmpfs when there is one, as /run is on a real host: the
	# segments are files in it.  Not writable by group or others, or
	# corsd refuses it and workers would not trust it.
	if [ -n "${3:-}" ]; then
		export CORSD_RUNDIR=$3
		mkdir -p "$CORSD_RUNDIR" || return 1
	elif [ "$(stat -f -c %T /dev/shm 2>/dev/null)" = tmpfs ]; then
		CORSD_RUNDIR=$(mktemp -d /dev/shm/corsd-run.XXXXXX) || return 1
		export CORSD_RUNDIR
		T_CORSD_RUNDIR_OWN=$CORSD_RUNDIR
	else
		export CORSD_RUNDIR=$T_TMP/run
		mkdir -p "$CORSD_RUNDIR" || return 1
	fi
	chmod 755 "$CORSD_RUNDIR" || return 1
	T_GROUP_ARGS=()
	[ -n "$T_WORKER_GROUP" ] && T_GROUP_ARGS=(--group "$T_WORKER_GROUP")
	h_at_exit h_corsd_cleanup
}

# shellcheck disable=SC2317 # run at exit
h_corsd_cleanup() {
	h_corsd_stop TERM
	# corsd removes them when it stops; a KILLed one could not.
	rm -f "$CORSD_RUNDIR/$T_INSTANCE.cache" \
		"$CORSD_RUNDIR/$T_INSTANCE.slots" 2>/dev/null
	[ -z "$T_CORSD_RUNDIR_OWN" ] || rm -rf "$T_CORSD_RUNDIR_OWN"
}

h_policy() {
	printf '%s\n' "$1" >"$T_POLICY.tmp" && mv "$T_POLICY.tmp" "$T_POLICY"
}

h_shm_ino() {
	stat -c %i "$CORSD_RUNDIR/$T_INSTANCE.cache" 2>/dev/null || echo none
}

h_corsctl_has() {
	[ -x "$CORSCTL" ] && "$CORSCTL" help 2>&1 | grep -qE "^  $1( |$)"
}

h_corsd_start() {
	local ino
	ino=$(h_shm_ino)
	"$CORSD" -c "$T_POLICY" --instance "$T_INSTANCE" --foreground \
		"${T_GROUP_ARGS[@]}" >>"$T_TMP/corsd.log" 2>&1 &
	T_CORSD_PID=$!
	h_track "$T_CORSD_PID"
	for _ in $(seq 1 250); do
		if ! kill -0 "$T_CORSD_PID" 2>/dev/null; then
			h_stop_pid "$T_CORSD_PID"
			T_CORSD_PID=
			echo "# corsd exited:"
			sed 's/^/#   /' "$T_TMP/corsd.log" | tail -5
			return 1
		fi
		if [ "$(h_shm_ino)" != "$ino" ] && [ "$(h_shm_ino)" != none ]; then
			break
		fi
		sleep 0.02
	done
	# The segment exists; its header is published last.  Ask, as a
	# worker would, when corsctl can; else give it a moment.
	if h_corsctl_has query; then
		for _ in $(seq 1 100); do
			"$CORSCTL" query --instance "$T_INSTANCE" -p __probe \
				--origin https://probe.example --method GET \
				>/dev/null 2>&1 && return 0
			sleep 0.02
		done
	fi
	sleep 0.2
	return 0
}

h_corsd_pause() {
	local states
	if [ -z "$T_CORSD_PID" ] || ! kill -STOP "$T_CORSD_PID"; then
		return 1
	fi
	# kill returns before the threads stop: wait until each one has
	# (state T, the field after "(comm)" in its stat)
	for _ in $(seq 1 250); do
		states=$(sed 's/.*) //' "/proc/$T_CORSD_PID/task/"*/stat |
			cut -c1 | sort -u)
		[ "$states" = T ] && return 0
		sleep 0.01
	done
	return 1
}

h_corsd_resume() {
	[ -n "$T_CORSD_PID" ] && kill -CONT "$T_CORSD_PID"
}

h_corsd_stop() {
	[ -n "$T_CORSD_PID" ] || return 0
	# a paused corsd would take a TERM only once continued
	kill -CONT "$T_CORSD_PID" 2>/dev/null
	h_stop_pid "$T_CORSD_PID" "${1:-TERM}"
	T_CORSD_PID=
	T_CORSD_STOPPED_AT=$(date +%s%N)
	return 0
}

h_corsd_reload() {
	if h_corsctl_has reload; then
		"$CORSCTL" reload --instance "$T_INSTANCE" >>"$T_TMP/corsd.log" 2>&1
		return
	fi
	kill -HUP "$T_CORSD_PID"
}

h_corsd_answers() {
	local want=$1 origin=$2 good=0
	shift 2
	for _ in $(seq 1 250); do
		if curl -s -o /dev/null -D - --max-time 2 "$@" | tr -d '\r' |
			grep -qixF "access-control-allow-origin: $origin"; then
			good=$((good + 1))
			[ "$good" -ge "$want" ] && return 0
		else
			good=0
			sleep 0.02
		fi
	done
	return 1
}

h_since_stop_ms() {
	local now left
	now=$(date +%s%N)
	left=$((($1 * 1000000 - (now - T_CORSD_STOPPED_AT)) / 1000000))
	[ "$left" -gt 0 ] &&
		sleep "$(printf '%d.%03d' $((left / 1000)) $((left % 1000)))"
	return 0
}
