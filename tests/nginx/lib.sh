# shellcheck shell=bash
# lib.sh - the harness of the nginx module tests, in the spirit of
# Test::Nginx: each test is a block of sections (a config snippet, a
# request, the expected status and headers) run against real processes.
#
# Layer: tests/nginx, sourced by run.sh.  Three kinds of process, each
# stopped by the EXIT trap whatever happens:
#   - corsd, the one in the build directory, on a policy file written by
#     the test, a unique --instance and CORSD_RUNDIR in the temp directory;
#   - the upstream, an nginx without the module on its own port, that
#     answers everything itself and sets Access-Control-Allow-Origin: *,
#     Access-Control-Allow-Credentials: true, Vary: Accept-Encoding and
#     X-Upstream: yes on every status;
#   - nginx under test, with the module loaded, started again only when a
#     block's configuration differs from the running one.
# Ports are picked at random in 20000-40000, checked free, and picked again
# if nginx still finds one taken, so parallel runs do not collide.
#
# A block, read from stdin by `block NAME`:
#
#   --- http_config       lines for the http{} level (optional)
#   --- config            lines for the server{} level; `proxy_pass
#                         http://app;` reaches the upstream
#   --- before            shell code run before the request (helpers below)
#   --- request           "METHOD /path", then one "Name: value" per line;
#                         a name given twice is sent twice
#   --- status            the expected status
#   --- headers           one expectation per line:
#                         - "Name: value": every line of Name, joined with
#                           ", ", is exactly value;
#                         - "Name ~ regex": ... matches the ERE regex;
#                         - "!Name": no such header;
#                         - "#Name: N": exactly N lines of Name.
#   --- body              the expected body (exactly; empty: no body)
#   --- error_log         strings that must be in nginx's error log
#   --- time_max_ms       the request takes at most this long
#   --- repeat            send the request N times; each must pass
#   --- retry_ms          retry for up to this long until it passes
#   --- check             shell code run after the request; fails the block
#                         when it fails
#   --- config_error      nginx must refuse the configuration with this
#                         message (no request is sent)

NGINX=${NGINX:-/usr/sbin/nginx}

T_NUM=0
T_PASSED=0
T_FAILED=0
T_TMP=
T_PORT=
# NGINX_PROTO=h2c: every block over HTTP/2 instead (cleartext, prior
# knowledge): nginx listens with http2, curl speaks it, and each response
# must be HTTP/2.
T_PROTO=${NGINX_PROTO:-}
case $T_PROTO in
'' | h2c) ;;
*)
	echo "lib.sh: NGINX_PROTO is '' or h2c, not '$T_PROTO'" >&2
	exit 2
	;;
esac
T_UPORT=
T_NGINX_PID=
T_NGINX_CONF=
T_UPSTREAM_PID=
T_CORSD_PID=
T_INSTANCE=
T_POLICY=
T_USER_LINE=
T_GROUP_ARGS=()

h_setup() {
	T_TMP=$(mktemp -d "${TMPDIR:-/tmp}/corsd-nginx.XXXXXX") || exit 1
	# Workers run as nobody when we are root: they must reach the prefix.
	chmod 755 "$T_TMP"
	T_INSTANCE="ngx$$-$RANDOM"
	T_POLICY=$T_TMP/policy.yaml
	export CORSD_RUNDIR=$T_TMP/run
	mkdir -p "$CORSD_RUNDIR" "$T_TMP/up/logs" "$T_TMP/up/conf" \
		"$T_TMP/ngx/logs" "$T_TMP/ngx/conf" "$T_TMP/ngx/tmp"
	if [ "$(id -u)" = 0 ] && getent passwd nobody >/dev/null &&
		getent group nogroup >/dev/null; then
		# The real arrangement: workers as an unprivileged user that
		# reaches corsd's segments through their group.
		T_USER_LINE="user nobody nogroup;"
		T_GROUP_ARGS=(--group nogroup)
	fi
	trap h_teardown EXIT
	trap 'exit 130' INT TERM HUP
}

h_teardown() {
	h_nginx_stop
	h_upstream_stop
	h_corsd_stop TERM
	rm -f "/dev/shm/corsd.$T_INSTANCE.cache" \
		"/dev/shm/corsd.$T_INSTANCE.slots" 2>/dev/null
	if [ -n "$T_TMP" ] && [ -z "${KEEP:-}" ]; then
		rm -rf "$T_TMP"
	elif [ -n "$T_TMP" ]; then
		echo "# kept $T_TMP"
	fi
}

