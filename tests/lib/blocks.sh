# shellcheck shell=bash
# blocks.sh - tests as blocks of sections, in the spirit of Test::Nginx:
# a server configuration, a request, the status, headers and body
# expected, run against real processes.
#
# Layer: tests/lib, on harness.sh (source that first).  The server under
# test comes from a server library (nginx.sh now; Apache httpd next),
# named by BLOCK_SERVER (nginx), which offers:
#   h_<server>_ensure HTTP_CONFIG CONFIG    the server runs with this
#                           configuration on 127.0.0.1:$T_PORT (failures
#                           go to T_DIAG)
#   h_<server>_refuses HTTP_CONFIG CONFIG MESSAGE   it refuses it, saying so
#   h_<server>_error_log    the path of its error log
# T_PROTO=h2c sends every request over HTTP/2 (prior knowledge), and
# each response must be HTTP/2.
#
# A block, read from stdin by `block NAME` (one test: pass or fail NAME):
#
#   --- http_config       lines for the http{} level (optional)
#   --- config            lines for the server{} level; `proxy_pass
#                         http://app;` reaches the upstream
#   --- before            shell code run before the request
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
#   --- error_log         strings that must be in the server's error log
#   --- time_max_ms       the request takes at most this long
#   --- repeat            send the request N times; each must pass
#   --- retry_ms          retry for up to this long until it passes
#   --- check             shell code run after the request; fails the block
#                         when it fails
#   --- config_error      the server must refuse the configuration with
#                         this message (no request is sent)
#
# Also: h_request (send T_REQ to T_PORT and check it), h_header_lines NAME
# and h_header_value NAME (of the last response, $T_TMP/resp.headers).
# Globals: BLOCK_SERVER, T_PORT, T_PROTO, T_TMP, T_DIAG; the block being
# run in T_REQ, T_HEADERS, T_STATUS, T_BODY, T_HAVE_BODY, T_TIME_MAX.

BLOCK_SERVER=${BLOCK_SERVER:-nginx}
T_PROTO=${T_PROTO:-}

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
		T_DIAG+=("no response from $BLOCK_SERVER ($method $path)")
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
		"h_${BLOCK_SERVER}_refuses" "$http_config" "$config" \
			"$config_error" || rc=1
		result "$rc" "$name"
		return
	fi
	if [ "$rc" = 0 ] &&
		! "h_${BLOCK_SERVER}_ensure" "$http_config" "$config"; then
		rc=1
	fi
	if [ "$rc" = 0 ] && [ -n "$before" ] && ! eval "$before"; then
		T_DIAG+=("the 'before' code failed")
		rc=1
	fi
	if [ "$rc" = 0 ]; then
		deadline=$(($(h_now_ms) + retry_ms))
		for ((i = 0; i < repeat; i++)); do
			while :; do
				s=${#T_DIAG[@]}
				h_request && break
				if [ "$(h_now_ms)" -ge "$deadline" ]; then
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
			if ! grep -qF -- "$line" "$("h_${BLOCK_SERVER}_error_log")"; then
				T_DIAG+=("error log lacks '$line'")
				rc=1
			fi
		done
	fi
	if [ "$rc" = 0 ] && [ -n "$check" ] && ! eval "$check"; then
		T_DIAG+=("the check failed: ${check%$'\n'}")
		rc=1
	fi
	result "$rc" "$name"
}
