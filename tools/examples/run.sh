#!/usr/bin/env bash
# run.sh BUILD_DIR - the `make run` job: check the example policy, then
# ask corsctl for a few decisions a newcomer should see: an allowed
# preflight, two refused ones with their reasons, an actual request, the
# same as JSON, and a batch.
#
# Layer: tools/examples.  Each step states the verdict it expects; the
# script exits 1 when any step fails or answers otherwise.
set -u

if [ $# -ne 1 ]; then
	echo "usage: tools/examples/run.sh BUILD_DIR" >&2
	exit 2
fi
build=$(cd "$1" 2>/dev/null && pwd) || {
	echo "run.sh: build directory '$1' does not exist; run make first" >&2
	exit 1
}
cd "$(dirname "$0")/../.." || exit 1
corsctl=$build/corsctl
policy=tools/examples/policy.yaml
if [ ! -x "$corsctl" ]; then
	echo "run.sh: $corsctl is missing; run make first" >&2
	exit 1
fi

failures=0

# step HEADING EXPECT ARGS...: print the heading and the command as a
# user would type it, run corsctl ARGS, show its output, and check the
# exit status is 0 and the output holds the line EXPECT (if not empty).
step() {
	local heading=$1 expect=$2 out rc
	shift 2
	printf '\n== %s\n$ corsctl' "$heading"
	printf ' %q' "$@"
	printf '\n'
	out=$("$corsctl" "$@" 2>&1)
	rc=$?
	printf '%s\n' "$out"
	if [ "$rc" -ne 0 ]; then
		echo "run.sh: FAILED: corsctl exited with status $rc" >&2
		failures=$((failures + 1))
	elif [ -n "$expect" ] && ! grep -qxF -- "$expect" <<<"$out"; then
		echo "run.sh: FAILED: expected the line '$expect'" >&2
		failures=$((failures + 1))
	fi
}

step "Check the example policy file (errors and warnings would be listed)" \
	"" check "$policy"

step "Preflight allowed: PUT with Content-Type and X-Custom-Header from the app" \
	"verdict: allow" decide -c "$policy" -p api \
	--origin https://app.example.com --method OPTIONS --acrm PUT \
	--acrh Content-Type --acrh X-Custom-Header

step "Preflight refused: DELETE from an origin the policy does not list" \
	"verdict: deny" decide -c "$policy" -p api \
	--origin https://evil.example --method OPTIONS --acrm DELETE

step "Preflight refused: a request header the policy does not allow" \
	"verdict: deny" decide -c "$policy" -p api \
	--origin https://shop.example.org --method OPTIONS --acrm PATCH \
	--acrh X-Debug

step "Actual GET allowed from a subdomain of example.org (no preflight)" \
	"verdict: allow" decide -c "$policy" -p api \
	--origin https://shop.example.org --method GET

step "The same kind of answer as JSON: a preview deployment matched by regex" \
	"" decide -c "$policy" -p api --json \
	--origin https://pr-42.preview.example.net --method OPTIONS \
	--acrm PATCH --acrh content-type

# A batch: one JSON request per line in, one JSON answer per line out.
requests='{"policy":"public","origin":"https://anyone.example","method":"GET"}
{"policy":"partner","origin":"https://portal.partner.example","method":"OPTIONS","acrm":"PUT","acrh":["Content-Type","X-Partner-Key"]}
{"policy":"partner","origin":"https://portal.partner.example","method":"OPTIONS","acrm":"DELETE"}'
printf '\n== A batch of three requests, one JSON object per line:\n%s\n' \
	"$requests"
step "Their answers, one JSON line each, in order (- reads standard input)" \
	"" decide -c "$policy" --batch - <<<"$requests"

echo
if [ "$failures" -ne 0 ]; then
	echo "run.sh: $failures step(s) failed"
	exit 1
fi
echo "run.sh: every step answered as expected"
