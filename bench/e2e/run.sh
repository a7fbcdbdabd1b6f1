#!/usr/bin/env bash
# run.sh BUILD_DIR - requests/s and latency of nginx with no CORS, with the
# usual hand-written CORS map, and with ngx_http_corsd_module + corsd, all
# three measured by wrk in the same run, interleaved.
#
# Layer: bench/e2e (`make bench-e2e` builds the release variant and runs
# this on build/release).  Processes, all on free ports of 127.0.0.1 and
# all stopped by the EXIT trap, also on failure or interrupt (the helpers
# come from tests/lib/: harness.sh, corsd.sh, nginx.sh):
#   - corsd from BUILD_DIR on the generated policy (unique --instance,
#     CORSD_RUNDIR in the temporary directory);
#   - three nginx, /usr/sbin/nginx, 2 workers each, keepalive, no access
#     log, one static file (ok.txt, 3 bytes) as the content:
#       (a) nginx-a.conf.in  no CORS at all,
#       (b) nginx-b.conf.in  a map of N_ORIGINS origins (N_REGEX of them
#           regexes) + add_header ... always + if (OPTIONS) return 204,
#       (c) nginx-c.conf.in  the module, corsd_policy api (the same
#           origins and regexes as a corsd policy file);
#     gen.sh writes the map and the policy;
#   - wrk, one at a time: -t THREADS -c CONNS -d DURATION --latency.
#
# Workloads (every request of a run is the same one, so for (c) every
# decision after the first is a hit in corsd's shared-memory cache):
#   actual-allowed        GET, Origin = the last exact origin of the map
#   actual-allowed-regex  GET, Origin matched only by the last regex
#   actual-denied         GET, Origin matched by nothing
#   preflight-allowed     OPTIONS, the last exact origin, ACRM PUT,
#                         ACRH x-custom-header
#   preflight-denied      OPTIONS, Origin matched by nothing, same ACRM/ACRH
# Each (configuration, workload) is first checked with curl (status and
# Access-Control-Allow-Origin); a wrong answer stops the run.
#
# Procedure: one warm-up round (WARMUP seconds each, discarded), then
# ROUNDS rounds; in each round every workload runs on a, b and c back to
# back, the order rotated each round (abc, bca, cab, ...).  Reported: the
# median per configuration of requests/s, p50 and p99 latency and the CPU
# time of the nginx workers per request (/proc/PID/task/*/schedstat), as
# ratios to (a)'s medians; the median and range of the per-round ratios
# (c)/(a), (c)/(b), (b)/(a); corsd's CPU time.  Output: Markdown on stdout
# (the tables, then the raw rows); the wrk outputs stay in the temporary
# directory with KEEP=1.
#
# CALLGRIND=1 measures instead what no other tenant of the machine can
# disturb: user-space instructions per request (valgrind --tool=callgrind)
# of one nginx per configuration, each a single process (master_process
# off, one worker) with the same configuration otherwise.  For each
# workload: wrk -c4 for WARMUP seconds, callgrind_control --zero, wrk -c4
# for CG_DURATION seconds, callgrind_control --dump; Ir of the dump /
# requests.  The kernel's share (the larger one here: loopback TCP, file
# reads) is not counted; it is the same in a, b and c but for the bytes of
# the extra headers.
#
# Environment: ROUNDS (9), DURATION (1, seconds), WARMUP (1), THREADS (1),
# CONNS (32), N_ORIGINS (1000), N_REGEX (50), CALLGRIND, CG_DURATION (2),
# WRK (wrk), NGINX (/usr/sbin/nginx), KEEP.
set -u

# shellcheck source=tests/lib/harness.sh
. "$(dirname "$0")/../../tests/lib/harness.sh"
BUILD=$(h_build_dir bench/e2e/run.sh "$@") || exit 2
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lib/corsd.sh
. "$HERE/../../tests/lib/corsd.sh"
# shellcheck source=tests/lib/nginx.sh
. "$HERE/../../tests/lib/nginx.sh"

ROUNDS=${ROUNDS:-9}
DURATION=${DURATION:-1}
WARMUP=${WARMUP:-1}
THREADS=${THREADS:-1}
CONNS=${CONNS:-32}
N_ORIGINS=${N_ORIGINS:-1000}
N_REGEX=${N_REGEX:-50}
WRK=${WRK:-wrk}
CALLGRIND=${CALLGRIND:-}
CG_DURATION=${CG_DURATION:-2}

