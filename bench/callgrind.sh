#!/usr/bin/env bash
# callgrind.sh BUILD_DIR [N] [CASE...] - instructions per decision.
#
# Layer: bench.  Runs BUILD_DIR/bench/callgrind_decide under callgrind once
# per case of bench/bench_cases.h (or the CASEs given), N decisions each
# (default 10000), collecting only inside corsd_decide(), and prints a
# table of instructions (Ir) per decision = total Ir / N.  No timing: the
# same inputs give the same numbers on any machine with the same build.
set -euo pipefail

build=${1:?usage: callgrind.sh BUILD_DIR [N] [CASE...]}
n=${2:-10000}
shift $(($# >= 2 ? 2 : 1))
driver=$build/bench/callgrind_decide
[ -x "$driver" ] || { echo "callgrind.sh: $driver not built" >&2; exit 1; }
command -v valgrind >/dev/null || { echo "callgrind.sh: valgrind missing" >&2; exit 1; }

if [ $# -gt 0 ]; then
	cases=("$@")
else
	mapfile -t cases < <("$driver" --list)
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

printf '%-42s %12s %8s %12s\n' case "Ir total" N "Ir/decision"
status=0
for c in "${cases[@]}"; do
	out=$tmp/callgrind.out
	# LD_BIND_NOW: no lazy PLT binding inside the counted calls.
	if ! LD_BIND_NOW=1 valgrind --tool=callgrind --instr-atstart=no \
		--collect-atstart=no --toggle-collect=corsd_decide \
		--callgrind-out-file="$out" "$driver" "$c" "$n" \
		>"$tmp/log" 2>&1; then
		echo "callgrind.sh: $c failed:" >&2
		cat "$tmp/log" >&2
		status=1
		continue
	fi
	# "totals:" holds the events collected (Ir only: no cache simulation).
	ir=$(awk '/^totals:/ { print $2; exit }' "$out")
	printf '%-42s %12s %8s %12.1f\n' "$c" "$ir" "$n" \
		"$(awk -v ir="$ir" -v n="$n" 'BEGIN { print ir / n }')"
	rm -f "$out"
done
exit $status
