#!/usr/bin/env bash
# run.sh BUILD_DIR - end to end in a real browser: headless Chromium loads a
# page from one origin and calls fetch() against nginx + corsd on another.
#
# Layer: tests/e2e.  Processes, all stopped by the EXIT trap, also when a
# test fails or the run is interrupted:
#   - corsd from BUILD_DIR, on the policy file below (unique --instance,
#     CORSD_RUNDIR in the temporary directory);
#   - one nginx with BUILD_DIR/ngx_http_corsd_module.so and three servers:
#     A, the "app" origin http://127.0.0.1:PA, serves www/index.html;
#     B, the "api" origin http://127.0.0.1:PB, one location per policy,
#     each proxied to C, a backend on a unix socket that answers JSON
#     echoing the method, the cookie and X-Custom-Header, and sets
#     X-Request-Id, X-Secret and its own Access-Control-Allow-Origin: *
#     (which the module must remove);
#   - Chromium, headless, with a fresh profile per page load, run as
#     `chromium --virtual-time-budget --dump-dom URL`.
# Both origins are 127.0.0.1, so they are same-site: the page's cookie
# (cookies ignore ports) reaches B when credentials allow it.
#
# The page (www/index.html) runs every case in JavaScript and writes what
# its script could read, one "CASE name: result" line each.  The
# expectations below are written by hand from the policy and DESIGN.md
# section 3; a few more are read from B's access log (what the server
# saw: preflights, their status, the cookie).  Phase 1 runs most cases;
# then the policy file is rewritten and corsd reloaded, and phase 2, a
# fresh page load in a fresh browser, sees the new answers.
#
# Output: "ok N - name" / "not ok N - name" per assertion, then one line
# "N passed, N failed"; exit status 1 when any failed.  KEEP=1 keeps the
# temporary directory (logs, configuration, dumped DOM).
set -u

# shellcheck source=tests/lib/harness.sh
. "$(dirname "$0")/../lib/harness.sh"
BUILD=$(h_build_dir tests/e2e/run.sh "$@") || exit 2
cd "$(dirname "$0")" || exit 2
HERE=$PWD
# shellcheck source=tests/lib/corsd.sh
. ../lib/corsd.sh
# shellcheck source=tests/lib/nginx.sh
. ../lib/nginx.sh
# shellcheck source=tests/lib/chromium.sh
. ../lib/chromium.sh

CORSD=$BUILD/corsd
CORSCTL=$BUILD/corsctl
MODULE=$BUILD/ngx_http_corsd_module.so

missing=
for f in "$CORSD" "$CORSCTL" "$MODULE" "$NGINX" "$CHROMIUM" \
	"$(command -v curl)"; do
	[ -x "$f" ] || [ -f "$f" ] || missing+=" ${f:-curl}"
done
if [ -n "$missing" ]; then
	echo "not ok 1 - prerequisites:$missing missing" \
		"(make deps all nginx-module)"
	echo "0 passed, 1 failed"
	exit 1
fi

h_setup e2e
h_corsd_init

# The app and the api origins' ports.
PA='' PB=''
TOKEN="tok$RANDOM$RANDOM"
APP=
API=