CORSD=$BUILD/corsd
CORSCTL=$BUILD/corsctl
MODULE=$BUILD/ngx_http_corsd_module.so

missing=
for f in "$CORSD" "$CORSCTL" "$MODULE" "$NGINX" "$(command -v curl)" \
	"$(command -v "$WRK")"; do
	[ -x "$f" ] || [ -f "$f" ] || missing+=" ${f:-curl or wrk}"
done
if [ -n "$CALLGRIND" ]; then
	for f in valgrind callgrind_control; do
		command -v "$f" >/dev/null || missing+=" $f"
	done
fi
if [ -n "$missing" ]; then
	echo "run.sh: missing:$missing (make deps all nginx-module)" >&2
	exit 1
fi

CONFIGS=(a b c)
WORKLOADS=(actual-allowed actual-allowed-regex actual-denied
	preflight-allowed preflight-denied)
declare -A B_PID=() B_PORT=()

h_setup bench-e2e
h_corsd_init

# ---- the policy, the content, the configurations --------------------------

"$HERE/gen.sh" "$T_TMP/gen" "$N_ORIGINS" "$N_REGEX" || exit 1
# shellcheck source=/dev/null
. "$T_TMP/gen/workload.env"
cp "$T_TMP/gen/policy.yaml" "$T_POLICY"
if ! "$CORSCTL" check "$T_POLICY" >"$T_TMP/check.out" 2>&1; then
	echo "run.sh: corsd refuses the generated policy:" >&2
	cat "$T_TMP/check.out" >&2
	exit 1
fi
mkdir -p "$T_TMP/www" "$T_TMP/wrk"
printf 'ok\n' >"$T_TMP/www/ok.txt"
chmod 755 "$T_TMP/www" "$T_TMP/gen"
chmod 644 "$T_TMP/www/ok.txt" "$T_TMP/gen/"*
cp "$HERE/common.conf" "$T_TMP/gen/common.conf"

# b_nginx_start NAME [cg]: nginx on nginx-NAME.conf.in, prefix $T_TMP/NAME;
# with cg, as one process under callgrind, key and prefix NAME-cg.
# B_PID[key] and B_PORT[key] say where it runs.
b_nginx_start() {
	local pid port
	B_NAME=$1 B_KEY=$1${2:+-$2} B_SINGLE=()
	B_DIR=$T_TMP/$B_KEY
	if [ -n "${2:-}" ]; then
		B_SINGLE=(-e 's/^master_process on;/master_process off;/'
			-e 's/^worker_processes 2;/worker_processes 1;/'
			-e 's/^@USER_LINE@$//')
		# valgrind takes seconds to start
		h_nginx_start -t 30 -x b_valgrind pid "$B_DIR" b_nginx_conf port
	else
		h_nginx_start pid "$B_DIR" b_nginx_conf port
	fi || {
		echo "run.sh: nginx ($B_KEY) did not start:" >&2
		tail -n 5 "$B_DIR/logs/error.log" "$B_DIR/valgrind.log" >&2 2>/dev/null
		return 1
	}
	B_PID[$B_KEY]=$pid
	B_PORT[$B_KEY]=$port
}

# For h_nginx_start: the configuration of B_NAME in B_DIR, on $port.
# shellcheck disable=SC2317 # called by h_nginx_start
b_nginx_conf() {
	sed "${B_SINGLE[@]}" -e "s|@PORT@|$port|g" -e "s|@ROOT@|$T_TMP/www|g" \
		-e "s|@USER_LINE@|$(h_nginx_user_line)|g" \
		-e "s|@INCLUDE@|$T_TMP/gen/common.conf|g" \
		-e "s|@MAP@|$T_TMP/gen/cors_map.conf|g" \
		-e "s|@MODULE@|$MODULE|g" -e "s|@INSTANCE@|$T_INSTANCE|g" \
		"$HERE/nginx-$B_NAME.conf.in" >"$B_DIR/conf/nginx.conf"
}

