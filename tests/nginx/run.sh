#!/usr/bin/env bash
# run.sh BUILD_DIR - ngx_http_corsd_module in real nginx, against a real
# corsd and a real upstream.
#
# Layer: tests/nginx.  Each block below is one test: a configuration, a
# request, the status and headers DESIGN.md (sections 3 and 4) asks for
# (the block runner: tests/lib/blocks.sh).  The harness (tests/lib/)
# starts corsd from BUILD_DIR on the policy file below, an upstream that
# sets its own CORS headers, and nginx with
# BUILD_DIR/ngx_http_corsd_module.so on free ports of 127.0.0.1, and stops
# them all on exit.  Output: "ok N - name" / "not ok N - name" per block,
# then one line "N passed, N failed"; exit status 1 when a block failed.
# KEEP=1 keeps the temporary directory (logs, configurations);
# NGINX_PROTO=h2c sends every block over HTTP/2 (tests/run-all.sh runs
# the file both ways).
set -u

# shellcheck source=tests/lib/harness.sh
. "$(dirname "$0")/../lib/harness.sh"
BUILD=$(h_build_dir tests/nginx/run.sh "$@") || exit 2
cd "$(dirname "$0")" || exit 2
# shellcheck source=tests/lib/corsd.sh
. ../lib/corsd.sh
# shellcheck source=tests/lib/nginx.sh
. ../lib/nginx.sh
# shellcheck source=tests/lib/blocks.sh
. ../lib/blocks.sh

CORSD=$BUILD/corsd
# shellcheck disable=SC2034 # CORSCTL, POLICY_V2: used by tests/lib and blocks
CORSCTL=$BUILD/corsctl
MODULE=$BUILD/ngx_http_corsd_module.so

missing=
for f in "$CORSD" "$MODULE" "$NGINX" "$(command -v curl)"; do
	[ -x "$f" ] || [ -f "$f" ] || missing+=" ${f:-curl}"
done
if [ -n "$missing" ]; then
	echo "not ok 1 - prerequisites:$missing missing (make nginx-module all)"
	echo "0 passed, 1 failed"
	exit 1
fi

h_setup nginx
h_corsd_init