# The policy, version 1 and (after the reload) 2.  Every policy but
# "other" lists the app origin; "grant" and "revoke" swap in version 2.
policy() { # VERSION
	local grant=https://other.example revoke=$APP
	if [ "$1" = 2 ]; then
		grant=$APP
		revoke=https://other.example
	fi
	cat <<EOF
version: 1
policies:
  api:
    origins: [$APP]
    methods: [GET, POST, PUT, DELETE, PATCH]
    allow_headers: [Content-Type, X-Custom-Header]
    expose_headers: [X-Request-Id]
  other:
    origins: [https://other.example]
  readonly:
    origins: [$APP]
    methods: [GET]
    allow_headers: [Content-Type]
  star:
    origins: [$APP]
    allow_headers: "*"
  cred:
    origins: [$APP]
    credentials: true
  cached:
    origins: [$APP]
    methods: [PUT]
    allow_headers: [Content-Type]
    max_age: 600
  nocache:
    origins: [$APP]
    methods: [PUT]
    allow_headers: [Content-Type]
    max_age: 0
  grant:
    origins: [$grant]
  revoke:
    origins: [$revoke]
EOF
}

LOCATIONS="api other readonly star cred cached nocache grant revoke"

nginx_conf() {
	local l
	h_nginx_preamble
	cat <<EOF
    types { text/html html; }
    corsd_timeout 1s;
    corsd_unavailable closed;
    log_format e2e '\$request_method \$uri \$status'
        ' acrm=\$http_access_control_request_method'
        ' acrh=\$http_access_control_request_headers'
        ' cookie=\$cookie_e2e'
        ' acao=\$sent_http_access_control_allow_origin';
    upstream backend { server unix:$T_TMP/ngx/backend.sock; }

    # A: the app origin, the page.
    server {
        listen 127.0.0.1:$PA;
        access_log logs/app.log;
        root $T_TMP/www;
        location = /__ready { return 204; }
    }

    # B: the api origin, one location per policy.
    server {
        listen 127.0.0.1:$PB;
        access_log logs/api.log e2e;
        location = /__ready { return 204; }
EOF
	for l in $LOCATIONS; do
		echo "        location /$l/ { corsd_policy $l; proxy_pass http://backend; }"
	done
	cat <<EOF
    }

    # C: the backend, which sets a CORS header of its own.
    server {
        listen unix:$T_TMP/ngx/backend.sock;
        access_log off;
        default_type application/json;
        add_header X-Request-Id e2e-42 always;
        add_header X-Secret hidden always;
        add_header Cache-Control no-store always;
        add_header Access-Control-Allow-Origin "*" always;
        location / {
            return 200 '{"method":"\$request_method","cookie":"\$cookie_e2e","custom":"\$http_x_custom_header"}\n';
        }
    }
}
EOF
}

# For the ports h_nginx_start picked: the origins, the policy (corsd
# started, or reloaded when nginx found a port taken and they changed),
# the configuration.
# shellcheck disable=SC2317 # called by h_nginx_start
prepare() {
	APP=http://127.0.0.1:$PA
	API=http://127.0.0.1:$PB
	h_policy "$(policy 1)"
	if [ -z "$T_CORSD_PID" ]; then
		h_corsd_start || return 1
	else
		h_corsd_reload || return 1
	fi
	nginx_conf >"$T_TMP/ngx/conf/nginx.conf"
}

start_all() {
	mkdir -p "$T_TMP/www"
	cp "$HERE/www/index.html" "$T_TMP/www/"
	chmod -R a+rX "$T_TMP/www"
	h_nginx_start T_NGINX_PID "$T_TMP/ngx" prepare PA PB && return 0
	echo "# nginx did not start:"
	sed 's/^/#   /' "$T_TMP/ngx/logs/error.log" | tail -5
	return 1
}

# Until both workers answer a preflight with corsd's headers (each opens
# its client handle when it starts): 20 allowed answers in a row.
wait_corsd_answers() {
	h_corsd_answers 20 "$APP" -X OPTIONS -H "Origin: $APP" \
		-H 'Access-Control-Request-Method: PUT' "$API/api/__probe"
}

if ! start_all || ! wait_corsd_answers; then
	echo "not ok 1 - start corsd and nginx, and get corsd's answers through nginx"
	sed 's/^/#   /' "$T_TMP/corsd.log" 2>/dev/null | tail -5
	sed 's/^/#   /' "$T_TMP/ngx/logs/error.log" 2>/dev/null | tail -5
	echo "0 passed, 1 failed"
	exit 1
fi