# For h_nginx_start -x: nginx ARGS... as one process under callgrind.
# shellcheck disable=SC2317 # called by h_nginx_start
b_valgrind() {
	exec valgrind -q --tool=callgrind \
		--callgrind-out-file="$B_DIR/callgrind.out" "$@" \
		>"$B_DIR/valgrind.log" 2>&1
}

h_corsd_start || exit 1
declare -A B_WORKERS=()
for c in "${CONFIGS[@]}"; do
	b_nginx_start "$c" || exit 1
	for _ in $(seq 1 100); do
		B_WORKERS[$c]=$(ps -o pid= --ppid "${B_PID[$c]}" | tr -s ' \n' ' ')
		[ "$(wc -w <<<"${B_WORKERS[$c]}")" -ge 2 ] && break
		sleep 0.05
	done
done

# ---- workloads --------------------------------------------------------------

# The request of workload W: sets W_METHOD and W_ORIGIN.
w_req() {
	case $1 in
	actual-allowed) W_METHOD=GET W_ORIGIN=$ALLOWED ;;
	actual-allowed-regex) W_METHOD=GET W_ORIGIN=$ALLOWED_RE ;;
	actual-denied) W_METHOD=GET W_ORIGIN=$DENIED ;;
	preflight-allowed) W_METHOD=OPTIONS W_ORIGIN=$ALLOWED ;;
	preflight-denied) W_METHOD=OPTIONS W_ORIGIN=$DENIED ;;
	esac
}

# Its wrk script.
for w in "${WORKLOADS[@]}"; do
	w_req "$w"
	{
		echo "wrk.method = \"$W_METHOD\""
		echo "wrk.headers[\"Origin\"] = \"$W_ORIGIN\""
		if [ "$W_METHOD" = OPTIONS ]; then
			echo 'wrk.headers["Access-Control-Request-Method"] = "PUT"'
			echo 'wrk.headers["Access-Control-Request-Headers"] = "x-custom-header"'
		fi
	} >"$T_TMP/$w.lua"
done

# What each configuration must answer: "STATUS ACAO" ("-": no ACAO).
expect() {
	local c=$1 w=$2 o
	case $w in
	actual-allowed | preflight-allowed) o=$ALLOWED ;;
	actual-allowed-regex) o=$ALLOWED_RE ;;
	*) o=- ;;
	esac
	case $c/$w in
	a/preflight-*) echo "405 -" ;; # the static module refuses OPTIONS
	a/*) echo "200 -" ;;
	b/preflight-*) echo "204 $o" ;;
	c/preflight-denied) echo "403 -" ;;
	c/preflight-*) echo "204 $o" ;;
	*) echo "200 $o" ;;
	esac
}

fail=0
for w in "${WORKLOADS[@]}"; do
	w_req "$w"
	args=(-X "$W_METHOD" -H "Origin: $W_ORIGIN")
	if [ "$W_METHOD" = OPTIONS ]; then
		args+=(-H 'Access-Control-Request-Method: PUT'
			-H 'Access-Control-Request-Headers: x-custom-header')
	fi
	for c in "${CONFIGS[@]}"; do
		: >"$T_TMP/check.h"
		curl -s -o /dev/null -D "$T_TMP/check.h" --max-time 5 "${args[@]}" \
			"http://127.0.0.1:${B_PORT[$c]}/ok.txt"
		st=$(awk 'NR == 1 { print $2 }' "$T_TMP/check.h")
		acao=$(awk 'tolower($1) == "access-control-allow-origin:" {
			sub(/\r$/, ""); print $2 }' "$T_TMP/check.h")
		got="$st ${acao:--}"
		want=$(expect "$c" "$w")
		if [ "$got" != "$want" ]; then
			echo "run.sh: ($c) $w answered '$got', expected '$want'" >&2
			fail=1
		fi
	done
done
[ "$fail" = 0 ] || exit 1

# ---- measuring ----------------------------------------------------------------

# b_wrk KEY WORKLOAD SECONDS OUT [CONNS]: one wrk run against nginx KEY,
# its output in OUT.
b_wrk() {
	local pid rc
	"$WRK" -t "$THREADS" -c "${5:-$CONNS}" -d "${3}s" --latency \
		-s "$T_TMP/$2.lua" "http://127.0.0.1:${B_PORT[$1]}/ok.txt" \
		>"$4" 2>&1 &
	pid=$!
	h_track "$pid"
	wait "$pid"
	rc=$?
	h_stop_pid "$pid"
	return $rc
}

# "rps p50_us p99_us non2xx errors" from a wrk output.
b_parse() {
	awk 'function us(v) {
		if (v ~ /us$/) return v + 0
		if (v ~ /ms$/) return v * 1000
		if (v ~ /s$/) return v * 1000000
		return v + 0
	}
	$1 == "50%" { p50 = us($2) }
	$1 == "99%" { p99 = us($2) }
	/^Requests\/sec:/ { rps = $2 }
	/Non-2xx or 3xx responses:/ { non = $NF }
	/Socket errors:/ { err = $4 + $6 + $8 + $10 }
	$2 == "requests" && $3 == "in" { n = $1 }
	END { printf "%s %s %s %d %d %d\n", rps, p50, p99, non, err, n }' "$1"
}

# CPU time (ns, user + system, from schedstat) of the PIDs given, summed
# over their threads.
b_cpu_ns() {
	local p t sum=0 ns
	for p in "$@"; do
		for t in /proc/"$p"/task/*/schedstat; do
			read -r ns _ <"$t" 2>/dev/null || continue
			sum=$((sum + ns))
		done
	done
	echo "$sum"
}

