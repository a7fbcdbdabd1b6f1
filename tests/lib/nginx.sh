# shellcheck shell=bash
# nginx.sh - real nginx for the shell suites: any nginx on free ports of
# 127.0.0.1, the one under test with ngx_http_corsd_module, and a plain
# upstream that sets CORS headers of its own.
#
# Layer: tests/lib, on harness.sh and corsd.sh (source those first).
# Each nginx runs in the foreground (daemon off) as a child of the script,
# with a prefix directory of its own (conf/, logs/, tmp/), and is stopped
# at exit whatever happens.
#
# Any nginx:
#   h_nginx_start [-t S] [-x FN] PID_VAR PREFIX PREPARE_FN PORT_VAR...
#                 [-- CURL_ARG...]
#                         up to five times: pick a free port into each
#                         PORT_VAR, call PREPARE_FN (which writes
#                         PREFIX/conf/nginx.conf for those ports, and
#                         whatever else depends on them), start $NGINX on
#                         PREFIX into PID_VAR and wait up to S seconds (5)
#                         until each port answers /__ready (CURL_ARGs: for
#                         h_wait_http); again on other ports only when
#                         nginx found one taken after all.  -x FN: run
#                         `FN NGINX ARGS...` instead, which must exec it.
#                         Status 1 if it did not start (PREFIX/logs/
#                         error.log says why)
#   h_nginx_user_line     "user nobody nogroup;" when workers run as
#                         another user (h_worker_user), else nothing
#   h_nginx_preamble      the start of an nginx.conf under test, up to and
#                         into "http {": load_module $MODULE, processes,
#                         temp paths, corsd_instance $T_INSTANCE
#
# The upstream (prefix $T_TMP/up, port T_UPORT, pid T_UPSTREAM_PID): an
# nginx without the module that answers everything itself ("/" 200,
# "/missing" 404, "/fail" 502) and sets Access-Control-Allow-Origin: *,
# Access-Control-Allow-Credentials: true, Vary: Accept-Encoding and
# X-Upstream: yes on every status.
#   h_upstream_start, h_upstream_stop
#
# nginx under test (prefix $T_TMP/ngx, port T_PORT, pid T_NGINX_PID),
# with a server{} whose lines a test gives, `upstream app` reaching the
# upstream; the block runner (blocks.sh) drives it through the first three:
#   h_nginx_ensure HTTP_CONFIG CONFIG   nginx runs with this configuration
#                         (started again only when it differs); failures
#                         go to T_DIAG
#   h_nginx_refuses HTTP_CONFIG CONFIG MESSAGE
#                         `nginx -t` refuses it, saying MESSAGE
#   h_nginx_error_log     the path of its error log
#   h_nginx_stop, h_nginx_reload (SIGHUP; waits until every worker is a
#   new one), h_nginx_workers (worker pids, sorted)
#
# NGINX_PROTO=h2c (T_PROTO): nginx under test listens with http2 and is
# spoken to over HTTP/2 (cleartext, prior knowledge).
#
# Globals it reads: NGINX (/usr/sbin/nginx), MODULE, T_TMP, T_INSTANCE.
# Sets: T_PORT, T_UPORT, T_NGINX_PID, T_UPSTREAM_PID, T_NGINX_CONF, T_PROTO.

NGINX=${NGINX:-/usr/sbin/nginx}
T_PORT=
T_UPORT=
T_NGINX_PID=
T_NGINX_CONF=
T_UPSTREAM_PID=
T_PROTO=${NGINX_PROTO:-}
case $T_PROTO in
'' | h2c) ;;
*)
	echo "nginx.sh: NGINX_PROTO is '' or h2c, not '$T_PROTO'" >&2
	exit 2
	;;
esac

# ---- any nginx --------------------------------------------------------------

h_nginx_start() {
	# odd local names: PID_VAR and PORT_VARs are the caller's
	local _hn_secs=5 _hn_launch='' _hn_prefix _hn_prep _hn_ports=()
	local _hn_curl=() _hn_try _hn_p _hn_up
	while :; do
		case $1 in
		-t) _hn_secs=$2 && shift 2 ;;
		-x) _hn_launch=$2 && shift 2 ;;
		*) break ;;
		esac
	done
	local -n _hn_pid=$1
	_hn_prefix=$2 _hn_prep=$3
	shift 3
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		_hn_ports+=("$1")
		shift
	done
	[ $# -gt 0 ] && shift
	_hn_curl=("$@")
	mkdir -p "$_hn_prefix/conf" "$_hn_prefix/logs" "$_hn_prefix/tmp"
	for _hn_try in 1 2 3 4 5; do
		for _hn_p in "${_hn_ports[@]}"; do
			h_free_port "$_hn_p" || return 1
		done
		"$_hn_prep" || return 1
		: >"$_hn_prefix/logs/error.log"
		${_hn_launch:+"$_hn_launch"} "$NGINX" -p "$_hn_prefix/" \
			-c conf/nginx.conf -e logs/error.log &
		_hn_pid=$!
		h_track "$_hn_pid"
		_hn_up=1
		for _hn_p in "${_hn_ports[@]}"; do
			h_wait_http -t "$_hn_secs" "${!_hn_p}" "$_hn_pid" \
				"${_hn_curl[@]}" || { _hn_up=0 && break; }
		done
		[ "$_hn_up" = 1 ] && return 0
		h_stop_pid "$_hn_pid"
		_hn_pid=
		grep -q "in use" "$_hn_prefix/logs/error.log" || break
	done
	return 1
}