POLICY_V1='version: 1
policies:
  api:
    origins:
      - https://app.example.com
      - https://*.example.org
    methods: [GET, POST, PUT, DELETE]
    allow_headers: [Content-Type, X-Custom-Header]
    expose_headers: [X-Request-Id]
    credentials: true
    max_age: 600
    preflight_status: 204
    on_preflight_reject: deny
    on_origin_reject: pass
  strict:
    origins: [https://app.example.com]
    methods: [GET, PUT]
    on_preflight_reject: deny
    on_origin_reject: deny
  empty:
    origins: [https://app.example.com]
    methods: [GET, PUT]
    on_preflight_reject: empty
  pass:
    origins: [https://app.example.com]
    methods: [GET, PUT]
    on_preflight_reject: pass
  public:
    origins: ["*"]
    methods: [GET, HEAD]'

# The same, but api has moved from app.example.com to new.example.com.
# shellcheck disable=SC2034
POLICY_V2=${POLICY_V1/- https:\/\/app.example.com
      - https:\/\/\*.example.org/- https://new.example.com}

h_policy "$POLICY_V1"
mkdir -p "$T_TMP/ngx/conf"
printf 'user:{PLAIN}secret\n' >"$T_TMP/ngx/conf/htpasswd"

if ! h_upstream_start || ! h_corsd_start; then
	echo "not ok 1 - start the upstream and corsd"
	echo "0 passed, 1 failed"
	exit 1
fi

# One server for most blocks, so that nginx keeps running through corsd's
# crash, restart and reload.  The server's policy is api; locations
# choose others.
read -r -d '' SERVER <<EOF
--- config
corsd_policy api;
location / { proxy_pass http://app; }
location /strict/ { corsd_policy strict; proxy_pass http://app; }
location /empty/ { corsd_policy empty; proxy_pass http://app; }
location /pass/ { corsd_policy pass; proxy_pass http://app; }
location /public/ { corsd_policy public; proxy_pass http://app; }
location /off/ { corsd_policy off; proxy_pass http://app; }
location /nosuch/ { corsd_policy nosuch; proxy_pass http://app; }
location = /boom { return 500; }
location /private/ {
    auth_basic "private";
    auth_basic_user_file $T_TMP/ngx/conf/htpasswd;
    proxy_pass http://app;
}
location /redirected/ {
    proxy_pass http://app/missing/;
    proxy_intercept_errors on;
    error_page 404 /not-found;
}
location = /not-found { internal; corsd_policy off; return 404 "not found here"; }
location /down-closed/ {
    corsd_timeout 300ms;
    corsd_unavailable closed;
    proxy_pass http://app;
}
location /down-pass/ {
    corsd_timeout 300ms;
    corsd_unavailable pass;
    proxy_pass http://app;
}
EOF

# ---- preflights -----------------------------------------------------------

block "preflight allowed: answered by the module with the answer's headers" <<EOF
$SERVER
--- request
OPTIONS /items
Origin: https://app.example.com
Access-Control-Request-Method: PUT
Access-Control-Request-Headers: content-type
--- status
204
--- headers
Access-Control-Allow-Origin: https://app.example.com
#Access-Control-Allow-Origin: 1
Access-Control-Allow-Credentials: true
Access-Control-Allow-Methods ~ ^GET, ?POST, ?PUT, ?DELETE$
Access-Control-Allow-Headers ~ [Cc]ontent-[Tt]ype
Access-Control-Max-Age: 600
Vary ~ Origin
!X-Upstream
--- body
EOF

block "preflight allowed before auth_basic (no credentials on a preflight)" <<EOF
$SERVER
--- request
OPTIONS /private/x
Origin: https://shop.example.org
Access-Control-Request-Method: DELETE
--- status
204
--- headers
Access-Control-Allow-Origin: https://shop.example.org
!WWW-Authenticate
!X-Upstream
EOF

block "preflight refused, deny: a method not listed is 405" <<EOF
$SERVER
--- request
OPTIONS /strict/x
Origin: https://app.example.com
Access-Control-Request-Method: DELETE
--- status
405
--- headers
!Access-Control-Allow-Origin
!Access-Control-Allow-Methods
!X-Upstream
--- body
EOF

block "preflight refused, deny: an origin not listed is 403" <<EOF
$SERVER
--- request
OPTIONS /strict/x
Origin: https://evil.example
Access-Control-Request-Method: GET
--- status
403
--- headers
!Access-Control-Allow-Origin
!X-Upstream
--- body
EOF

block "preflight refused, deny: a request header not listed is 403" <<EOF
$SERVER
--- request
OPTIONS /strict/x
Origin: https://app.example.com
Access-Control-Request-Method: PUT
Access-Control-Request-Headers: x-evil
--- status
403
--- headers
!Access-Control-Allow-Origin
!Access-Control-Allow-Headers
!X-Upstream
EOF

block "preflight refused, empty: 200 without CORS headers, upstream not reached" <<EOF
$SERVER
--- request
OPTIONS /empty/x
Origin: https://app.example.com
Access-Control-Request-Method: DELETE
--- status
200
--- headers
!Access-Control-Allow-Origin
!Access-Control-Allow-Credentials
!X-Upstream
--- body
EOF

block "preflight refused, pass: the upstream answers, its CORS headers removed" <<EOF
$SERVER
--- request
OPTIONS /pass/x
Origin: https://app.example.com
Access-Control-Request-Method: DELETE
--- status
200
--- headers
X-Upstream: yes
!Access-Control-Allow-Origin
!Access-Control-Allow-Credentials
--- body
upstream
EOF

block "preflight: several Access-Control-Request-Headers lines are joined" <<EOF
$SERVER
--- request
OPTIONS /items
Origin: https://app.example.com
Access-Control-Request-Method: PUT
Access-Control-Request-Headers: content-type
Access-Control-Request-Headers: x-custom-header
--- status
204
--- headers
Access-Control-Allow-Origin: https://app.example.com
Access-Control-Allow-Headers ~ [Xx]-[Cc]ustom-[Hh]eader
EOF

block "preflight: a refused name on the second ACRH line is seen" <<EOF
$SERVER
--- request
OPTIONS /items
Origin: https://app.example.com
Access-Control-Request-Method: PUT
Access-Control-Request-Headers: content-type
Access-Control-Request-Headers: x-evil
--- status
403
--- headers
!Access-Control-Allow-Origin
!X-Upstream
EOF

block "preflight asking for the private network of a policy without it: 403" <<EOF
$SERVER
--- request
OPTIONS /items
Origin: https://app.example.com
Access-Control-Request-Method: GET
Access-Control-Request-Private-Network: true
--- status
403
--- headers
!Access-Control-Allow-Origin
!Access-Control-Allow-Private-Network
EOF

block "OPTIONS without Access-Control-Request-Method goes on to the upstream" <<EOF
$SERVER
--- request
OPTIONS /items
Origin: https://app.example.com
--- status
200
--- headers
X-Upstream: yes
Access-Control-Allow-Origin: https://app.example.com
#Access-Control-Allow-Origin: 1
--- body
upstream
EOF

# ---- actual requests ------------------------------------------------------

block "actual request through proxy_pass: one ACAO, corsd's; Vary merged" <<EOF
$SERVER
--- request
GET /items
Origin: https://app.example.com
--- status
200
--- headers
Access-Control-Allow-Origin: https://app.example.com
#Access-Control-Allow-Origin: 1
Access-Control-Allow-Credentials: true
#Access-Control-Allow-Credentials: 1
Access-Control-Expose-Headers: X-Request-Id
Vary: Accept-Encoding, Origin
#Vary: 1
X-Upstream: yes
--- body
upstream
EOF

block "actual request, public policy: ACAO * and no Vary: Origin" <<EOF
$SERVER
--- request
GET /public/data
Origin: https://anyone.example
--- status
200
--- headers
Access-Control-Allow-Origin: *
#Access-Control-Allow-Origin: 1
!Access-Control-Allow-Credentials
Vary: Accept-Encoding
EOF

block "not a CORS request: no CORS headers, Vary: Origin merged" <<EOF
$SERVER
--- request
GET /items
--- status
200
--- headers
!Access-Control-Allow-Origin
!Access-Control-Allow-Credentials
Vary: Accept-Encoding, Origin
X-Upstream: yes
EOF

block "a 404 from the upstream still gets the headers" <<EOF
$SERVER
--- request
GET /missing/thing
Origin: https://app.example.com
--- status
404
--- headers
Access-Control-Allow-Origin: https://app.example.com
#Access-Control-Allow-Origin: 1
Vary: Accept-Encoding, Origin
X-Upstream: yes
EOF

block "a 500 from 'return 500' still gets the headers" <<EOF
$SERVER
--- request
GET /boom
Origin: https://app.example.com
--- status
500
--- headers
Access-Control-Allow-Origin: https://app.example.com
#Access-Control-Allow-Origin: 1
Vary: Origin
EOF

block "a 401 from auth_basic still gets the headers" <<EOF
$SERVER
--- request
GET /private/x
Origin: https://app.example.com
--- status
401
--- headers
Access-Control-Allow-Origin: https://app.example.com
!X-Upstream
EOF

block "an error_page redirect keeps the answer of the first location" <<EOF
$SERVER
--- request
GET /redirected/x
Origin: https://app.example.com
--- status
404
--- headers
Access-Control-Allow-Origin: https://app.example.com
#Access-Control-Allow-Origin: 1
--- body
not found here
EOF

block "actual request refused with on_origin_reject deny: 403, upstream not reached" <<EOF
$SERVER
--- request
GET /strict/x
Origin: https://evil.example
--- status
403
--- headers
!Access-Control-Allow-Origin
!X-Upstream
EOF

block "actual request refused with on_origin_reject pass: upstream, its CORS removed" <<EOF
$SERVER
--- request
GET /items
Origin: https://evil.example
--- status
200
--- headers
X-Upstream: yes
!Access-Control-Allow-Origin
!Access-Control-Allow-Credentials
Vary: Accept-Encoding, Origin
EOF

block "two Origin lines are a list, not an origin: denied" <<EOF
$SERVER
--- request
GET /strict/x
Origin: https://app.example.com
Origin: https://app.example.com
--- status
403
--- headers
!Access-Control-Allow-Origin
EOF

block "policy per location: strict allows its origin" <<EOF
$SERVER
--- request
GET /strict/x
Origin: https://app.example.com
--- status
200
--- headers
Access-Control-Allow-Origin: https://app.example.com
!Access-Control-Allow-Credentials
X-Upstream: yes
EOF

block "corsd_policy off: nothing added, nothing removed" <<EOF
$SERVER
--- request
GET /off/x
Origin: https://app.example.com
--- status
200
--- headers
Access-Control-Allow-Origin: *
#Access-Control-Allow-Origin: 1
Access-Control-Allow-Credentials: true
Vary: Accept-Encoding
X-Upstream: yes
EOF

block "a policy corsd does not have: no CORS headers, a warning in the log" <<EOF
$SERVER
--- request
GET /nosuch/x
Origin: https://app.example.com
--- status
200
--- headers
!Access-Control-Allow-Origin
X-Upstream: yes
--- error_log
corsd policy "nosuch" is not defined
EOF

# ---- corsd crashes, comes back, reloads -----------------------------------

block "corsd killed, closed: a preflight is 503 within the timeout" <<EOF
$SERVER
--- before
NGINX_BEFORE_KILL=\$T_NGINX_PID
h_corsd_stop KILL
--- request
OPTIONS /down-closed/x
Origin: https://down1.example.org
Access-Control-Request-Method: PUT
--- status
503
--- headers
!Access-Control-Allow-Origin
!X-Upstream
--- body
--- time_max_ms
800
--- error_log
is unavailable
EOF

block "corsd killed, closed: an actual request gets no CORS headers" <<EOF
$SERVER
--- request
GET /down-closed/x
Origin: https://down2.example.org
--- status
200
--- headers
X-Upstream: yes
!Access-Control-Allow-Origin
!Access-Control-Allow-Credentials
--- time_max_ms
800
EOF

block "corsd killed, pass: a preflight goes on to the upstream within the timeout" <<EOF
$SERVER
--- request
OPTIONS /down-pass/x
Origin: https://down3.example.org
Access-Control-Request-Method: PUT
--- status
200
--- headers
X-Upstream: yes
--- body
upstream
--- time_max_ms
800
EOF

block "corsd killed, pass: an actual request has only the upstream's headers" <<EOF
$SERVER
--- request
GET /down-pass/x
Origin: https://down4.example.org
--- status
200
--- headers
X-Upstream: yes
Access-Control-Allow-Origin: *
#Access-Control-Allow-Origin: 1
--- time_max_ms
800
EOF

block "corsd restarted: the same nginx workers use it again, no reload" <<EOF
$SERVER
--- before
h_since_stop_ms 1100
h_corsd_start
--- request
OPTIONS /items
Origin: https://down5.example.org
Access-Control-Request-Method: PUT
--- repeat
6
--- status
204
--- headers
Access-Control-Allow-Origin: https://down5.example.org
!X-Upstream
--- check
[ "\$T_NGINX_PID" = "\$NGINX_BEFORE_KILL" ]
EOF

block "policy reloaded while nginx serves: the answer changes (origin dropped)" <<EOF
$SERVER
--- before
h_policy "\$POLICY_V2"
h_corsd_reload
--- request
OPTIONS /items
Origin: https://app.example.com
Access-Control-Request-Method: PUT
Access-Control-Request-Headers: content-type
--- retry_ms
3000
--- status
403
--- headers
!Access-Control-Allow-Origin
EOF

block "policy reloaded while nginx serves: the new origin is allowed" <<EOF
$SERVER
--- request
GET /items
Origin: https://new.example.com
--- retry_ms
3000
--- status
200
--- headers
Access-Control-Allow-Origin: https://new.example.com
#Access-Control-Allow-Origin: 1
--- check
[ "\$T_NGINX_PID" = "\$NGINX_BEFORE_KILL" ]
EOF

block "nginx reloaded (HUP): its new workers open their own handles" <<EOF
$SERVER
--- before
h_nginx_reload
--- request
GET /items
Origin: https://new.example.com
--- repeat
4
--- status
200
--- headers
Access-Control-Allow-Origin: https://new.example.com
#Access-Control-Allow-Origin: 1
--- check
! grep -q "corsd_client_open" "\$T_TMP/ngx/logs/error.log"
EOF

# ---- corsd hung (SIGSTOP): the breaker --------------------------------------

# A location on a "*" policy: corsd's answer is ACAO * without ACAC; the
# upstream's ACAC (true) is removed either way, so ACAO * is corsd's.
read -r -d '' HUNG <<EOF
--- config
location /hung/ {
    corsd_policy public;
    corsd_timeout 300ms;
    corsd_unavailable closed;
    proxy_pass http://app;
}
EOF

# The pids of the nginx workers that logged their breaker opening.
hung_opened() {
	grep -E '\[warn\].*is unavailable \(corsd(.s tick| did not answer)' \
		"$(h_nginx_error_log)" | sed -E 's/.*\[warn\] ([0-9]+)#.*/\1/' |
		sort -u
}

# GET /hung/x with Origin $1; prints its time in ms.
hung_get() {
	curl -s -o /dev/null -w '%{time_total}' --max-time 5 \
		${T_PROTO:+--http2-prior-knowledge} -H "Origin: $1" \
		"http://127.0.0.1:$T_PORT/hung/x" |
		awk '{ printf "%d\n", $1 * 1000 }'
}

# New Origins until both workers have waited out a timeout (at most 30).
hung_open_both() {
	local i
	for i in $(seq 1 30); do
		[ "$(hung_opened | wc -l)" -ge 2 ] && return 0
		hung_get "https://open$i.example" >/dev/null
	done
	diag "the breakers of both workers did not open: $(hung_opened | paste -sd' ')"
	return 1
}

# New Origins for 3 s: each worker probes after 100, 200, 400 ms ...
# of back-off and waits the timeout each time, so that its back-off is
# 800 ms or more when this returns.
hung_settle() {
	local i=0 end=$(($(h_now_ms) + 3000))
	while [ "$(h_now_ms)" -lt "$end" ]; do
		i=$((i + 1))
		hung_get "https://settle$i.example" >/dev/null
		sleep 0.01
	done
}

# A burst of 10 new Origins: each answered at once (< 100 ms), but for
# at most one probe per worker, which waits the timeout (the burst lasts
# less than a back-off of 800 ms).
hung_burst() {
	local i ms slow=0 times=()
	for i in $(seq 1 10); do
		ms=$(hung_get "https://burst$i.example")
		times+=("$ms")
		[ "$ms" -lt 100 ] || slow=$((slow + 1))
	done
	[ "$slow" -le 2 ] && return 0
	diag "$slow of 10 new Origins took 100 ms or more: ${times[*]} ms"
	return 1
}

block "corsd hung (SIGSTOP): a new Origin gets the corsd_unavailable answer" <<EOF
$HUNG
--- before
h_corsd_answers 2 '*' -H 'Origin: https://hit.example' \
	\${T_PROTO:+--http2-prior-knowledge} "http://127.0.0.1:\$T_PORT/hung/x"
h_corsd_pause
--- request
GET /hung/x
Origin: https://hung0.example
--- status
200
--- headers
X-Upstream: yes
!Access-Control-Allow-Origin
!Access-Control-Allow-Credentials
--- time_max_ms
600
--- error_log
did not answer within 300 ms; not asking it again for 100 ms
EOF

block "corsd hung: a cached Origin keeps its answer, new ones are answered at once" <<EOF
$HUNG
--- before
hung_open_both && hung_settle
--- request
GET /hung/x
Origin: https://hit.example
--- repeat
6
--- status
200
--- headers
Access-Control-Allow-Origin: *
!Access-Control-Allow-Credentials
X-Upstream: yes
--- time_max_ms
100
--- check
hung_burst
EOF

block "corsd continued (SIGCONT): new Origins get corsd's answers again" <<EOF
$HUNG
--- before
h_corsd_resume
--- request
GET /hung/x
Origin: https://back.example
--- retry_ms
3000
--- status
200
--- headers
Access-Control-Allow-Origin: *
!Access-Control-Allow-Credentials
X-Upstream: yes
--- error_log
answers again
--- check
[ "\$(grep -c 'is unavailable' "\$(h_nginx_error_log)")" -le 2 ]
EOF

# ---- configuration errors -------------------------------------------------

block "config: corsd_timeout 0 is refused" <<EOF
--- config
location / { corsd_policy api; corsd_timeout 0; }
--- config_error
"corsd_timeout" directive must be between 1ms and 60s
EOF

block "config: corsd_unavailable takes closed or pass" <<EOF
--- config
location / { corsd_policy api; corsd_unavailable open; }
--- config_error
invalid value "open"
EOF

block "config: a policy name with a space is refused" <<EOF
--- config
location / { corsd_policy "a b"; }
--- config_error
invalid corsd policy name "a b"
EOF

block "config: corsd_instance twice is refused" <<EOF
--- http_config
corsd_instance other;
--- config
location / { corsd_policy api; }
--- config_error
"corsd_instance" directive is duplicate
EOF

summary