stats() {
	"$CORSCTL" stats --instance "$T_INSTANCE" 2>/dev/null
}

# ---- CALLGRIND=1: instructions per request ---------------------------------

# b_callgrind: the table of user-space Ir per request, then exit.
b_callgrind() {
	local c w key f n ir hir dumps=0 out=$T_TMP/cg.txt
	: >"$out"
	for c in "${CONFIGS[@]}"; do
		h_stop_pid "${B_PID[$c]}" # two workers fewer on the CPUs
		unset "B_PID[$c]"
		b_nginx_start "$c" cg || exit 1
		key=$c-cg
		dumps=0
		for w in "${WORKLOADS[@]}"; do
			f=$T_TMP/wrk/cg-$c-$w.txt
			b_wrk "$key" "$w" "$WARMUP" "$f" 4 || { cat "$f" >&2; exit 1; }
			callgrind_control -z "${B_PID[$key]}" >/dev/null 2>&1
			b_wrk "$key" "$w" "$CG_DURATION" "$f" 4 ||
				{ cat "$f" >&2; exit 1; }
			callgrind_control -d "${B_PID[$key]}" >/dev/null 2>&1
			dumps=$((dumps + 1))
			n=$(b_parse "$f" | awk '{ print $6 }')
			ir=$(awk '/^(summary|totals):/ { print $2; exit }' \
				"$T_TMP/$key/callgrind.out.$dumps")
			# the module's handler (PREACCESS), decision included
			hir=$(callgrind_annotate --inclusive=yes --threshold=100 \
				"$T_TMP/$key/callgrind.out.$dumps" 2>/dev/null |
				awk '/:ngx_http_corsd_handler / { gsub(",", "", $1); print $1; exit }')
			echo "$w $c $n $ir ${hir:-0}" >>"$out"
			echo "# callgrind: ($c) $w: $n requests, $ir Ir" >&2
		done
		h_stop_pid "${B_PID[$key]}"
		unset "B_PID[$key]"
	done

	echo "### e2e under callgrind: user-space instructions per request, no CORS (a), hand-written map (b), corsd module (c)"
	echo
	echo "- date: $(date -u '+%Y-%m-%d %H:%M:%S UTC'); $("$NGINX" -v 2>&1 | sed 's/^nginx version: //') as one process (master_process off) under $(valgrind --version); wrk -t1 -c4, ${WARMUP}s warm-up, then ${CG_DURATION}s between callgrind_control --zero and --dump"
	echo "- policy: $N_ORIGINS origins, $N_REGEX of them regexes; the same configurations as the wrk table otherwise"
	echo "- Ir/req = Ir of the dump / requests served (nginx, libc, the module; not the kernel); the module's handler column is inclusive (the decision, and for preflights also sending the 204/403)"
	echo
	echo "| workload | Ir/req (a) | Ir/req (b) | Ir/req (c) | (b)/(a) | (c)/(a) | (c)/(b) | (c)-(a) | of which the module's handler |"
	echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
	for w in "${WORKLOADS[@]}"; do
		awk -v w="$w" '$1 == w { r[$2] = $4 / $3; h[$2] = $5 / $3 }
			END { printf "| %s | %.0f | %.0f | %.0f | %.3f | %.3f | %.3f | %+.0f | %.0f |\n",
				w, r["a"], r["b"], r["c"], r["b"] / r["a"], r["c"] / r["a"],
				r["c"] / r["b"], r["c"] - r["a"], h["c"] }' "$out"
	done
	exit 0
}

