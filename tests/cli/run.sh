#!/usr/bin/env bash
# tests/cli/run.sh BUILD_DIR - corsctl check and decide, end to end.
#
# Layer: tests.  Runs BUILD_DIR/corsctl against policy files written to a
# temporary directory.  Every expectation is written by hand from
# DESIGN.md (sections 2-4) and README.md, never pasted from corsctl's
# output.  Response headers are a set (their order is no contract), so
# header lines are compared sorted.  Prints "ok N - name" or "not ok N -
# name" per assertion and ends with one "N passed, N failed" line; exit
# status 1 if any failed.  Needs bash, grep, sed, sort and diff only.
set -u

if [ $# -ne 1 ]; then
	echo "usage: tests/cli/run.sh BUILD_DIR" >&2
	exit 2
fi
build=$(cd "$1" 2>/dev/null && pwd) || {
	echo "tests/cli/run.sh: no build directory '$1'" >&2
	exit 2
}
corsctl=$build/corsctl
if [ ! -x "$corsctl" ]; then
	echo "tests/cli/run.sh: $corsctl is missing" >&2
	echo "0 passed, 1 failed"
	exit 1
fi

tmp=$(mktemp -d) || exit 2
corsd_pid=
cleanup() {
	if [ -n "$corsd_pid" ]; then
		kill "$corsd_pid" 2>/dev/null
		wait "$corsd_pid" 2>/dev/null
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

n=0
passed=0
failed=0
rc=0

pass() {
	n=$((n + 1))
	passed=$((passed + 1))
	echo "ok $n - $1"
}

# fail NAME [DETAIL-FILE]: the detail, if any, is shown as # lines.
fail() {
	n=$((n + 1))
	failed=$((failed + 1))
	echo "not ok $n - $1"
	if [ $# -gt 1 ] && [ -s "$2" ]; then
		sed 's/^/#   /' "$2"
	fi
}

# show: what the last run printed, for a failure's details.
show() {
	{
		echo "exit status $rc; stdout:"
		cat "$tmp/out"
		echo "stderr:"
		cat "$tmp/err"
	} >"$tmp/detail"
	echo "$tmp/detail"
}

# run ARGS...: corsctl ARGS with stdin from /dev/null.
run() {
	"$corsctl" "$@" <"$tmp/empty" >"$tmp/out" 2>"$tmp/err"
	rc=$?
}

# run_stdin FILE ARGS...: corsctl ARGS with stdin from FILE.
run_stdin() {
	local in=$1
	shift
	"$corsctl" "$@" <"$in" >"$tmp/out" 2>"$tmp/err"
	rc=$?
}

expect_rc() { # NAME WANT
	if [ "$rc" -eq "$2" ]; then pass "$1"; else fail "$1" "$(show)"; fi
}

# expect_out NAME: stdout is exactly the text on stdin.
expect_out() {
	cat >"$tmp/want"
	if diff -u "$tmp/want" "$tmp/out" >"$tmp/diff"; then
		pass "$1"
	else
		fail "$1" "$tmp/diff"
	fi
}

# expect_lines NAME: stdout holds exactly the lines on stdin, any order.
expect_lines() {
	sort >"$tmp/want"
	sort "$tmp/out" >"$tmp/got"
	if diff -u "$tmp/want" "$tmp/got" >"$tmp/diff"; then
		pass "$1"
	else
		fail "$1" "$tmp/diff"
	fi
}

expect_line() { # NAME LINE: stdout has this exact line
	if grep -qxF -- "$2" "$tmp/out"; then pass "$1"; else fail "$1" "$(show)"; fi
}

expect_no_re() { # NAME REGEX: no stdout line matches
	if grep -qE -- "$2" "$tmp/out"; then fail "$1" "$(show)"; else pass "$1"; fi
}

expect_out_re() { # NAME REGEX: some stdout line matches
	if grep -qE -- "$2" "$tmp/out"; then pass "$1"; else fail "$1" "$(show)"; fi
}

expect_err_re() { # NAME REGEX: some stderr line matches
	if grep -qE -- "$2" "$tmp/err"; then pass "$1"; else fail "$1" "$(show)"; fi
}

expect_err_empty() { # NAME
	if [ -s "$tmp/err" ]; then fail "$1" "$(show)"; else pass "$1"; fi
}

# line K of stdout into $tmp/line
out_line() {
	sed -n "${1}p" "$tmp/out" >"$tmp/line"
}

# The header pairs of the JSON answer in $tmp/line, one per line, sorted;
# and the answer with its header array replaced by [...].
json_headers() {
	sed -n 's/.*"headers":\[\(.*\)\],"max_age".*/\1/p' "$tmp/line" |
		sed 's/\],\[/]\n[/g' | sed '/^$/d' | sort
}
json_skeleton() {
	sed 's/"headers":\[.*\],"max_age"/"headers":[...],"max_age"/' \
		"$tmp/line"
}

# expect_json NAME: the answer in $tmp/line, compared as a skeleton (first
# line on stdin) and a set of header pairs (the other lines).
expect_json() {
	local name=$1
	cat >"$tmp/jwant"
	sed -n 1p "$tmp/jwant" >"$tmp/want"
	json_skeleton >"$tmp/got"
	if diff -u "$tmp/want" "$tmp/got" >"$tmp/diff"; then
		pass "$name: verdict, status, max_age, reason"
	else
		fail "$name: verdict, status, max_age, reason" "$tmp/diff"
	fi
	sed -n '2,$p' "$tmp/jwant" | sort >"$tmp/want"
	json_headers >"$tmp/got"
	if diff -u "$tmp/want" "$tmp/got" >"$tmp/diff"; then
		pass "$name: headers"
	else
		fail "$name: headers" "$tmp/diff"
	fi
}

: >"$tmp/empty"

VARY_PF='Vary: Origin, Access-Control-Request-Method, Access-Control-Request-Headers'
VARY_PF_JSON='["Vary","Origin, Access-Control-Request-Method, Access-Control-Request-Headers"]'
PATCH_REASON='Method PATCH is not allowed by Access-Control-Allow-Methods in preflight response.'

# ---- policy files --------------------------------------------------------

# MDN's Access-Control-Allow-Methods example.
cat >"$tmp/mdn.yaml" <<'EOF'
version: 1
policies:
  mdn:
    origins: [https://app.example.re]
    methods: [GET, POST, PUT, DELETE]
    max_age: 7200
EOF

# Two policies: the MDN one and MDN's Access-Control-Allow-Headers example.
cat >"$tmp/two.yaml" <<'EOF'
version: 1
policies:
  mdn:
    origins: [https://app.example.re]
    methods: [GET, POST, PUT, DELETE]
    max_age: 7200
  hdrs:
    origins: [https://foo.bar.org]
    methods: [POST, GET, OPTIONS, DELETE]
    allow_headers: [origin, x-requested-with]
EOF

# Two errors: a path in an origin (line 5, column 9) and an unknown key
# (line 6, column 5).
cat >"$tmp/bad.yaml" <<'EOF'
version: 1
policies:
  api:
    origins:
      - https://app.example.com/path
    methodz: [GET]
EOF

# Warnings only: the opaque origin listed (line 5, column 9) and max_age
# above Chromium's 7200 (line 7, column 14).
cat >"$tmp/warn.yaml" <<'EOF'
version: 1
policies:
  slow:
    origins:
      - "null"
      - https://app.example.com
    max_age: 86400
EOF

# ---- check ---------------------------------------------------------------

run check "$tmp/mdn.yaml"
expect_rc "check: a good file exits 0" 0
expect_out "check: a good file prints its summary line" <<EOF
$tmp/mdn.yaml: 1 policy, 0 errors, 0 warnings
EOF
expect_err_empty "check: a good file prints no diagnostics"

run check "$tmp/two.yaml"
expect_out "check: two policies are counted" <<EOF
$tmp/two.yaml: 2 policies, 0 errors, 0 warnings
EOF

run check "$tmp/bad.yaml"
expect_rc "check: a file with errors exits 1" 1
expect_err_re "check: the path in an origin is reported at 5:9 [origin-syntax]" \
	"^$tmp/bad.yaml:5:9: error: .*\[origin-syntax\]$"
expect_err_re "check: the unknown key is reported at 6:5 [unknown-key]" \
	"^$tmp/bad.yaml:6:5: error: .*methodz.*\[unknown-key\]$"
expect_out "check: a file with errors counts them" <<EOF
$tmp/bad.yaml: 2 errors, 0 warnings
EOF

run check "$tmp/warn.yaml"
expect_rc "check: warnings alone exit 0" 0
expect_err_re "check: the null origin warns at 5:9 [origin-null]" \
	"^$tmp/warn.yaml:5:9: warning: .*\[origin-null\]$"
expect_err_re "check: max_age 86400 warns at 7:14 [max-age-cap]" \
	"^$tmp/warn.yaml:7:14: warning: .*\[max-age-cap\]$"
expect_out "check: warnings are counted in the summary" <<EOF
$tmp/warn.yaml: 1 policy, 0 errors, 2 warnings
EOF

run check "$tmp/missing.yaml"
expect_rc "check: a file that does not exist exits 1" 1
expect_err_re "check: a file that does not exist is named" "missing\.yaml"

# ---- decide, one request -------------------------------------------------

run decide -c "$tmp/mdn.yaml" --origin https://app.example.re \
	--method OPTIONS --acrm PUT
expect_rc "decide: an allowed preflight exits 0" 0
expect_lines "decide: MDN's PUT preflight is answered as MDN shows" <<EOF
verdict: allow
status: 204
Access-Control-Allow-Origin: https://app.example.re
Access-Control-Allow-Methods: GET, POST, PUT, DELETE
Access-Control-Max-Age: 7200
$VARY_PF
max-age: 7200
reason: allowed
EOF
out_line 1
if grep -qxF "verdict: allow" "$tmp/line"; then
	pass "decide: the verdict is the first line"
else
	fail "decide: the verdict is the first line" "$(show)"
fi

run decide -c "$tmp/mdn.yaml" --origin https://app.example.re \
	--method OPTIONS --acrm PUT --json
expect_rc "decide --json: exits 0" 0
out_line 1
expect_json "decide --json: MDN's PUT preflight" <<EOF
{"verdict":"allow","status":204,"headers":[...],"max_age":7200,"reason":"allowed"}
["Access-Control-Allow-Origin","https://app.example.re"]
["Access-Control-Allow-Methods","GET, POST, PUT, DELETE"]
["Access-Control-Max-Age","7200"]
$VARY_PF_JSON
EOF
if [ "$(sed -n '$=' "$tmp/out")" = 1 ]; then
	pass "decide --json: one line of output"
else
	fail "decide --json: one line of output" "$(show)"
fi

run decide -c "$tmp/mdn.yaml" --origin https://app.example.re \
	--method OPTIONS --acrm PATCH
expect_rc "decide: a denied preflight still exits 0" 0
expect_line "decide: PATCH is denied" "verdict: deny"
expect_line "decide: a refused method is answered 405" "status: 405"
expect_line "decide: the reason is the browser console's" "reason: $PATCH_REASON"
expect_no_re "decide: a denied preflight has no Access-Control-* header" \
	'^Access-Control-'

run decide -c "$tmp/mdn.yaml" --origin https://app.example.re
expect_rc "decide: an actual request exits 0" 0
expect_lines "decide: an actual GET (the default method) gets ACAO and Vary" <<EOF
verdict: allow
status: -
Access-Control-Allow-Origin: https://app.example.re
Vary: Origin
max-age: 7200
reason: allowed
EOF

run decide -c "$tmp/mdn.yaml" --method OPTIONS
expect_line "decide: no --origin is not a CORS request" "verdict: not-cors"
expect_line "decide: a request without Origin still gets Vary: Origin" \
	"Vary: Origin"
expect_no_re "decide: a request without Origin gets no Access-Control-*" \
	'^Access-Control-'

run decide -c "$tmp/mdn.yaml" --origin "" --method GET
expect_line "decide: --origin \"\" is present but not an origin: pass" \
	"verdict: pass"
expect_no_re "decide: an empty Origin is never echoed" '^Access-Control-'

run decide -c "$tmp/mdn.yaml" --origin https://evil.example --method GET
expect_line "decide: an unlisted origin passes to the application" \
	"verdict: pass"
expect_line "decide: a pass has no status" "status: -"

run decide -c "$tmp/mdn.yaml" --origin https://app.example.re \
	--method OPTIONS --acrm PUT --acrpn
expect_line "decide: --acrpn to a policy without private_network is denied" \
	"verdict: deny"
expect_out_re "decide: the reason names the private network request" \
	'^reason: .*Private-Network'

run decide -c "$tmp/two.yaml" -p hdrs --origin https://foo.bar.org \
	--method OPTIONS --acrm DELETE --acrh origin --acrh x-requested-with
expect_line "decide: --acrh twice is one joined list, both names allowed" \
	"verdict: allow"
expect_line "decide: the configured header list is answered" \
	"Access-Control-Allow-Headers: origin, x-requested-with"

run decide -c "$tmp/two.yaml" -p hdrs --origin https://foo.bar.org \
	--method OPTIONS --acrm DELETE --acrh x-requested-with --acrh x-other
expect_line "decide: the second --acrh is checked too" "verdict: deny"
expect_line "decide: the refused header is named" \
	"reason: Request header field x-other is not allowed by Access-Control-Allow-Headers in preflight response."

run decide -c "$tmp/two.yaml" --origin https://app.example.re
expect_rc "decide: two policies and no -p is a usage error" 2
expect_err_re "decide: the usage error names both policies" 'mdn.*hdrs'

run decide -c "$tmp/two.yaml" --policy mdn --origin https://app.example.re
expect_line "decide: --policy picks one of two" \
	"Access-Control-Allow-Origin: https://app.example.re"

run decide -c "$tmp/mdn.yaml" -p nope --origin https://app.example.re
expect_rc "decide: an unknown policy is an answer, exit 0" 0
expect_line "decide: an unknown policy's verdict is no-policy" \
	"verdict: no-policy"
expect_out_re "decide: the reason names the unknown policy" "^reason: .*nope"

run decide -c "$tmp/bad.yaml" --origin https://app.example.com
expect_rc "decide: a policy file with errors exits 1" 1
expect_err_re "decide: its errors are printed" "^$tmp/bad.yaml:5:9: error: "

# ---- decide --batch ------------------------------------------------------

# Line 2 is blank and skipped; lines 4, 6, 7 and 8 are wrong.
cat >"$tmp/mixed.jsonl" <<'EOF'
{"origin":"https://app.example.re","method":"OPTIONS","acrm":"PUT"}

{"origin":"https://app.example.re","method":"OPTIONS","acrm":"PATCH"}
{"origin": "https://app.example.re",
{"origin":"https://app.example.re"}
{"orgin":"https://app.example.re"}
{"origin":"https://app.example.re","acrpn":"yes"}
["https://app.example.re"]
  {"origin":"https://evil.example","method":"GET","acrpn":false}  
EOF
run decide -c "$tmp/mdn.yaml" --batch "$tmp/mixed.jsonl"
expect_rc "batch: a line with an error makes the exit status 1" 1
if [ "$(sed -n '$=' "$tmp/out")" = 8 ]; then
	pass "batch: one answer per non-blank line, the blank one skipped"
else
	fail "batch: one answer per non-blank line, the blank one skipped" \
		"$(show)"
fi
out_line 1
expect_json "batch: line 1, the allowed PUT preflight" <<EOF
{"verdict":"allow","status":204,"headers":[...],"max_age":7200,"reason":"allowed"}
["Access-Control-Allow-Origin","https://app.example.re"]
["Access-Control-Allow-Methods","GET, POST, PUT, DELETE"]
["Access-Control-Max-Age","7200"]
$VARY_PF_JSON
EOF
out_line 2
expect_json "batch: line 3, the denied PATCH preflight" <<EOF
{"verdict":"deny","status":405,"headers":[...],"max_age":7200,"reason":"$PATCH_REASON"}
$VARY_PF_JSON
EOF
out_line 3
if grep -qE '^\{"error":"line 4, column 36: malformed JSON: [^"]*"\}$' "$tmp/line"; then
	pass "batch: the malformed line 4 gets an error answer"
else
	fail "batch: the malformed line 4 gets an error answer" "$(show)"
fi
out_line 4
expect_json "batch: line 5 after the malformed one is still answered" <<EOF
{"verdict":"allow","status":0,"headers":[...],"max_age":7200,"reason":"allowed"}
["Access-Control-Allow-Origin","https://app.example.re"]
["Vary","Origin"]
EOF
out_line 5
if grep -qE "^\{\"error\":\"line 6: unknown key 'orgin'" "$tmp/line"; then
	pass "batch: an unknown key is an error that names it"
else
	fail "batch: an unknown key is an error that names it" "$(show)"
fi
out_line 6
if grep -qE '^\{"error":"line 7: .*acrpn' "$tmp/line"; then
	pass "batch: acrpn must be a boolean"
else
	fail "batch: acrpn must be a boolean" "$(show)"
fi
out_line 7
if grep -qxF '{"error":"line 8: not a JSON object"}' "$tmp/line"; then
	pass "batch: an array is not a request"
else
	fail "batch: an array is not a request" "$(show)"
fi
out_line 8
if grep -qE '^\{"verdict":"pass","status":0,"headers":\[\["Vary","Origin"\]\],"max_age":7200,"reason":"[^"]*evil\.example' \
	"$tmp/line"; then
	pass "batch: spaces around a line and acrpn false are fine"
else
	fail "batch: spaces around a line and acrpn false are fine" "$(show)"
fi

cat >"$tmp/good.jsonl" <<'EOF'
{"policy":"hdrs","origin":"https://foo.bar.org","method":"OPTIONS","acrm":"DELETE","acrh":["origin","x-requested-with"]}
{"policy":"hdrs","origin":"https://foo.bar.org","method":"OPTIONS","acrm":"DELETE","acrh":"Origin , X-Requested-With"}
{"origin":"https://app.example.re","method":"OPTIONS","acrm":"PUT","acrh":null}
{"policy":"nope","origin":"https://app.example.re"}
{"method":"GET"}
EOF
run decide -c "$tmp/two.yaml" -p mdn --batch "$tmp/good.jsonl"
expect_rc "batch: good lines only exit 0" 0
out_line 1
if grep -qF '["Access-Control-Allow-Headers","origin, x-requested-with"]' \
	"$tmp/line" && grep -qF '"verdict":"allow"' "$tmp/line"; then
	pass "batch: acrh as an array is joined like header lines"
else
	fail "batch: acrh as an array is joined like header lines" "$(show)"
fi
out_line 2
if grep -qF '"verdict":"allow"' "$tmp/line"; then
	pass "batch: acrh names are case-insensitive, spaces optional"
else
	fail "batch: acrh names are case-insensitive, spaces optional" "$(show)"
fi
out_line 3
if grep -qF '"verdict":"allow","status":204' "$tmp/line"; then
	pass "batch: a line without policy uses -p"
else
	fail "batch: a line without policy uses -p" "$(show)"
fi
out_line 4
if grep -qE '^\{"verdict":"no-policy","status":0,"headers":\[\],"max_age":null,"reason":"[^"]*nope' \
	"$tmp/line"; then
	pass "batch: an unknown policy: no headers, max_age null, named"
else
	fail "batch: an unknown policy: no headers, max_age null, named" \
		"$(show)"
fi
out_line 5
if grep -qE '^\{"verdict":"not-cors","status":0,' "$tmp/line"; then
	pass "batch: a line without origin is not a CORS request"
else
	fail "batch: a line without origin is not a CORS request" "$(show)"
fi

run decide -c "$tmp/two.yaml" --batch "$tmp/good.jsonl"
expect_rc "batch: a line naming no policy, two policies, no -p: exit 1" 1
out_line 3
if grep -qE '^\{"error":"line 3: .*mdn, hdrs' "$tmp/line"; then
	pass "batch: that line's error names the policies"
else
	fail "batch: that line's error names the policies" "$(show)"
fi
out_line 4
if grep -qF '"verdict":"no-policy"' "$tmp/line"; then
	pass "batch: the lines after it are answered"
else
	fail "batch: the lines after it are answered" "$(show)"
fi

printf '%s\n' '{"origin":"https://app.example.re"}' \
	'{"origin":"https://app.example.re","method":"OPTIONS","acrm":"PUT"}' \
	>"$tmp/stdin.jsonl"
run_stdin "$tmp/stdin.jsonl" decide -c "$tmp/mdn.yaml" --batch -
expect_rc "batch: --batch - reads standard input" 0
if [ "$(sed -n '$=' "$tmp/out")" = 2 ] &&
	sed -n 2p "$tmp/out" | grep -qF '"status":204'; then
	pass "batch: standard input answered line by line"
else
	fail "batch: standard input answered line by line" "$(show)"
fi

# 16 MiB is the longest line: one of exactly 16777216 bytes is read, one
# of 16777217 is answered with an error, and the line after it still
# counts.
base='{"origin":"https://app.example.re"}'
{
	printf '%s%*s\n' "$base" $((16777216 - ${#base})) ''
	printf '%s%*s\n' "$base" $((16777217 - ${#base})) ''
	printf '%s\n' "$base"
} >"$tmp/long.jsonl"
run decide -c "$tmp/mdn.yaml" --batch "$tmp/long.jsonl"
expect_rc "batch: a line over 16 MiB makes the exit status 1" 1
out_line 1
if grep -qF '"verdict":"allow"' "$tmp/line"; then
	pass "batch: a line of exactly 16777216 bytes is read"
else
	fail "batch: a line of exactly 16777216 bytes is read" "$(show)"
fi
out_line 2
if grep -qF '{"error":"line 2: longer than 16777216 bytes' "$tmp/line"; then
	pass "batch: a line of 16777217 bytes is an error"
else
	fail "batch: a line of 16777217 bytes is an error" "$(show)"
fi
out_line 3
if grep -qF '"verdict":"allow"' "$tmp/line"; then
	pass "batch: the line after a long one is answered"
else
	fail "batch: the line after a long one is answered" "$(show)"
fi

# JSON output escapes what a line held: a control byte and a quote in an
# unknown key, and a long key cut before a UTF-8 sequence that would not
# fit in the 64 bytes quoted (63 'a', then 'é').
a63=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
printf '%s\n' '{"k\u0001\"x":"v"}' "{\"${a63}é\":\"v\"}" >"$tmp/esc.jsonl"
run decide -c "$tmp/mdn.yaml" --batch "$tmp/esc.jsonl"
out_line 1
if grep -qF "\"line 1: unknown key 'k\\u0001\\\"x'" "$tmp/line"; then
	pass "batch: control bytes and quotes are escaped in the output"
else
	fail "batch: control bytes and quotes are escaped in the output" \
		"$(show)"
fi
out_line 2
if grep -qF "'${a63}...'" "$tmp/line"; then
	pass "batch: a long key is cut whole characters short"
else
	fail "batch: a long key is cut whole characters short" "$(show)"
fi

# ---- usage ---------------------------------------------------------------

run
expect_rc "usage: no command exits 2" 2

run frobnicate
expect_rc "usage: an unknown command exits 2" 2
expect_err_re "usage: the unknown command is named" "unknown command 'frobnicate'"
expect_err_re "usage: the usage follows the message" '^usage: corsctl'

run help
expect_rc "usage: help exits 0" 0
expect_out_re "usage: help prints the usage" '^usage: corsctl'
for c in check decide query reload stats; do
	expect_out_re "usage: help lists $c" "^  $c "
done

run -h
expect_rc "usage: -h exits 0" 0

run decide -c "$tmp/mdn.yaml" --origin https://app.example.re --bogus
expect_rc "usage: an unknown option exits 2" 2
expect_err_re "usage: the unknown option is named" "unknown option '--bogus'"

run decide --origin https://app.example.re
expect_rc "usage: decide without -c exits 2" 2

run decide -c "$tmp/mdn.yaml" --origin
expect_rc "usage: an option without its value exits 2" 2

run decide -c "$tmp/mdn.yaml" --acrpn=yes
expect_rc "usage: a flag given a value exits 2" 2

run decide -c "$tmp/mdn.yaml" --batch "$tmp/good.jsonl" --origin x
expect_rc "usage: --batch with a request flag exits 2" 2

run decide -c "$tmp/mdn.yaml" --method GET --method PUT
expect_rc "usage: an option given twice exits 2" 2

run decide -c "$tmp/mdn.yaml" stray
expect_rc "usage: a stray argument exits 2" 2

run check
expect_rc "usage: check without a file exits 2" 2

run check "$tmp/mdn.yaml" "$tmp/two.yaml"
expect_rc "usage: check with two files exits 2" 2

# ---- query, reload, stats against a real corsd -------------------------
# The MDN policy again, served by corsd; answers must be what decide gives
# in-process (DESIGN.md section 4: query answers exactly as a worker would).
export CORSD_RUNDIR="$tmp/run"
instance="cli$$"
mkdir -p "$CORSD_RUNDIR"
cp "$tmp/mdn.yaml" "$tmp/served.yaml"
"$build/corsd" -c "$tmp/served.yaml" --instance "$instance" --foreground \
	2>"$tmp/corsd.log" &
corsd_pid=$!
for _ in $(seq 100); do
	[ -S "$CORSD_RUNDIR/$instance.sock" ] && break
	sleep 0.05
done

run query --instance "$instance" -p mdn --origin https://app.example.re \
	--method OPTIONS --acrm PUT
expect_rc "query: an allowed preflight exits 0" 0
expect_lines "query: the MDN PUT preflight, through corsd" <<'OUT'
verdict: allow
status: 204
Access-Control-Allow-Origin: https://app.example.re
Access-Control-Allow-Methods: GET, POST, PUT, DELETE
Access-Control-Max-Age: 7200
Vary: Origin, Access-Control-Request-Method, Access-Control-Request-Headers
max-age: 7200
reason: allowed
OUT

run query --instance "$instance" -p mdn --origin https://app.example.re \
	--method OPTIONS --acrm PATCH --json
expect_out_re "query --json: the refusal names the method" \
	'"reason":"Method PATCH is not allowed by Access-Control-Allow-Methods in preflight response."'

printf '%s\n' '{"policy":"mdn","origin":"https://app.example.re"}' \
	'{"policy":"mdn","origin":"https://evil.example"}' >"$tmp/q.jsonl"
run query --instance "$instance" --batch "$tmp/q.jsonl"
expect_rc "query --batch: exits 0" 0
if [ "$(grep -c '"verdict":"allow"' "$tmp/out")" = 1 ] &&
	[ "$(grep -c '"verdict":"pass"' "$tmp/out")" = 1 ]; then
	pass "query --batch: one allowed, one passed, in order"
else
	fail "query --batch: one allowed, one passed, in order" "$(show)"
fi

run query --instance "$instance" --origin https://app.example.re
expect_rc "usage: query without -p exits 2" 2

run query --instance "nope$$" -p mdn --origin https://app.example.re \
	--timeout 100
expect_rc "query: no corsd for the instance exits 1" 1
expect_line "query: no corsd answers unavailable" "verdict: unavailable"
expect_err_re "query: no corsd is explained" "did not answer within 100 ms"

run stats --instance "$instance" --json
expect_rc "stats --json: exits 0" 0
expect_out_re "stats --json: counts the queries" '"requests":[1-9]'

run stats --instance "$instance"
expect_line "stats: readable lines" "reload_failures: 0"

sed 's/PUT, DELETE/PUT, DELETE, PATCH/' "$tmp/mdn.yaml" >"$tmp/served.yaml"
run reload --instance "$instance"
expect_rc "reload: a good file exits 0" 0
expect_line "reload: the generation moves on" "generation: 2"
run query --instance "$instance" -p mdn --origin https://app.example.re \
	--method OPTIONS --acrm PATCH
expect_line "reload: the new policy answers at once" "verdict: allow"

printf 'version: 1\npolicies:\n  mdn:\n    origins: [https://a.example/x]\n' \
	>"$tmp/served.yaml"
run reload --instance "$instance"
expect_rc "reload: a broken file exits 1" 1
expect_err_re "reload: the refusal is explained" "reload was refused"
run query --instance "$instance" -p mdn --origin https://app.example.re \
	--method OPTIONS --acrm PATCH
expect_line "reload: the running policy stays after a broken file" \
	"verdict: allow"
run stats --instance "$instance"
expect_line "stats: the failed reload is counted" "reload_failures: 1"
expect_out_re "stats: the last reload error is shown" \
	'^last_reload_error: [^"].*has a path'

run reload --instance "nope$$"
expect_rc "reload: no corsd exits 1" 1
expect_err_re "reload: no corsd is explained" "is not running"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
