#!/usr/bin/env bash
# The client library is linked into other people's servers: it must export
# the corsd_* API and nothing else, and need nothing but libc at run time
# (no libyaml, PCRE2, liburcu or engine code).
#
# Usage: tests/ipc/exports.sh BUILD_DIR
set -u
b=${1:?usage: exports.sh BUILD_DIR}
# shellcheck source=tests/lib/harness.sh
. "$(dirname "$0")/../lib/harness.sh"
so=$b/libcorsd_client.so
check() { # name, command...
	local name=$1
	shift
	if "$@"; then pass "$name"; else fail "$name"; fi
}
syms=$(nm -D --defined-only "$so" | awk '{print $3}' | sed 's/@.*//' | sort -u)
check "client exports symbols at all" test -n "$syms"
stray=$(echo "$syms" | grep -v '^corsd_' | grep -v '^LIBCORSD_CLIENT_1$' || true)
check "client exports only corsd_* (stray: ${stray:-none})" test -z "$stray"
for f in corsd_client_open corsd_client_decide corsd_client_close \
	corsd_client_set_timeout corsd_client_stats corsd_answer_reason \
	corsd_strerror; do
	check "client exports $f" grep -qx "$f" <<<"$syms"
done
internal=$(echo "$syms" | grep -E '^corsd_(os|cache|wire|server)_' || true)
check "client hides internal corsd_os/cache/wire (found: ${internal:-none})" test -z "$internal"
needed=$(readelf -d "$so" | sed -n 's/.*NEEDED.*\[\(.*\)\]/\1/p' | tr '\n' ' ')
check "client needs only libc (needs: $needed)" test "$needed" = "libc.so.6 "
summary