[ -n "$CALLGRIND" ] && b_callgrind

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
STARTED=$(date -u '+%Y-%m-%d %H:%M:%S UTC')
RAW=$T_TMP/raw.txt
: >"$RAW"

if [ "$WARMUP" != 0 ]; then
	for w in "${WORKLOADS[@]}"; do
		for c in "${CONFIGS[@]}"; do
			b_wrk "$c" "$w" "$WARMUP" "$T_TMP/wrk/warmup-$c-$w.txt" ||
				{ echo "run.sh: wrk failed" >&2; cat "$T_TMP/wrk/warmup-$c-$w.txt" >&2; exit 1; }
		done
	done
fi
stats >"$T_TMP/stats-before.txt"

for ((r = 1; r <= ROUNDS; r++)); do
	k=$(((r - 1) % 3))
	order=("${CONFIGS[@]:k}" "${CONFIGS[@]:0:k}")
	for w in "${WORKLOADS[@]}"; do
		for c in "${order[@]}"; do
			f=$T_TMP/wrk/$r-$c-$w.txt
			# shellcheck disable=SC2086 # lists of pids
			cpu0=$(b_cpu_ns ${B_WORKERS[$c]}) cd0=$(b_cpu_ns "$T_CORSD_PID")
			b_wrk "$c" "$w" "$DURATION" "$f" ||
				{ echo "run.sh: wrk failed" >&2; cat "$f" >&2; exit 1; }
			# shellcheck disable=SC2086
			cpu1=$(b_cpu_ns ${B_WORKERS[$c]}) cd1=$(b_cpu_ns "$T_CORSD_PID")
			echo "$r $w $c $(b_parse "$f") $((cpu1 - cpu0)) $((cd1 - cd0))" >>"$RAW"
		done
	done
	echo "# round $r/$ROUNDS done" >&2
done
stats >"$T_TMP/stats-after.txt"
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- report -----------------------------------------------------------------

# Columns of $RAW: 1 round, 2 workload, 3 config, 4 req/s, 5 p50 us,
# 6 p99 us, 7 non-2xx, 8 socket errors, 9 requests, 10 CPU ns of the nginx
# workers, 11 CPU ns of corsd.

