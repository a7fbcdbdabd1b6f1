#!/usr/bin/env bash
# hung.sh BUILD_DIR - what a hung corsd costs nginx: hit traffic (one
# Origin) beside a flood of distinct Origins (each a cache miss), with
# corsd healthy, then with corsd hung (SIGSTOP).
#
# Layer: bench/e2e, beside run.sh and on the same helpers (tests/lib/).
# corsd from BUILD_DIR on a "*" policy; nginx (2 workers) with
# BUILD_DIR/ngx_http_corsd_module.so on nginx-c.conf.in (corsd_timeout
# 50ms, the default); per state, two wrk at once for DURATION seconds:
# the hits (-c HIT_CONNS, Origin https://hit.example) and the flood
# (-c FLOOD_CONNS, a new Origin per request).  Output: one Markdown row
# per state: requests/s and p99 of the hits, requests/s of the flood.
#
# Environment: DURATION (5), HIT_CONNS (16), FLOOD_CONNS (16), WRK, NGINX,
# KEEP.
set -u

# shellcheck source=tests/lib/harness.sh
. "$(dirname "$0")/../../tests/lib/harness.sh"
BUILD=$(h_build_dir bench/e2e/hung.sh "$@") || exit 2
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lib/corsd.sh
. "$HERE/../../tests/lib/corsd.sh"
# shellcheck source=tests/lib/nginx.sh
. "$HERE/../../tests/lib/nginx.sh"

DURATION=${DURATION:-5}
HIT_CONNS=${HIT_CONNS:-16}
FLOOD_CONNS=${FLOOD_CONNS:-16}
WRK=${WRK:-wrk}
CORSD=$BUILD/corsd
# shellcheck disable=SC2034 # read by h_corsd_start
CORSCTL=$BUILD/corsctl
MODULE=$BUILD/ngx_http_corsd_module.so

h_setup bench-hung
h_corsd_init
h_policy 'version: 1
policies:
  api:
    origins: ["*"]'
mkdir -p "$T_TMP/www" "$T_TMP/gen"
printf 'ok\n' >"$T_TMP/www/ok.txt"
chmod 755 "$T_TMP/www" "$T_TMP/gen"
chmod 644 "$T_TMP/www/ok.txt"
cp "$HERE/common.conf" "$T_TMP/gen/common.conf"
# A new Origin per request: every one a miss.
cat >"$T_TMP/flood.lua" <<'EOF'
local n = 0
request = function()
	n = n + 1
	return wrk.format("GET", nil,
		{ ["Origin"] = "https://f" .. n .. "-" .. math.random(1e9) .. ".example" })
end
EOF

# For h_nginx_start: nginx-c.conf.in on $port.
# shellcheck disable=SC2317 # called by h_nginx_start
hung_conf() {
	sed -e "s|@PORT@|$port|g" -e "s|@ROOT@|$T_TMP/www|g" \
		-e "s|@USER_LINE@|$(h_nginx_user_line)|g" \
		-e "s|@INCLUDE@|$T_TMP/gen/common.conf|g" \
		-e "s|@MODULE@|$MODULE|g" -e "s|@INSTANCE@|$T_INSTANCE|g" \
		"$HERE/nginx-c.conf.in" >"$T_TMP/ngx/conf/nginx.conf"
}

h_corsd_start || exit 1
h_nginx_start pid "$T_TMP/ngx" hung_conf port || {
	echo "hung.sh: nginx did not start" >&2
	exit 1
}
URL=http://127.0.0.1:$port/ok.txt

# wrk output FILE: "req/s p99".
wrk_fields() {
	awk '/Requests\/sec/ { r = $2 } / 99% / { p = $2 }
		END { printf "%s %s\n", r, p }' "$1"
}

# run STATE: both wrk at once; one Markdown row.
run() {
	local hit flood
	"$WRK" -t1 -c"$HIT_CONNS" -d"$DURATION" --latency \
		-H 'Origin: https://hit.example' "$URL" >"$T_TMP/hit.out" &
	"$WRK" -t1 -c"$FLOOD_CONNS" -d"$DURATION" --latency \
		-s "$T_TMP/flood.lua" "$URL" >"$T_TMP/flood.out"
	wait $!
	read -r -a hit < <(wrk_fields "$T_TMP/hit.out")
	read -r -a flood < <(wrk_fields "$T_TMP/flood.out")
	echo "| $1 | ${hit[0]} | ${hit[1]} | ${flood[0]} |"
}

curl -s -o /dev/null -H 'Origin: https://hit.example' "$URL"
echo "| corsd | hits req/s | hits p99 | flood req/s |"
echo "|---|---|---|---|"
run healthy
h_corsd_pause
run "hung (SIGSTOP)"
h_corsd_resume