# browse PHASE: load the page in a fresh Chromium and profile; the dumped
# DOM goes to $T_TMP/dom.PHASE.
browse() {
	local phase=$1
	h_chromium_dump "$APP/index.html?api=$API&phase=$phase&token=$TOKEN" \
		"$T_TMP/chrome.$phase" "$T_TMP/dom.$phase" \
		"$T_TMP/chrome.$phase.log"
	if ! grep -qx DONE "$T_TMP/dom.$phase" ||
		! grep -q "BEGIN phase $phase" "$T_TMP/dom.$phase"; then
		diag "the page did not finish; dumped DOM and Chromium's log:"
		diag_file "$T_TMP/dom.$phase" 20
		diag_file <(grep -v dbus "$T_TMP/chrome.$phase.log") 10
		return 1
	fi
	return 0
}

# What the page's script read for case NAME in PHASE ("" if no line).
got() { # PHASE NAME
	sed -n "s/^CASE $2: //p" "$T_TMP/dom.$1" | head -n1 |
		sed 's/&amp;/\&/g; s/&lt;/</g; s/&gt;/>/g'
}

# expect PHASE CASE WANT DESCRIPTION
expect() {
	local r
	r=$(got "$1" "$2")
	if [ "$r" = "$3" ]; then
		pass "$4"
	else
		diag "case $2: the page read '$r'" "expected '$3'"
		fail "$4"
	fi
}

# B's access log, one request a line:
# METHOD URI STATUS acrm=.. acrh=.. cookie=.. acao=..
API_LOG=$T_TMP/ngx/logs/api.log

# logged DESCRIPTION ERE [ERE...]: each ERE ("!ERE": none) matches a line.
logged() {
	local name=$1 re rc=0
	shift
	for re in "$@"; do
		if [[ $re == '!'* ]]; then
			if grep -qE -- "${re#!}" "$API_LOG"; then
				diag "a line matches /${re#!}/"
				rc=1
			fi
		elif ! grep -qE -- "$re" "$API_LOG"; then
			diag "no line matches /$re/"
			rc=1
		fi
	done
	if [ "$rc" != 0 ]; then
		diag "the access log of the api origin:"
		diag_file <(grep -v __probe "$API_LOG")
	fi
	result "$rc" "$name"
}

# counted DESCRIPTION ERE N: exactly N lines match.
counted() {
	local n
	n=$(grep -cE -- "$2" "$API_LOG")
	if [ "$n" = "$3" ]; then
		pass "$1"
	else
		diag "$n lines match /$2/, expected $3:"
		diag_file <(grep -E -- "$2" "$API_LOG")
		fail "$1"
	fi
}

# ---- phase 1 ----------------------------------------------------------------

browse 1
result $? "phase 1: Chromium loads the page from $APP and runs every case"

G='status=200 method=GET'
expect 1 simple-get-allowed "$G" \
	"simple GET, origin listed: the script reads the status and body"
expect 1 simple-get-denied TypeError \
	"simple GET, origin not listed: fetch rejects with a TypeError"
logged "simple GET denied: sent without preflight, answered without ACAO (the backend's removed)" \
	'^GET /other/get 200 .* acao=-$' '!^OPTIONS /other/'
expect 1 put-allowed 'status=200 method=PUT' \
	"PUT with Content-Type: JSON, preflight allowed: the script reads the answer"
logged "PUT allowed: preflight answered 204 by the module, then the PUT" \
	"^OPTIONS /api/put 204 acrm=PUT acrh=content-type .* acao=$APP\$" \
	'^PUT /api/put 200 '
expect 1 put-denied TypeError \
	"PUT refused by the preflight (methods: [GET]): fetch rejects"
expect 1 delete-allowed 'status=200 method=DELETE' \
	"DELETE, preflight allowed: the script reads the answer"
expect 1 delete-denied TypeError \
	"DELETE refused by the preflight: fetch rejects"
logged "PUT and DELETE refused: preflights answered 405, the requests never sent" \
	'^OPTIONS /readonly/put 405 acrm=PUT ' \
	'^OPTIONS /readonly/delete 405 acrm=DELETE ' \
	'!^(PUT|DELETE) /readonly/'
