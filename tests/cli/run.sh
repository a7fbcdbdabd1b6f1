#!/usr/bin/env bash
# tests/cli/run.sh BUILD_DIR - corsctl check, decide, query, reload and
# stats, end to end.
#
# Layer: tests.  Runs BUILD_DIR/corsctl against policy files written to a
# temporary directory (and BUILD_DIR/corsd, for query, reload and stats).
# Every expectation is written by hand from DESIGN.md (sections 2-4) and
# README.md, never pasted from corsctl's output.  Response headers are a
# set (their order is no contract), so header lines are compared sorted.
# Cases are tables: after each command, one row per assertion (see
# checks() below), run by one loop.  Prints "ok N - name" or "not ok N -
# name" per assertion and ends with one "N passed, N failed" line; exit
# status 1 if any failed.  Needs bash, grep, sed, sort, diff and perl
# (perl-base, for a stand-in control socket) only.
set -u

# pass, fail, summary, h_setup, h_track: the shared shell harness.
# shellcheck source=tests/lib/harness.sh
. "$(dirname "$0")/../lib/harness.sh"

# ---- setup ----------------------------------------------------------------

build=$(h_build_dir tests/cli/run.sh "$@") || exit 2
corsctl=$build/corsctl
if [ ! -x "$corsctl" ]; then
	echo "tests/cli/run.sh: $corsctl is missing" >&2
	echo "0 passed, 1 failed"
	exit 1
fi

h_setup cli
tmp=$T_TMP

rc=0

# ---- running corsctl and checking what it did ------------------------------

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

# check WHERE HOW NAME WANT: one assertion about the last run.
#   WHERE  rc (exit status), lines (how many stdout lines), out (stdout),
#          err (stderr) or a number K (line K of stdout)
#   HOW    =      rc or lines equals WANT
#          is     some line is exactly WANT
#          has    some line holds the text WANT
#          re     some line matches the extended regex WANT
#          no-re  no line matches WANT
#          empty  nothing at all (WANT is left empty)
check() {
	local where=$1 how=$2 name=$3 want=$4 file ok=false

	case $where in
	rc) file= ;;
	lines) file= ;;
	out) file=$tmp/out ;;
	err) file=$tmp/err ;;
	*)
		sed -n "${where}p" "$tmp/out" >"$tmp/line"
		file=$tmp/line
		;;
	esac
	case $where/$how in
	rc/=) [ "$rc" -eq "$want" ] && ok=true ;;
	lines/=) [ "$(sed -n '$=' "$tmp/out")" = "$want" ] && ok=true ;;
	*/is) grep -qxF -- "$want" "$file" && ok=true ;;
	*/has) grep -qF -- "$want" "$file" && ok=true ;;
	*/re) grep -qE -- "$want" "$file" && ok=true ;;
	*/no-re) grep -qE -- "$want" "$file" || ok=true ;;
	*/empty) [ -s "$file" ] || ok=true ;;
	*)
		fail "$name (the table says '$where $how': no such check)"
		return
		;;
	esac
	if $ok; then pass "$name"; else fail "$name" "$(show)"; fi
}

