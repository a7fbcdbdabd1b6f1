#!/usr/bin/env bash
# run.sh BUILD_DIR - the `make run` job: corsd and nginx with the corsd
# module, for real, on this machine.
#
#  1. corsctl checks the example policy and decides two requests in-process;
#  2. corsd serves tools/examples/policy.yaml, and nginx runs
#     tools/examples/nginx.conf with BUILD_DIR/ngx_http_corsd_module.so on
#     two free ports of 127.0.0.1: an "app" origin with a demo page and an
#     "api" origin whose locations select policies;
#  3. curl sends a preflight, as a browser would; headless Chromium (when
#     installed) loads the demo page and reports what its script could
#     read; corsctl stats shows what corsd did;
#  4. on a terminal, it waits: Enter shows the stats again, q or Ctrl-C
#     stops.  Otherwise (CI, `make run </dev/null`) it stops at once.
#
# Layer: tools/examples.  Everything runs as the invoking user under
# BUILD_DIR/run/ (CORSD_RUNDIR, nginx's prefix, logs); corsd, nginx and
# the browser are stopped on exit, whatever happens (EXIT trap), and
# corsd removes its shared memory.  Each step states what it expects; the
# script exits 1 when any step fails or answers otherwise.  Process,
# corsd, nginx and browser handling come from the tests' harness,
# tests/lib/ (harness.sh, corsd.sh, nginx.sh, chromium.sh).
set -u

# shellcheck source=tests/lib/harness.sh
. "$(dirname "$0")/../../tests/lib/harness.sh"
build=$(h_build_dir tools/examples/run.sh "$@") || exit 2
cd "$(dirname "$0")/../.." || exit 1
top=$PWD
# shellcheck source=tests/lib/corsd.sh
. tests/lib/corsd.sh
# shellcheck source=tests/lib/nginx.sh
. tests/lib/nginx.sh
# shellcheck source=tests/lib/chromium.sh
. tests/lib/chromium.sh

corsctl=$build/corsctl
policy=$top/tools/examples/policy.yaml
if [ ! -x "$corsctl" ]; then
	echo "run.sh: $corsctl is missing; run make first" >&2
	exit 1
fi

failures=0

# show_cmd ARGS...: print a command line as a user would type it: each
# argument in single quotes when it needs quoting.
show_cmd() {
	local a sep='$'
	for a in "$@"; do
		if [[ $a =~ ^[A-Za-z0-9_./:=@%+,-]+$ ]]; then
			printf '%s %s' "$sep" "$a"
		else
			printf "%s '%s'" "$sep" "${a//\'/\'\\\'\'}"
		fi
		sep=
	done
	printf '\n'
}

# step_failed MESSAGE: say what went wrong, count it.
step_failed() {
	echo "run.sh: FAILED: $*" >&2
	failures=$((failures + 1))
}

# step HEADING EXPECT ARGS...: print the heading and the command as a
# user would type it, run corsctl ARGS, show its output, and check the
# exit status is 0 and the output holds the line EXPECT (if not empty).
step() {
	local heading=$1 expect=$2 out rc
	shift 2
	printf '\n== %s\n' "$heading"
	show_cmd corsctl "$@"
	out=$("$corsctl" "$@" 2>&1)
	rc=$?
	printf '%s\n' "$out"
	if [ "$rc" -ne 0 ]; then
		step_failed "corsctl exited with status $rc"
	elif [ -n "$expect" ] && ! grep -qxF -- "$expect" <<<"$out"; then
		step_failed "expected the line '$expect'"
	fi
}

# ---- 1. corsctl, in-process ------------------------------------------------

step "Check the example policy file (errors and warnings would be listed)" \
	"" check tools/examples/policy.yaml

step "Decide in-process: a preflight for PUT from the app, allowed" \
	"verdict: allow" decide -c tools/examples/policy.yaml -p api \
	--origin https://app.example.com --method OPTIONS --acrm PUT \
	--acrh Content-Type

step "Decide in-process: a request header the policy does not allow" \
	"verdict: deny" decide -c tools/examples/policy.yaml -p api \
	--origin https://shop.example.org --method OPTIONS --acrm PATCH \
	--acrh X-Debug

if [ "$failures" -ne 0 ]; then
	echo "run.sh: $failures step(s) failed"
	exit 1
fi

# ---- 2. corsd and nginx ----------------------------------------------------