# A port nobody listens on, other than the ones we hold.
h_free_port() {
	local p i
	for i in $(seq 1 100); do
		p=$((20000 + (RANDOM * 32768 + RANDOM) % 20000))
		[ "$p" = "$T_PORT" ] || [ "$p" = "$T_UPORT" ] && continue
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

# h_wait_http PORT PID [CURL_ARG...]: until something answers on PORT,
# while PID lives.
h_wait_http() {
	local i port=$1 pid=$2
	shift 2
	for i in $(seq 1 200); do
		if curl -s -o /dev/null --max-time 1 "$@" \
			"http://127.0.0.1:$port/__ready"; then
			return 0
		fi
		kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.02
	done
	return 1
}

# h_stop_pid PID: fast shutdown (TERM), then KILL after 5 s; reaped.
h_stop_pid() {
	local pid=$1 i
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null
	for i in $(seq 1 250); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.02
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

# ---- the upstream ---------------------------------------------------------

h_upstream_start() {
	for _ in 1 2 3 4 5; do
		T_UPORT=$(h_free_port) || return 1
		cat >"$T_TMP/up/conf/nginx.conf" <<EOF
daemon off;
master_process off;
error_log logs/error.log warn;
pid logs/nginx.pid;
$T_USER_LINE
events { worker_connections 128; }
http {
    access_log off;
    client_body_temp_path tmp/body;
    proxy_temp_path tmp/proxy;
    fastcgi_temp_path tmp/fastcgi;
    uwsgi_temp_path tmp/uwsgi;
    scgi_temp_path tmp/scgi;
    server {
        listen 127.0.0.1:$T_UPORT;
        add_header X-Upstream yes always;
        add_header Access-Control-Allow-Origin "*" always;
        add_header Access-Control-Allow-Credentials true always;
        add_header Vary Accept-Encoding always;
        location / { return 200 "upstream\n"; }
        location /missing { return 404 "upstream: not found\n"; }
        location /fail { return 502 "upstream: failed\n"; }
    }
}
EOF
		mkdir -p "$T_TMP/up/tmp"
		"$NGINX" -p "$T_TMP/up/" -c conf/nginx.conf -e logs/error.log &
		T_UPSTREAM_PID=$!
		h_wait_http "$T_UPORT" "$T_UPSTREAM_PID" && return 0
		h_upstream_stop
		grep -q "in use" "$T_TMP/up/logs/error.log" 2>/dev/null || break
	done
	echo "# the upstream nginx did not start:"
	sed 's/^/#   /' "$T_TMP/up/logs/error.log" 2>/dev/null | tail -5
	return 1
}

h_upstream_stop() {
	h_stop_pid "$T_UPSTREAM_PID"
	T_UPSTREAM_PID=
}

# ---- corsd ----------------------------------------------------------------

# h_policy TEXT: write the policy file atomically (as an editor would).
h_policy() {
	printf '%s\n' "$1" >"$T_POLICY.tmp" && mv "$T_POLICY.tmp" "$T_POLICY"
}

h_shm_ino() {
	stat -c %i "/dev/shm/corsd.$T_INSTANCE.cache" 2>/dev/null || echo none
}

# Does this corsctl have COMMAND (query, reload)?  It may not yet.
h_corsctl_has() {
	[ -x "$CORSCTL" ] && "$CORSCTL" help 2>&1 | grep -qE "^  $1( |$)"
}

# Start corsd and wait until it serves: its segment is new and, when
# corsctl can ask it, it answers through the client library.
h_corsd_start() {
	local ino i
	ino=$(h_shm_ino)
	"$CORSD" -c "$T_POLICY" --instance "$T_INSTANCE" --foreground \
		"${T_GROUP_ARGS[@]}" >>"$T_TMP/corsd.log" 2>&1 &
	T_CORSD_PID=$!
	for i in $(seq 1 250); do
		if ! kill -0 "$T_CORSD_PID" 2>/dev/null; then
			wait "$T_CORSD_PID" 2>/dev/null
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
		for i in $(seq 1 100); do
			"$CORSCTL" query --instance "$T_INSTANCE" -p __probe \
				--origin https://probe.example --method GET \
				>/dev/null 2>&1 && return 0
			sleep 0.02
		done
	fi
	sleep 0.2
	return 0
}

# h_corsd_stop [SIGNAL]: TERM (a clean stop) by default, KILL for a crash.
h_corsd_stop() {
	local sig=${1:-TERM} i
	[ -n "$T_CORSD_PID" ] || return 0
	kill "-$sig" "$T_CORSD_PID" 2>/dev/null
	for i in $(seq 1 250); do
		kill -0 "$T_CORSD_PID" 2>/dev/null || break
		sleep 0.02
	done
	kill -KILL "$T_CORSD_PID" 2>/dev/null
	wait "$T_CORSD_PID" 2>/dev/null
	T_CORSD_PID=
	T_CORSD_STOPPED_AT=$(date +%s%N)
	return 0
}

# Reload the policy file: `corsctl reload`, which answers once corsd has
# an outcome, else SIGHUP (then the block retries for a while).
h_corsd_reload() {
	if h_corsctl_has reload; then
		"$CORSCTL" reload --instance "$T_INSTANCE" >>"$T_TMP/corsd.log" 2>&1
		return
	fi
	kill -HUP "$T_CORSD_PID"
}

# Wait until at least MS milliseconds have passed since corsd stopped.
h_since_stop_ms() {
	local now left
	now=$(date +%s%N)
	left=$(( ($1 * 1000000 - (now - ${T_CORSD_STOPPED_AT:-0})) / 1000000 ))
	[ "$left" -gt 0 ] && sleep "$(printf '%d.%03d' $((left / 1000)) $((left % 1000)))"
	return 0
}

# ---- nginx under test -----------------------------------------------------

# The start of every nginx.conf under test, up to and into "http {": the
# module, the process setup, and temp paths under the prefix.  Shared with
# tests/e2e, which writes its own servers after it.
h_nginx_preamble() {
	cat <<EOF
load_module $MODULE;
daemon off;
master_process on;
worker_processes 2;
error_log logs/error.log info;
pid logs/nginx.pid;
$T_USER_LINE
events { worker_connections 256; }
http {
    client_body_temp_path tmp/body;
    proxy_temp_path tmp/proxy;
    fastcgi_temp_path tmp/fastcgi;
    uwsgi_temp_path tmp/uwsgi;
    scgi_temp_path tmp/scgi;
    corsd_instance $T_INSTANCE;
EOF
}

h_nginx_conf() {
	# $1 http_config, $2 config, $3 port, $4 protocol ("" or h2c)
	h_nginx_preamble
	cat <<EOF
    access_log logs/access.log;
    upstream app { server 127.0.0.1:$T_UPORT; }
$1
    server {
        listen 127.0.0.1:$3${4:+ http2};
        location = /__ready { corsd_policy off; return 204; }
$2
    }
}
EOF
}

h_nginx_stop() {
	h_stop_pid "$T_NGINX_PID"
	T_NGINX_PID=
	T_NGINX_CONF=
}

# h_nginx_ensure HTTP_CONFIG CONFIG: nginx runs with this configuration.
h_nginx_ensure() {
	local want
	want=$(h_nginx_conf "$1" "$2" PORT "$T_PROTO")
	if [ -n "$T_NGINX_PID" ] && [ "$want" = "$T_NGINX_CONF" ] &&
		kill -0 "$T_NGINX_PID" 2>/dev/null; then
		return 0
	fi
	h_nginx_stop
	for _ in 1 2 3 4 5; do
		T_PORT=$(h_free_port) || return 1
		h_nginx_conf "$1" "$2" "$T_PORT" "$T_PROTO" \
			>"$T_TMP/ngx/conf/nginx.conf"
		: >"$T_TMP/ngx/logs/error.log"
		"$NGINX" -p "$T_TMP/ngx/" -c conf/nginx.conf -e logs/error.log &
		T_NGINX_PID=$!
		if h_wait_http "$T_PORT" "$T_NGINX_PID" \
			${T_PROTO:+--http2-prior-knowledge}; then
			T_NGINX_CONF=$want
			return 0
		fi
		h_nginx_stop
		grep -q "in use" "$T_TMP/ngx/logs/error.log" || break
	done
	T_DIAG+=("nginx did not start:")
	while IFS= read -r l; do T_DIAG+=("  $l"); done \
		< <(tail -n 5 "$T_TMP/ngx/logs/error.log")
	return 1
}

# h_nginx_refuses HTTP_CONFIG CONFIG MESSAGE: `nginx -t` fails, saying so.
h_nginx_refuses() {
	local out
	h_nginx_conf "$1" "$2" "$(h_free_port)" >"$T_TMP/ngx/conf/t.conf"
	if out=$("$NGINX" -t -p "$T_TMP/ngx/" -c conf/t.conf -e stderr 2>&1); then
		T_DIAG+=("nginx accepted the configuration")
		return 1
	fi
	if ! grep -qF -- "$3" <<<"$out"; then
		T_DIAG+=("nginx refused it, but not with '$3':")
		while IFS= read -r l; do T_DIAG+=("  $l"); done <<<"$out"
		return 1
	fi
	return 0
}

# ---- one request ----------------------------------------------------------

# The lines of header NAME (case-insensitive) in the response, one a line.
h_header_lines() {
	awk -v n="$1" 'NR > 1 {
		sub(/\r$/, "")
		i = index($0, ":")
		if (i && tolower(substr($0, 1, i - 1)) == tolower(n)) {
			v = substr($0, i + 1)
			sub(/^[ \t]+/, "", v)
			sub(/[ \t]+$/, "", v)
			print v
		}
	}' "$T_TMP/resp.headers"
}

# Every line of header NAME joined with ", ", as HTTP reads them.
h_header_value() {
	h_header_lines "$1" | awk 'NR > 1 { printf ", " } { printf "%s", $0 }'
}

# h_request: send T_REQ, check it; failures go to T_DIAG.
h_request() {
	local method path line name value want got n ms args=() ok=0
	read -r method path <<<"${T_REQ[0]}"
	args=(-s -o "$T_TMP/resp.body" -D "$T_TMP/resp.headers"
		-w '%{time_total}' --max-time 10 -X "$method"
		${T_PROTO:+--http2-prior-knowledge})
	for line in "${T_REQ[@]:1}"; do
		args+=(-H "$line")
	done
	: >"$T_TMP/resp.headers"
	got=$(curl "${args[@]}" "http://127.0.0.1:$T_PORT$path")
	ms=$(awk -v t="$got" 'BEGIN { printf "%d", t * 1000 }')
	if [ ! -s "$T_TMP/resp.headers" ]; then
		T_DIAG+=("no response from nginx ($method $path)")
		return 1
	fi
	if [ "$T_PROTO" = h2c ] && ! head -n1 "$T_TMP/resp.headers" | grep -q '^HTTP/2 '; then
		T_DIAG+=("not an HTTP/2 response: $(head -n1 "$T_TMP/resp.headers")")
		ok=1
	fi
	got=$(head -n1 "$T_TMP/resp.headers" | awk '{ print $2 }')
	if [ -n "$T_STATUS" ] && [ "$got" != "$T_STATUS" ]; then
		T_DIAG+=("status $got, expected $T_STATUS")
		ok=1
	fi
	for line in "${T_HEADERS[@]}"; do
		case $line in
		'!'*)
			name=${line#!}
			if [ -n "$(h_header_lines "$name")" ]; then
				T_DIAG+=("$name is present: $(h_header_lines "$name" | paste -sd'|')")
				ok=1
			fi
			;;
		'#'*)
			name=${line#\#}
			want=${name#*: }
			name=${name%%:*}
			n=$(h_header_lines "$name" | wc -l)
			if [ "$n" != "$want" ]; then
				T_DIAG+=("$n lines of $name, expected $want")
				ok=1
			fi
			;;
		*' ~ '*)
			name=${line%% ~ *}
			want=${line#* ~ }
			value=$(h_header_value "$name")
			if ! [[ $value =~ $want ]] || [ -z "$(h_header_lines "$name")" ]; then
				T_DIAG+=("$name: '$value' does not match /$want/")
				ok=1
			fi
			;;
		*)
			name=${line%%:*}
			want=${line#*: }
			value=$(h_header_value "$name")
			if [ -z "$(h_header_lines "$name")" ]; then
				T_DIAG+=("$name is absent, expected '$want'")
				ok=1
			elif [ "$value" != "$want" ]; then
				T_DIAG+=("$name: '$value', expected '$want'")
				ok=1
			fi
			;;
		esac
	done
	if [ "$T_HAVE_BODY" = 1 ]; then
		got=$(cat "$T_TMP/resp.body")
		if [ "$got" != "$T_BODY" ]; then
			T_DIAG+=("body '$got', expected '$T_BODY'")
			ok=1
		fi
	fi
	if [ -n "$T_TIME_MAX" ] && [ "$ms" -gt "$T_TIME_MAX" ]; then
		T_DIAG+=("took $ms ms, at most $T_TIME_MAX ms expected")
		ok=1
	fi
	if [ "$ok" != 0 ]; then
		T_DIAG+=("response ($ms ms):")
		while IFS= read -r line; do
			T_DIAG+=("  ${line%$'\r'}")
		done <"$T_TMP/resp.headers"
	fi
	return $ok
}

# ---- blocks ---------------------------------------------------------------

h_result() {
	local d
	T_NUM=$((T_NUM + 1))
	if [ "$1" = 0 ]; then
		T_PASSED=$((T_PASSED + 1))
		echo "ok $T_NUM - $2"
	else
		T_FAILED=$((T_FAILED + 1))
		echo "not ok $T_NUM - $2"
		for d in "${T_DIAG[@]}"; do
			echo "#   $d"
		done
	fi
}

# block NAME < sections
block() {
	local name=$1 section='' line rc=0 i deadline s
	local http_config='' config='' before='' check='' config_error=''
	T_REQ=() T_HEADERS=() T_STATUS='' T_BODY='' T_HAVE_BODY=0 T_TIME_MAX=''
	T_DIAG=()
	local repeat=1 retry_ms=0 errlog=()

	while IFS= read -r line; do
		if [[ $line == '--- '* ]]; then
			section=${line#--- }
			[ "$section" = body ] && T_HAVE_BODY=1
			continue
		fi
		case $section in
		http_config) http_config+="    $line"$'\n' ;;
		config) config+="        $line"$'\n' ;;
		before) before+="$line"$'\n' ;;
		check) check+="$line"$'\n' ;;
		request) [ -n "$line" ] && T_REQ+=("$line") ;;
		status) [ -n "$line" ] && T_STATUS=$line ;;
		headers) [ -n "$line" ] && T_HEADERS+=("$line") ;;
		body) T_BODY+="${T_BODY:+$'\n'}$line" ;;
		error_log) [ -n "$line" ] && errlog+=("$line") ;;
		time_max_ms) [ -n "$line" ] && T_TIME_MAX=$line ;;
		repeat) [ -n "$line" ] && repeat=$line ;;
		retry_ms) [ -n "$line" ] && retry_ms=$line ;;
		config_error) [ -n "$line" ] && config_error=$line ;;
		'') ;;
		*) T_DIAG+=("unknown section '$section'"); rc=1 ;;
		esac
	done

	if [ "$rc" = 0 ] && [ -n "$config_error" ]; then
		h_nginx_refuses "$http_config" "$config" "$config_error" || rc=1
		h_result "$rc" "$name"
		return
	fi
	if [ "$rc" = 0 ] && ! h_nginx_ensure "$http_config" "$config"; then
		rc=1
	fi
	if [ "$rc" = 0 ] && [ -n "$before" ] && ! eval "$before"; then
		T_DIAG+=("the 'before' code failed")
		rc=1
	fi
	if [ "$rc" = 0 ]; then
		deadline=$(( $(date +%s%N) / 1000000 + retry_ms ))
		for ((i = 0; i < repeat; i++)); do
			while :; do
				s=${#T_DIAG[@]}
				h_request && break
				if [ $(( $(date +%s%N) / 1000000 )) -ge "$deadline" ]; then
					rc=1
					break
				fi
				T_DIAG=("${T_DIAG[@]:0:s}")
				sleep 0.05
			done
			[ "$rc" = 0 ] || break
		done
	fi
	if [ "$rc" = 0 ]; then
		for line in "${errlog[@]}"; do
			if ! grep -qF -- "$line" "$T_TMP/ngx/logs/error.log"; then
				T_DIAG+=("error log lacks '$line'")
				rc=1
			fi
		done
	fi
	if [ "$rc" = 0 ] && [ -n "$check" ] && ! eval "$check"; then
		T_DIAG+=("the check failed: ${check%$'\n'}")
		rc=1
	fi
	h_result "$rc" "$name"
}

h_summary() {
	echo "$T_PASSED passed, $T_FAILED failed"
	[ "$T_FAILED" = 0 ]
}

# The worker pids of nginx under test, sorted, one a line.
h_nginx_workers() {
	ps -o pid= --ppid "$T_NGINX_PID" 2>/dev/null | tr -d ' ' | sort
}

# Reload nginx (SIGHUP) and wait until every worker is a new one.
h_nginx_reload() {
	local old i now
	old=$(h_nginx_workers)
	kill -HUP "$T_NGINX_PID" || return 1
	for i in $(seq 1 250); do
		sleep 0.02
		now=$(h_nginx_workers)
		[ -n "$now" ] || continue
		# no old worker left
		if [ -z "$(comm -12 <(echo "$old") <(echo "$now"))" ]; then
			return 0
		fi
	done
	T_DIAG+=("old nginx workers did not exit")
	return 1
}