# checks: the table on stdin, one assertion per row, about the last run:
#   WHERE | HOW | NAME | WANT
# Blanks around the first three fields are dropped; WANT is the rest of
# the row, "|" included, with the blanks after the separator dropped.
# Rows starting with # and blank rows are skipped.
checks() {
	local where how name want
	while IFS='|' read -r where how name want; do
		where=${where//[[:space:]]/}
		[ -z "$where" ] || [ "${where:0:1}" = "#" ] && continue
		how=${how//[[:space:]]/}
		name=${name#"${name%%[![:space:]]*}"}
		name=${name%"${name##*[![:space:]]}"}
		want=${want#"${want%%[![:space:]]*}"}
		check "$where" "$how" "$name" "$want"
	done
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

# expect_json NAME K: answer line K of stdout, compared as a skeleton
# (first line on stdin) and a set of header pairs (the other lines).
expect_json() {
	local name=$1
	sed -n "${2}p" "$tmp/out" >"$tmp/line"
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
checks <<EOF
rc  | =     | check: a good file exits 0 | 0
err | empty | check: a good file prints no diagnostics |
EOF
expect_out "check: a good file prints its summary line" <<EOF
$tmp/mdn.yaml: 1 policy, 0 errors, 0 warnings
EOF

run check "$tmp/two.yaml"
expect_out "check: two policies are counted" <<EOF
$tmp/two.yaml: 2 policies, 0 errors, 0 warnings
EOF

run check "$tmp/bad.yaml"
checks <<EOF
rc  | =  | check: a file with errors exits 1 | 1
err | re | check: the path in an origin is reported at 5:9 [origin-syntax] | ^$tmp/bad.yaml:5:9: error: .*\[origin-syntax\]\$
err | re | check: the unknown key is reported at 6:5 [unknown-key] | ^$tmp/bad.yaml:6:5: error: .*methodz.*\[unknown-key\]\$
EOF
expect_out "check: a file with errors counts them" <<EOF
$tmp/bad.yaml: 2 errors, 0 warnings
EOF

run check "$tmp/warn.yaml"
checks <<EOF
rc  | =  | check: warnings alone exit 0 | 0
err | re | check: the null origin warns at 5:9 [origin-null] | ^$tmp/warn.yaml:5:9: warning: .*\[origin-null\]\$
err | re | check: max_age 86400 warns at 7:14 [max-age-cap] | ^$tmp/warn.yaml:7:14: warning: .*\[max-age-cap\]\$
EOF
expect_out "check: warnings are counted in the summary" <<EOF
$tmp/warn.yaml: 1 policy, 0 errors, 2 warnings
EOF

run check "$tmp/missing.yaml"
checks <<'EOF'
rc  | =  | check: a file that does not exist exits 1 | 1
err | re | check: a file that does not exist is named | missing\.yaml
EOF

# ---- decide, one request -------------------------------------------------

run decide -c "$tmp/mdn.yaml" --origin https://app.example.re \
	--method OPTIONS --acrm PUT
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
checks <<'EOF'
rc | =  | decide: an allowed preflight exits 0 | 0
1  | is | decide: the verdict is the first line | verdict: allow
EOF

run decide -c "$tmp/mdn.yaml" --origin https://app.example.re \
	--method OPTIONS --acrm PUT --json
checks <<'EOF'
rc    | = | decide --json: exits 0 | 0
lines | = | decide --json: one line of output | 1
EOF
expect_json "decide --json: MDN's PUT preflight" 1 <<EOF
{"verdict":"allow","status":204,"headers":[...],"max_age":7200,"reason":"allowed"}
["Access-Control-Allow-Origin","https://app.example.re"]
["Access-Control-Allow-Methods","GET, POST, PUT, DELETE"]
["Access-Control-Max-Age","7200"]
$VARY_PF_JSON
EOF

run decide -c "$tmp/mdn.yaml" --origin https://app.example.re \
	--method OPTIONS --acrm PATCH
checks <<EOF
rc  | =     | decide: a denied preflight still exits 0 | 0
out | is    | decide: PATCH is denied | verdict: deny
out | is    | decide: a refused method is answered 405 | status: 405
out | is    | decide: the reason is the browser console's | reason: $PATCH_REASON
out | no-re | decide: a denied preflight has no Access-Control-* header | ^Access-Control-
EOF

run decide -c "$tmp/mdn.yaml" --origin https://app.example.re
checks <<'EOF'
rc | = | decide: an actual request exits 0 | 0
EOF
expect_lines "decide: an actual GET (the default method) gets ACAO and Vary" <<EOF
verdict: allow
status: -
Access-Control-Allow-Origin: https://app.example.re
Vary: Origin
max-age: 7200
reason: allowed
EOF

run decide -c "$tmp/mdn.yaml" --method OPTIONS
checks <<'EOF'
out | is    | decide: no --origin is not a CORS request | verdict: not-cors
out | is    | decide: a request without Origin still gets Vary: Origin | Vary: Origin
out | no-re | decide: a request without Origin gets no Access-Control-* | ^Access-Control-
EOF

run decide -c "$tmp/mdn.yaml" --origin "" --method GET
checks <<'EOF'
out | is    | decide: --origin "" is present but not an origin: pass | verdict: pass
out | no-re | decide: an empty Origin is never echoed | ^Access-Control-
EOF

run decide -c "$tmp/mdn.yaml" --origin https://evil.example --method GET
checks <<'EOF'
out | is | decide: an unlisted origin passes to the application | verdict: pass
out | is | decide: a pass has no status | status: -
EOF

run decide -c "$tmp/mdn.yaml" --origin https://app.example.re \
	--method OPTIONS --acrm PUT --acrpn
checks <<'EOF'
out | is | decide: --acrpn to a policy without private_network is denied | verdict: deny
out | re | decide: the reason names the private network request | ^reason: .*Private-Network
EOF

run decide -c "$tmp/two.yaml" -p hdrs --origin https://foo.bar.org \
	--method OPTIONS --acrm DELETE --acrh origin --acrh x-requested-with
checks <<'EOF'
out | is | decide: --acrh twice is one joined list, both names allowed | verdict: allow
out | is | decide: the configured header list is answered | Access-Control-Allow-Headers: origin, x-requested-with
EOF

run decide -c "$tmp/two.yaml" -p hdrs --origin https://foo.bar.org \
	--method OPTIONS --acrm DELETE --acrh x-requested-with --acrh x-other
checks <<'EOF'
out | is | decide: the second --acrh is checked too | verdict: deny
out | is | decide: the refused header is named | reason: Request header field x-other is not allowed by Access-Control-Allow-Headers in preflight response.
EOF

run decide -c "$tmp/two.yaml" --origin https://app.example.re
checks <<'EOF'
rc  | =  | decide: two policies and no -p is a usage error | 2
err | re | decide: the usage error names both policies | mdn.*hdrs
EOF

run decide -c "$tmp/two.yaml" --policy mdn --origin https://app.example.re
checks <<'EOF'
out | is | decide: --policy picks one of two | Access-Control-Allow-Origin: https://app.example.re
EOF

run decide -c "$tmp/mdn.yaml" -p nope --origin https://app.example.re
checks <<'EOF'
rc  | =  | decide: an unknown policy is an answer, exit 0 | 0
out | is | decide: an unknown policy's verdict is no-policy | verdict: no-policy
out | re | decide: the reason names the unknown policy | ^reason: .*nope
EOF

run decide -c "$tmp/bad.yaml" --origin https://app.example.com
checks <<EOF
rc  | =  | decide: a policy file with errors exits 1 | 1
err | re | decide: its errors are printed | ^$tmp/bad.yaml:5:9: error: 
EOF

# ---- decide --batch ------------------------------------------------------

# Line 2 is blank and skipped; lines 4, 6, 7 and 8 are wrong.  Line 4 ends
# after the comma at column 36, where a key or '}' had to follow.
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
checks <<'EOF'
rc    | =  | batch: a line with an error makes the exit status 1 | 1
lines | =  | batch: one answer per non-blank line, the blank one skipped | 8
3     | re | batch: the malformed line 4 gets an error naming line and column | ^\{"error":"line 4, column 36: malformed JSON: [^"]*"\}$
5     | re | batch: an unknown key is an error that names it | ^\{"error":"line 6: unknown key 'orgin'
6     | re | batch: acrpn must be a boolean | ^\{"error":"line 7: .*acrpn
7     | is | batch: an array is not a request | {"error":"line 8: not a JSON object"}
8     | re | batch: spaces around a line and acrpn false are fine | ^\{"verdict":"pass","status":0,"headers":\[\["Vary","Origin"\]\],"max_age":7200,"reason":"[^"]*evil\.example
EOF
expect_json "batch: line 1, the allowed PUT preflight" 1 <<EOF
{"verdict":"allow","status":204,"headers":[...],"max_age":7200,"reason":"allowed"}
["Access-Control-Allow-Origin","https://app.example.re"]
["Access-Control-Allow-Methods","GET, POST, PUT, DELETE"]
["Access-Control-Max-Age","7200"]
$VARY_PF_JSON
EOF
expect_json "batch: line 3, the denied PATCH preflight" 2 <<EOF
{"verdict":"deny","status":405,"headers":[...],"max_age":7200,"reason":"$PATCH_REASON"}
$VARY_PF_JSON
EOF
expect_json "batch: line 5 after the malformed one is still answered" 4 <<EOF
{"verdict":"allow","status":0,"headers":[...],"max_age":7200,"reason":"allowed"}
["Access-Control-Allow-Origin","https://app.example.re"]
["Vary","Origin"]
EOF

cat >"$tmp/good.jsonl" <<'EOF'
{"policy":"hdrs","origin":"https://foo.bar.org","method":"OPTIONS","acrm":"DELETE","acrh":["origin","x-requested-with"]}
{"policy":"hdrs","origin":"https://foo.bar.org","method":"OPTIONS","acrm":"DELETE","acrh":"Origin , X-Requested-With"}
{"origin":"https://app.example.re","method":"OPTIONS","acrm":"PUT","acrh":null}
{"policy":"nope","origin":"https://app.example.re"}
{"method":"GET"}
EOF
run decide -c "$tmp/two.yaml" -p mdn --batch "$tmp/good.jsonl"
checks <<'EOF'
rc | =   | batch: good lines only exit 0 | 0
1  | re  | batch: acrh as an array is joined like header lines | ^\{"verdict":"allow",.*\["Access-Control-Allow-Headers","origin, x-requested-with"\]
2  | has | batch: acrh names are case-insensitive, spaces optional | "verdict":"allow"
3  | has | batch: a line without policy uses -p | "verdict":"allow","status":204
4  | re  | batch: an unknown policy: no headers, max_age null, named | ^\{"verdict":"no-policy","status":0,"headers":\[\],"max_age":null,"reason":"[^"]*nope
5  | re  | batch: a line without origin is not a CORS request | ^\{"verdict":"not-cors","status":0,
EOF

run decide -c "$tmp/two.yaml" --batch "$tmp/good.jsonl"
checks <<'EOF'
rc | =   | batch: a line naming no policy, two policies, no -p: exit 1 | 1
3  | re  | batch: that line's error names the policies | ^\{"error":"line 3: .*mdn, hdrs
4  | has | batch: the lines after it are answered | "verdict":"no-policy"
EOF

printf '%s\n' '{"origin":"https://app.example.re"}' \
	'{"origin":"https://app.example.re","method":"OPTIONS","acrm":"PUT"}' \
	>"$tmp/stdin.jsonl"
run_stdin "$tmp/stdin.jsonl" decide -c "$tmp/mdn.yaml" --batch -
checks <<'EOF'
rc    | =   | batch: --batch - reads standard input | 0
lines | =   | batch: standard input answered line by line | 2
2     | has | batch: standard input answered in order | "status":204
EOF

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
rm -f "$tmp/long.jsonl"
checks <<'EOF'
rc | =   | batch: a line over 16 MiB makes the exit status 1 | 1
1  | has | batch: a line of exactly 16777216 bytes is read | "verdict":"allow"
2  | re  | batch: a line of 16777217 bytes is an error | ^\{"error":"line 2: longer than 16777216 bytes
3  | has | batch: the line after a long one is answered | "verdict":"allow"
EOF

# An ACRH of 10 000 names (about 70 KiB, which the old 64 KiB bound
# refused) is read and answered: denied as longer than 4096 bytes, as a
# string and as an array.  65 names, each one allowed (the hdrs policy
# lists origin), are denied as too many.
names=$(seq -f 'x-h%g' 10000 | paste -sd, -)
many=$(printf '"origin",%.0s' $(seq 65))
{
	printf '{"origin":"https://app.example.re","method":"OPTIONS","acrm":"PUT","acrh":"%s"}\n' "$names"
	printf '{"origin":"https://app.example.re","method":"OPTIONS","acrm":"PUT","acrh":["%s"]}\n' "${names//,/\",\"}"
	printf '{"policy":"hdrs","origin":"https://foo.bar.org","method":"OPTIONS","acrm":"DELETE","acrh":[%s]}\n' "${many%,}"
} >"$tmp/acrh.jsonl"
run decide -c "$tmp/two.yaml" -p mdn --batch "$tmp/acrh.jsonl"
checks <<'EOF'
rc | =  | batch: long ACRH lines are answered, exit 0 | 0
1  | re | batch: an ACRH of 10000 names is read and denied as too long | ^\{"verdict":"deny","status":403,.*"reason":"Access-Control-Request-Headers is longer than 4096 bytes"\}$
2  | re | batch: an ACRH array of 10000 names is read and denied as too long | ^\{"verdict":"deny","status":403,.*"reason":"Access-Control-Request-Headers is longer than 4096 bytes"\}$
3  | re | batch: an ACRH array of 65 names is denied as too many | ^\{"verdict":"deny","status":403,.*"reason":"Access-Control-Request-Headers names more than 64 headers"\}$
EOF

# Strict JSON (RFC 8259): \x41 (which YAML decodes to 'A') is no JSON
# escape: refused at its 'x', column 13 of line 2; a key given twice is
# refused where the second one ends (column 43 of line 3); a single-quoted
# string, a trailing comma and a comment are refused too.
cat >"$tmp/strict.jsonl" <<'EOF'
{"origin":"https://app.example.re"}
{"origin":"\x41"}
{"origin":"https://app.example.re","origin":"https://evil.example"}
{'origin':"https://app.example.re"}
{"origin":"https://app.example.re",}
{"origin":"https://app.example.re"} # comment
EOF
run decide -c "$tmp/mdn.yaml" --batch "$tmp/strict.jsonl"
checks <<'EOF'
rc    | =   | strict: non-JSON lines make the exit status 1 | 1
lines | =   | strict: every line is answered | 6
1     | has | strict: a JSON line is answered | "verdict":"allow"
2     | re  | strict: \x41 is refused, naming line 2 and column 13 | ^\{"error":"line 2, column 13: malformed JSON: [^"]*escape
3     | re  | strict: a duplicate key is refused, naming line 3 and column 43 | ^\{"error":"line 3, column 43: malformed JSON: duplicate object key
4     | re  | strict: a single-quoted key is refused | ^\{"error":"line 4, column [0-9]+: malformed JSON: 
5     | re  | strict: a trailing comma is refused | ^\{"error":"line 5, column [0-9]+: malformed JSON: 
6     | re  | strict: a comment after the object is refused | ^\{"error":"line 6, column [0-9]+: malformed JSON: 
EOF

# Absent and empty are two things: no "origin" (or null) is no Origin
# header, not a CORS request; "" is a header present but empty, which is
# no origin (DESIGN.md section 3).
cat >"$tmp/empty.jsonl" <<'EOF'
{"method":"GET"}
{"origin":null}
{"origin":""}
{"origin":"https://app.example.re","method":"OPTIONS","acrm":"PUT","acrh":[""]}
EOF
run decide -c "$tmp/mdn.yaml" --batch "$tmp/empty.jsonl"
checks <<'EOF'
rc | =   | empty: exit 0 | 0
1  | has | empty: an absent origin is not a CORS request | "verdict":"not-cors"
2  | has | empty: a null origin is absent too | "verdict":"not-cors"
3  | re  | empty: an empty origin is present, and not an origin | ^\{"verdict":"pass",.*"reason":"The 'Origin' request header is not a serialized origin"\}$
4  | has | empty: an ACRH of one empty element asks for no header | "verdict":"allow","status":204
EOF

# \u0000 is a byte of the value, handed to decide() by length: an Origin
# that holds one is not a serialised origin (never cut to one that is),
# and an ACRH name that holds one is malformed.
cat >"$tmp/nul.jsonl" <<'EOF'
{"origin":"https://app.example.re\u0000"}
{"origin":"https://app.example.re","method":"OPTIONS","acrm":"PUT","acrh":"x\u0000y"}
EOF
run decide -c "$tmp/mdn.yaml" --batch "$tmp/nul.jsonl"
checks <<'EOF'
rc | =  | nul: lines with \u0000 are read, exit 0 | 0
1  | re | nul: an Origin with \u0000 is not an origin: pass, nothing echoed | ^\{"verdict":"pass","status":0,"headers":\[\["Vary","Origin"\]\],.*"reason":"The 'Origin' request header is not a serialized origin"\}$
2  | re | nul: an ACRH with \u0000 is malformed: denied | ^\{"verdict":"deny",.*"reason":"Access-Control-Request-Headers is not a list of header names"\}$
EOF

# JSON output escapes what a line held: a control byte and a quote in an
# unknown key, and a long key cut before a UTF-8 sequence that would not
# fit in the 64 bytes quoted (63 'a', then 'é').
a63=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
printf '%s\n' '{"k\u0001\"x":"v"}' "{\"${a63}é\":\"v\"}" >"$tmp/esc.jsonl"
run decide -c "$tmp/mdn.yaml" --batch "$tmp/esc.jsonl"
checks <<EOF
1 | has | batch: control bytes and quotes are escaped in the output | "line 1: unknown key 'k\\u0001\\"x'
2 | has | batch: a long key is cut whole characters short | '${a63}...'
EOF

# ---- usage ---------------------------------------------------------------

run
checks <<'EOF'
rc | = | usage: no command exits 2 | 2
EOF

run frobnicate
checks <<'EOF'
rc  | =  | usage: an unknown command exits 2 | 2
err | re | usage: the unknown command is named | unknown command 'frobnicate'
err | re | usage: the usage follows the message | ^usage: corsctl
EOF

run help
checks <<'EOF'
rc  | =  | usage: help exits 0 | 0
out | re | usage: help prints the usage | ^usage: corsctl
out | re | usage: help lists check | ^  check 
out | re | usage: help lists decide | ^  decide 
out | re | usage: help lists query | ^  query 
out | re | usage: help lists reload | ^  reload 
out | re | usage: help lists stats | ^  stats 
EOF

run -h
checks <<'EOF'
rc | = | usage: -h exits 0 | 0
EOF

run decide -c "$tmp/mdn.yaml" --origin https://app.example.re --bogus
checks <<'EOF'
rc  | =  | usage: an unknown option exits 2 | 2
err | re | usage: the unknown option is named | unknown option '--bogus'
EOF

# Each of these command lines is wrong: exit status 2.
while IFS='|' read -r name args; do
	eval "run $args"
	check rc = "usage: $name exits 2" 2
done <<'EOF'
decide without -c|decide --origin https://app.example.re
an option without its value|decide -c "$tmp/mdn.yaml" --origin
a flag given a value|decide -c "$tmp/mdn.yaml" --acrpn=yes
--batch with a request flag|decide -c "$tmp/mdn.yaml" --batch "$tmp/good.jsonl" --origin x
an option given twice|decide -c "$tmp/mdn.yaml" --method GET --method PUT
a stray argument|decide -c "$tmp/mdn.yaml" stray
check without a file|check
check with two files|check "$tmp/mdn.yaml" "$tmp/two.yaml"
EOF

# ---- query, reload, stats against a real corsd -------------------------
# The MDN policy again, served by corsd; answers must be what decide gives
# in-process (DESIGN.md section 4: query answers exactly as a worker would).
export CORSD_RUNDIR="$tmp/run"
instance="cli$$"
mkdir -p "$CORSD_RUNDIR"
cp "$tmp/mdn.yaml" "$tmp/served.yaml"
"$build/corsd" -c "$tmp/served.yaml" --instance "$instance" --foreground \
	2>"$tmp/corsd.log" &
h_track $!
for _ in $(seq 100); do
	[ -S "$CORSD_RUNDIR/$instance.sock" ] && break
	sleep 0.05
done

run query --instance "$instance" -p mdn --origin https://app.example.re \
	--method OPTIONS --acrm PUT
checks <<'EOF'
rc | = | query: an allowed preflight exits 0 | 0
EOF
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
checks <<'EOF'
out | has | query --json: the refusal names the method | "reason":"Method PATCH is not allowed by Access-Control-Allow-Methods in preflight response."
EOF

printf '%s\n' '{"policy":"mdn","origin":"https://app.example.re"}' \
	'{"policy":"mdn","origin":"https://evil.example"}' \
	'{"policy":"mdn","origin":"\x41"}' >"$tmp/q.jsonl"
# Line 3: \x41 is no JSON escape; its 'x' is column 28.
run query --instance "$instance" --batch "$tmp/q.jsonl"
checks <<'EOF'
rc | =   | query --batch: a line that is not JSON makes the exit status 1 | 1
1  | has | query --batch: line 1 allowed | "verdict":"allow"
2  | has | query --batch: line 2 passed, in order | "verdict":"pass"
3  | re  | query --batch: \x41 is refused, naming line 3 and column 28 | ^\{"error":"line 3, column 28: malformed JSON: 
EOF

run query --instance "$instance" --origin https://app.example.re
checks <<'EOF'
rc | = | usage: query without -p exits 2 | 2
EOF

run query --instance "nope$$" -p mdn --origin https://app.example.re \
	--timeout 100
checks <<'EOF'
rc  | =  | query: no corsd for the instance exits 1 | 1
out | is | query: no corsd answers unavailable | verdict: unavailable
err | re | query: no corsd is explained, with where it looked | is unavailable: corsd is not running \(no '.*/nope[0-9]+\.cache'\)
EOF

run stats --instance "$instance" --json
checks <<'EOF'
rc    | =  | stats --json: exits 0 | 0
lines | =  | stats --json: one line | 1
out   | re | stats --json: counts the queries | "workers":\{[^}]*"requests":[1-9]
out   | re | stats --json: pending is a count of the workers | "workers":\{"active":[0-9]+,"pending":[0-9]+,
EOF

run stats --instance "$instance"
checks <<'EOF'
out | is | stats: readable lines | reload_failures: 0
out | re | stats: pending requests, by that name | ^workers\.pending: [0-9]+$
out | is | stats: null is printed as null | last_reload_error: null
EOF

sed 's/PUT, DELETE/PUT, DELETE, PATCH/' "$tmp/mdn.yaml" >"$tmp/served.yaml"
run reload --instance "$instance"
checks <<'EOF'
rc  | =  | reload: a good file exits 0 | 0
out | is | reload: says so | reloaded
out | is | reload: the generation moves on | generation: 2
EOF
run query --instance "$instance" -p mdn --origin https://app.example.re \
	--method OPTIONS --acrm PATCH
checks <<'EOF'
out | is | reload: the new policy answers at once | verdict: allow
EOF

# A path in an origin with a '"' in it: corsd's JSON escapes the quote,
# corsctl prints it decoded.
printf '%s\n' 'version: 1' 'policies:' '  mdn:' \
	"    origins: ['https://a.example/\"x']" >"$tmp/served.yaml"
run reload --instance "$instance"
checks <<'EOF'
rc  | =  | reload: a broken file exits 1 | 1
err | re | reload: the refusal is explained | reload was refused
out | is | reload: the refusal says ok: false | ok: false
EOF
run query --instance "$instance" -p mdn --origin https://app.example.re \
	--method OPTIONS --acrm PATCH
checks <<'EOF'
out | is | reload: the running policy stays after a broken file | verdict: allow
EOF
run stats --instance "$instance"
checks <<'EOF'
out | is | stats: the failed reload is counted | reload_failures: 1
out | re | stats: the last reload error is shown decoded | ^last_reload_error: [^"].*'https://a\.example/"x' has a path
EOF

run reload --instance "nope$$"
checks <<'EOF'
rc  | =  | reload: no corsd exits 1 | 1
err | re | reload: no corsd is explained | is not running
EOF

# corsd in the foreground has no parent waiting for its readiness byte: it
# must not write one anywhere (a descriptor left at 0 once wrote it into
# stdin).
if grep -q "cannot report readiness" "$tmp/corsd.log"; then
	fail "corsd --foreground: no readiness report without a parent" \
		"$tmp/corsd.log"
else
	pass "corsd --foreground: no readiness report without a parent"
fi

# ---- the control-socket client against a stand-in corsd ----------------
# A socket that answers one connection with a line of our choosing, so
# that corsctl is tested on answers corsd itself never writes: spaces, an
# "ok" nested deeper than the top, no "ok", text that is not JSON.

# fake_corsd REPLY: serve REPLY (and "\n") once on $CORSD_RUNDIR/fake.sock.
fake_corsd() {
	rm -f "$CORSD_RUNDIR/fake.sock"
	perl -MIO::Socket::UNIX -e '
		my ($path, $reply) = @ARGV;
		my $s = IO::Socket::UNIX->new(Type => SOCK_STREAM(),
			Local => $path, Listen => 1) or die "$path: $!";
		my $c = $s->accept or die "accept: $!";
		my $cmd = <$c>;
		print $c "$reply\n";
		close $c;' "$CORSD_RUNDIR/fake.sock" "$1" 2>"$tmp/fake.err" &
	fake_pid=$!
	h_track "$fake_pid"
	for _ in $(seq 100); do
		[ -S "$CORSD_RUNDIR/fake.sock" ] && break
		sleep 0.02
	done
}

# fake_run REPLY ARGS...: corsctl ARGS --instance fake against REPLY.
fake_run() {
	fake_corsd "$1"
	shift
	run "$@" --instance fake
	h_stop_pid "$fake_pid"
}

fake_run '{"ok": true, "generation": 7}' reload
checks <<'EOF'
rc  | =  | control client: ok true with spaces is a reload that worked | 0
out | is | control client: the generation is printed | generation: 7
EOF

fake_run '{"ok":false,"error":"no","was":{"ok":true}}' reload
checks <<'EOF'
rc  | =  | control client: a nested "ok":true is no success | 1
err | re | control client: the refusal is explained | reload was refused
out | is | control client: the refused answer is printed flat | was.ok: true
EOF

fake_run '{"generation":3}' reload
checks <<'EOF'
rc  | =  | control client: a reload answer without ok is an error | 1
err | re | control client: a missing ok is named | without a boolean "ok"
EOF

fake_run 'this is not JSON' stats
checks <<'EOF'
rc  | =  | control client: an answer that is not JSON is an error | 1
err | re | control client: it says the answer is not JSON | text that is not JSON: column [0-9]+: malformed JSON
EOF

fake_run '{"last_reload_error":"a\"b\\c\u00e9\n","n":{"m":1,"s":null}}' stats
checks <<'EOF'
rc  | =  | control client: stats exits 0 | 0
out | is | control client: strings are decoded, then made safe for a terminal | last_reload_error: a"b\\c\xc3\xa9\x0a
out | is | control client: nested objects are dotted paths | n.m: 1
out | is | control client: null stays null | n.s: null
EOF

fake_run '{"a":1,"a":2}' stats
checks <<'EOF'
rc  | =  | control client: a duplicate key in an answer is an error | 1
err | re | control client: the duplicate key is named | duplicate object key
EOF

summary