CORSD=$build/corsd
CORSCTL=$corsctl
MODULE=$build/ngx_http_corsd_module.so
for f in "$CORSD" "$MODULE" "$NGINX" "$(command -v curl)"; do
	if [ ! -x "$f" ] && [ ! -f "$f" ]; then
		echo "run.sh: ${f:-curl} is missing (make deps all nginx-module)" >&2
		exit 1
	fi
done

run=$build/run
# As root, nginx runs its workers as nobody: they must reach the page,
# corsd's runtime directory and the backend's socket.  A clone in a home
# directory (0700) is out of their reach; then the run lives in a fresh
# directory under /tmp instead, removed at exit unless a step failed.
h_worker_user
run_tmp=
if [ -n "$T_WORKER_USER" ] &&
	! runuser -u "$T_WORKER_USER" -- test -x "$build" 2>/dev/null; then
	run_tmp=$(mktemp -d /tmp/corsd-run.XXXXXX) || exit 1
	run=$run_tmp
	echo "run.sh: nginx's workers ($T_WORKER_USER) cannot enter $build;" \
		"running in $run"
fi
ngx=$run/nginx
# Everything under $run, which stays (logs); at exit (also on failure)
# the harness stops the browser, nginx and corsd, and removes corsd's
# shared memory.  The workers reach corsd's segments through its group
# (T_GROUP_ARGS).
h_setup -d "$run"
h_corsd_init "demo$$" "$policy" "$run/corsd"
waiting=0

# shellcheck disable=SC2317 # stopped and interrupted run from traps
stopped() {
	rm -rf "$run/chromium"
	[ -n "$started" ] && echo "run.sh: stopped nginx and corsd"
	if [ -n "$run_tmp" ] && [ "$failures" -eq 0 ]; then
		rm -rf "$run_tmp"
	elif [ -n "$run_tmp" ]; then
		echo "run.sh: kept $run_tmp (logs)"
	fi
}
started=
h_at_exit stopped
# Ctrl-C or SIGTERM while waiting is the way to stop: exit 0.  Before,
# an interruption: 128 + the signal's number.
# shellcheck disable=SC2317
interrupted() {
	echo
	[ "$waiting" = 1 ] && exit 0
	exit "$1"
}
trap 'interrupted 130' INT
trap 'interrupted 143' TERM
trap 'interrupted 129' HUP

mkdir -p "$CORSD_RUNDIR" "$ngx/conf" "$ngx/logs" "$ngx/tmp" "$ngx/html"
cp tools/examples/www/index.html "$ngx/html/"
# nginx's workers may run as another user (root: nobody).
chmod 755 "$run" "$ngx" "$ngx/html"
chmod 644 "$ngx/html/index.html"
: >"$run/corsd.log"
: >"$ngx/logs/error.log"
: >"$ngx/logs/access.log"

printf '\n== Start corsd on the example policy\n'
printf '$ CORSD_RUNDIR=%s %s -c %s --instance %s --foreground %s\n' \
	"${CORSD_RUNDIR#"$top"/}" "${CORSD#"$top"/}" tools/examples/policy.yaml \
	"$T_INSTANCE" "${T_GROUP_ARGS[*]}"
started=1
if ! h_corsd_start; then
	step_failed "corsd did not start (its log: $run/corsd.log)"
	exit 1
fi
echo "corsd is serving (pid $T_CORSD_PID, log ${run#"$top"/}/corsd.log)"

# The configuration from the template, for the ports h_nginx_start
# picked (app, api).
# shellcheck disable=SC2317 # called by h_nginx_start
nginx_conf() {
	sed -e "s|@MODULE@|$MODULE|g" -e "s|@INSTANCE@|$T_INSTANCE|g" \
		-e "s|@RUN_DIR@|$ngx|g" -e "s|@APP_PORT@|$app_port|g" \
		-e "s|@API_PORT@|$api_port|g" \
		-e "s|@USER_LINE@|$(h_nginx_user_line)|g" \
		tools/examples/nginx.conf >"$ngx/conf/nginx.conf"
}
app_port='' api_port=

printf '\n== Start nginx with the corsd module\n'
printf '$ nginx -p %s/ -c conf/nginx.conf   # from tools/examples/nginx.conf\n' \
	"${ngx#"$top"/}"