expect 1 patch-upper-allowed 'status=200 method=PATCH' \
	"PATCH (listed as PATCH): allowed"
expect 1 patch-lower-refused TypeError \
	"method 'patch' (lower case) against PATCH: refused, fetch rejects"
logged "Chromium sends 'patch' as it is; the module answers 405" \
	'^OPTIONS /api/patch-lower 405 acrm=patch ' \
	'^OPTIONS /api/patch-upper 204 acrm=PATCH ' \
	'!^patch /api/'
expect 1 header-allowed "$G custom=hello" \
	"custom header listed in allow_headers: sent, the backend sees it"
expect 1 header-denied TypeError \
	"custom header not listed: fetch rejects"
logged "custom header not listed: preflight 403 naming it, request never sent" \
	'^OPTIONS /api/header-denied 403 acrm=GET acrh=x-evil ' \
	'!^GET /api/header-denied'
expect 1 star-header-allowed "$G" \
	"allow_headers \"*\": any custom header is allowed"
expect 1 star-authorization-refused TypeError \
	"allow_headers \"*\": Authorization is not covered, fetch rejects"
logged "Authorization under \"*\": preflight 403" \
	'^OPTIONS /star/authorization 403 acrm=GET acrh=authorization ' \
	'!^GET /star/authorization'
expect 1 credentials-include-allowed "$G cookie=$TOKEN" \
	"credentials: 'include' on the credentialed policy: allowed, the cookie is sent"
logged "the server saw the cookie of the credentialed request" \
	"^GET /cred/include 200 .* cookie=$TOKEN acao=$APP\$"
expect 1 credentials-same-origin-no-cookie "$G cookie=" \
	"default credentials mode, cross-origin: allowed, no cookie sent"
expect 1 credentials-include-denied TypeError \
	"credentials: 'include' on a policy without credentials: fetch rejects"
expect 1 expose-headers \
	"$G h:X-Request-Id=e2e-42 h:X-Secret=null h:Content-Type=application/json" \
	"exposed header readable from JS; unexposed one null; safelisted readable"
expect 1 max-age-cached 'status=200 method=PUT | status=200 method=PUT' \
	"max_age 600: two identical PUTs succeed"
counted "max_age 600: the browser cached the preflight (one OPTIONS, two PUTs)" \
	'^OPTIONS /cached/put 204 ' 1
counted "max_age 600: both PUTs reached the server" '^PUT /cached/put 200 ' 2
expect 1 max-age-zero 'status=200 method=PUT | status=200 method=PUT' \
	"max_age 0: two identical PUTs succeed"
counted "max_age 0: nothing cached, each PUT preflighted (two OPTIONS)" \
	'^OPTIONS /nocache/put 204 ' 2
expect 1 reload-grant-before TypeError \
	"before the reload: the origin is not listed in policy 'grant'"
expect 1 reload-revoke-before "$G" \
	"before the reload: the origin is listed in policy 'revoke'"

# ---- reload, phase 2 --------------------------------------------------------

h_policy "$(policy 2)"
if h_corsd_reload; then
	pass "rewrite the policy file and reload corsd"
else
	diag "corsd's log:"
	diag_file "$T_TMP/corsd.log" 5
	fail "rewrite the policy file and reload corsd"
fi
# SIGHUP (when corsctl has no reload) does not wait for the outcome:
# wait until curl sees the new answer.
h_corsd_answers 1 "$APP" -H "Origin: $APP" "$API/grant/__probe"

browse 2
result $? "phase 2: a fresh page load after the reload runs every case"
expect 2 reload-grant-after "$G" \
	"after the reload: 'grant' now lists the origin, the script reads the answer"
expect 2 reload-revoke-after TypeError \
	"after the reload: 'revoke' no longer lists it, fetch rejects"

summary