# median of the numbers on stdin
median() {
	sort -g | awk '{ v[NR] = $1 } END {
		if (NR == 0) { print "nan"; exit }
		if (NR % 2) print v[(NR + 1) / 2]
		else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# col WORKLOAD CONFIG EXPR: EXPR (an awk expression over the columns) of
# each round
col() {
	awk -v w="$1" -v c="$2" "\$2 == w && \$3 == c { print $3 }" "$RAW"
}

# pratio WORKLOAD X Y EXPR: EXPR of X / EXPR of Y, round by round:
# "median (min-max)"
pratio() {
	awk -v w="$1" -v x="$2" -v y="$3" "\$2 == w && \$3 == x { X[\$1] = $4 }
		\$2 == w && \$3 == y { Y[\$1] = $4 }
		END { for (r in X) if (Y[r] > 0) print X[r] / Y[r] }" "$RAW" |
		sort -g | awk '{ v[NR] = $1 } END {
		m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%.3f (%.2f-%.2f)", m, v[1], v[NR] }'
}

CPU='$10 / $9 / 1000'   # nginx workers' CPU us per request
CORSD_CPU="\$11 / 1000000 / $DURATION" # corsd's CPU, ms per second

stat_line() {
	grep -iE 'hits|misses' "$1" | tr -s ' ' | head -n 2 | paste -sd' '
}

echo "### e2e: wrk against nginx: no CORS (a), hand-written map (b), corsd module (c)"
echo
echo "- date: $STARTED; host: $(uname -n), $(nproc) CPUs ($(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)), $(uname -sr)"
echo "- load average (1/5/15 min) before: $LOAD_BEFORE; after: $LOAD_AFTER"
echo "- $("$NGINX" -v 2>&1 | sed 's/^nginx version: //'), worker_processes 2, keepalive (keepalive_requests 1000000), access_log off, error_log warn, content: static file ok.txt (3 bytes)"
echo "- $("$WRK" -v 2>&1 | head -n 1 | awk '{ print $1, $2 }') -t$THREADS -c$CONNS -d${DURATION}s --latency, sharing the $(nproc) CPUs with nginx (and corsd)"
echo "- policy: $N_ORIGINS origins, $N_REGEX of them regexes spread through the list (gen.sh), as a map for (b) and a corsd policy for (c); allowed = $ALLOWED (last exact entry), allowed-regex = $ALLOWED_RE (only the last regex matches), denied = $DENIED"
echo "- $ROUNDS rounds x ${#WORKLOADS[@]} workloads x 3 configurations, configuration order rotated each round (abc, bca, cab); warm-up ${WARMUP}s each, discarded; each value is the median over the rounds"
echo "- (c) is cache-hit traffic (each run repeats one request). corsd client counters: before the rounds: $(stat_line "$T_TMP/stats-before.txt"); after: $(stat_line "$T_TMP/stats-after.txt")"
echo "- CPU us/req: CPU time (user + system, /proc/PID/task/*/schedstat) of the two nginx workers during the run / requests; it leaves out the time spent waiting for a CPU, so other tenants move it less than req/s, but batching (requests per epoll wakeup) still does"
echo
echo "| workload | config | status | req/s | x (a) | p50 us | x (a) | p99 us | x (a) | nginx CPU us/req | x (a) |"
echo "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"
for w in "${WORKLOADS[@]}"; do
	ra=$(col "$w" a '$4' | median)
	pa50=$(col "$w" a '$5' | median)
	pa99=$(col "$w" a '$6' | median)
	ca=$(col "$w" a "$CPU" | median)
	for c in "${CONFIGS[@]}"; do
		rps=$(col "$w" "$c" '$4' | median)
		p50=$(col "$w" "$c" '$5' | median)
		p99=$(col "$w" "$c" '$6' | median)
		cpu=$(col "$w" "$c" "$CPU" | median)
		errs=$(col "$w" "$c" '$8' | awk '{ s += $1 } END { print s + 0 }')
		st=$(expect "$c" "$w" | cut -d' ' -f1)
		[ "$errs" != 0 ] && st="$st, $errs socket errors"
		awk -v w="$w" -v c="$c" -v st="$st" -v rps="$rps" -v ra="$ra" \
			-v p50="$p50" -v pa50="$pa50" -v p99="$p99" -v pa99="$pa99" \
			-v cpu="$cpu" -v ca="$ca" 'BEGIN {
			printf "| %s | %s | %s | %.0f | %.3f | %.0f | %.2f | %.0f | %.2f | %.2f | %.3f |\n",
				w, c, st, rps, rps / ra, p50, p50 / pa50, p99, p99 / pa99,
				cpu, cpu / ca }'
	done
done
echo
echo "Round by round (the same round's runs side by side), median (min-max) over the rounds:"
echo
echo "| workload | req/s (c)/(a) | req/s (c)/(b) | req/s (b)/(a) | CPU/req (c)/(a) | CPU/req (c)/(b) | corsd CPU ms/s, (c) runs / (a) runs |"
echo "|---|---:|---:|---:|---:|---:|---:|"
for w in "${WORKLOADS[@]}"; do
	echo "| $w | $(pratio "$w" c a '$4') | $(pratio "$w" c b '$4') | $(pratio "$w" b a '$4') | $(pratio "$w" c a "$CPU") | $(pratio "$w" c b "$CPU") | $(col "$w" c "$CORSD_CPU" | median | awk '{ printf "%.2f", $1 }') / $(col "$w" a "$CORSD_CPU" | median | awk '{ printf "%.2f", $1 }') |"
done
echo
echo "Raw (round workload config req/s p50_us p99_us non2xx errors requests nginx_cpu_ns corsd_cpu_ns):"
echo
sed 's/^/    /' "$RAW"