h_nginx_user_line() {
	[ -z "$T_WORKER_USER" ] || echo "user $T_WORKER_USER $T_WORKER_GROUP;"
}

h_nginx_preamble() {
	cat <<EOF
load_module $MODULE;
daemon off;
master_process on;
worker_processes 2;
error_log logs/error.log info;
pid logs/nginx.pid;
env CORSD_RUNDIR;
$(h_nginx_user_line)
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

# ---- the upstream -----------------------------------------------------------

# shellcheck disable=SC2317 # called by h_nginx_start
h_upstream_conf() {
	cat >"$T_TMP/up/conf/nginx.conf" <<EOF
daemon off;
master_process off;
error_log logs/error.log warn;
pid logs/nginx.pid;
$(h_nginx_user_line)
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
}

h_upstream_start() {
	h_nginx_start T_UPSTREAM_PID "$T_TMP/up" h_upstream_conf T_UPORT &&
		return 0
	echo "# the upstream nginx did not start:"
	sed 's/^/#   /' "$T_TMP/up/logs/error.log" 2>/dev/null | tail -5
	return 1
}

h_upstream_stop() {
	h_stop_pid "$T_UPSTREAM_PID"
	T_UPSTREAM_PID=
}

# ---- nginx under test -------------------------------------------------------

# h_nginx_conf HTTP_CONFIG CONFIG PORT PROTO: its nginx.conf.
h_nginx_conf() {
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

h_nginx_error_log() {
	echo "$T_TMP/ngx/logs/error.log"
}

h_nginx_stop() {
	h_stop_pid "$T_NGINX_PID"
	T_NGINX_PID=
	T_NGINX_CONF=
}

# What h_nginx_ensure asks h_nginx_start to write.
H_NGX_HTTP_CONFIG=
H_NGX_CONFIG=
# shellcheck disable=SC2317 # called by h_nginx_start
h_nginx_write_conf() {
	h_nginx_conf "$H_NGX_HTTP_CONFIG" "$H_NGX_CONFIG" "$T_PORT" \
		"$T_PROTO" >"$T_TMP/ngx/conf/nginx.conf"
}

h_nginx_ensure() {
	local want
	want=$(h_nginx_conf "$1" "$2" PORT "$T_PROTO")
	if [ -n "$T_NGINX_PID" ] && [ "$want" = "$T_NGINX_CONF" ] &&
		kill -0 "$T_NGINX_PID" 2>/dev/null; then
		return 0
	fi
	h_nginx_stop
	H_NGX_HTTP_CONFIG=$1 H_NGX_CONFIG=$2
	if h_nginx_start T_NGINX_PID "$T_TMP/ngx" h_nginx_write_conf T_PORT \
		-- ${T_PROTO:+--http2-prior-knowledge}; then
		T_NGINX_CONF=$want
		return 0
	fi
	diag "nginx did not start:"
	diag_file "$(h_nginx_error_log)" 5
	return 1
}

h_nginx_refuses() {
	local out port
	h_free_port port || return 1
	mkdir -p "$T_TMP/ngx/conf" "$T_TMP/ngx/logs" "$T_TMP/ngx/tmp"
	h_nginx_conf "$1" "$2" "$port" >"$T_TMP/ngx/conf/t.conf"
	if out=$("$NGINX" -t -p "$T_TMP/ngx/" -c conf/t.conf -e stderr 2>&1); then
		diag "nginx accepted the configuration"
		return 1
	fi
	if ! grep -qF -- "$3" <<<"$out"; then
		diag "nginx refused it, but not with '$3':"
		while IFS= read -r l; do diag "  $l"; done <<<"$out"
		return 1
	fi
	return 0
}

h_nginx_workers() {
	ps -o pid= --ppid "$T_NGINX_PID" 2>/dev/null | tr -d ' ' | sort
}

h_nginx_reload() {
	local old now
	old=$(h_nginx_workers)
	kill -HUP "$T_NGINX_PID" || return 1
	for _ in $(seq 1 250); do
		sleep 0.02
		now=$(h_nginx_workers)
		[ -n "$now" ] || continue
		# no old worker left
		if [ -z "$(comm -12 <(echo "$old") <(echo "$now"))" ]; then
			return 0
		fi
	done
	diag "old nginx workers did not exit"
	return 1
}