if ! h_nginx_start T_NGINX_PID "$ngx" nginx_conf app_port api_port; then
	step_failed "nginx did not start; its error log:"
	tail -n 5 "$ngx/logs/error.log" >&2
	exit 1
fi
APP=http://127.0.0.1:$app_port
API=http://127.0.0.1:$api_port

# preflight: the curl a user can paste, for PUT from the app origin.
preflight_args=(-si -X OPTIONS "$API/api/items/1" -H "Origin: $APP"
	-H 'Access-Control-Request-Method: PUT'
	-H 'Access-Control-Request-Headers: content-type')

# Each worker connects to corsd when it starts: wait until answers come
# from corsd, ten in a row (two workers).
h_corsd_answers 10 "$APP" "${preflight_args[@]:1}" ||
	step_failed "nginx does not get corsd's answers"

cat <<EOF
nginx is serving (pid $T_NGINX_PID, logs in ${ngx#"$top"/}/logs/)

  app  $APP/           the demo page: open it in a browser
  api  $API/api/       policy api
       $API/public/    policy public
       $API/partner/   policy partner
       $API/health     no corsd_policy (off)
EOF

# ---- 3. a preflight, a browser, the stats ----------------------------------

printf '\n== A preflight from the app origin, as a browser sends it before a PUT\n'
show_cmd curl "${preflight_args[@]}"
out=$(curl --max-time 5 "${preflight_args[@]}" | tr -d '\r')
printf '%s\n' "$out"
if ! head -n1 <<<"$out" | grep -q '^HTTP/[0-9.]* 204'; then
	step_failed "expected status 204"
elif ! grep -qixF "access-control-allow-origin: $APP" <<<"$out"; then
	step_failed "expected Access-Control-Allow-Origin: $APP"
fi

if [ -x "$CHROMIUM" ]; then
	printf '\n== The demo page in headless Chromium: what its script could read\n'
	h_chromium_dump "$APP/" "$run/chromium" "$run/chromium.dom" \
		"$run/chromium.log"
	rm -rf "$run/chromium"
	# The lines of <pre id="log">, which the page ends with DONE.
	sed -n '/<pre id="log">/,/<\/pre>/p' "$run/chromium.dom" |
		sed -e 's/.*<pre id="log">//' -e '/<\/pre>/d' \
			-e 's/&amp;/\&/g; s/&lt;/</g; s/&gt;/>/g; s/&quot;/"/g'
	if ! grep -qE '^DONE ([0-9]+) of \1 as expected' "$run/chromium.dom"; then
		step_failed "the page did not see what it expected (log: $run/chromium.log)"
	fi
else
	printf '\n(Chromium is not installed: make deps installs it.)\n'
fi

# stats: corsd's counters, the ones that are not zero.
stats() {
	local out
	printf '\n== corsd, live (counters that are zero left out)\n'
	printf '$ CORSD_RUNDIR=%s %s stats --instance %s\n' \
		"${CORSD_RUNDIR#"$top"/}" "${corsctl#"$top"/}" "$T_INSTANCE"
	if ! out=$("$corsctl" stats --instance "$T_INSTANCE" 2>&1); then
		printf '%s\n' "$out"
		step_failed "corsctl stats"
		return 1
	fi
	grep -vE ': (0|null)$' <<<"$out"
}
if h_corsctl_has stats; then
	stats
	if h_corsctl_has query; then
		echo "(the no-policy answer was run.sh's own probe at start-up:" \
			"corsctl query -p __probe)"
	fi
else
	printf '\n(This corsctl has no stats command.)\n'
fi

if [ "$failures" -ne 0 ]; then
	echo
	echo "run.sh: $failures step(s) failed"
	exit 1
fi

# ---- 4. wait ----------------------------------------------------------------

if [ -t 0 ]; then
	cat <<EOF

corsd and nginx keep running: open $APP/ in a browser.
Enter shows the stats again; q then Enter, or Ctrl-C, stops both.
EOF
	waiting=1
	while read -r line; do
		[ "$line" = q ] && break
		if ! kill -0 "$T_NGINX_PID" 2>/dev/null ||
			! kill -0 "$T_CORSD_PID" 2>/dev/null; then
			step_failed "nginx or corsd has stopped"
			exit 1
		fi
		if h_corsctl_has stats; then
			stats
		fi
	done
	waiting=0
fi

echo
echo "run.sh: every step answered as expected"
exit 0
