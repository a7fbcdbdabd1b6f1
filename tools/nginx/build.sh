#!/usr/bin/env bash
# build.sh BUILD_DIR - build BUILD_DIR/ngx_http_corsd_module.so, the nginx
# dynamic module, against the installed nginx (Debian's nginx-dev sources
# in /usr/share/nginx/src), with libcorsd_client.a from BUILD_DIR linked in.
#
# Layer: tools/nginx.  This is what Debian's dh nginx_mod build system
# does: nginx's configure is run in the nginx source tree with the flags
# the installed binary was built with (conf_flags, --with-compat) and the
# build directory outside it; `make modules` builds only the .so.  The
# module's signature then matches /usr/sbin/nginx, and the script checks
# that it loads with `nginx -t`.  Nothing is written to the source tree.
#
# Environment: NGX_SRC (default /usr/share/nginx/src), NGINX (default
# /usr/sbin/nginx).
set -eu

if [ $# -ne 1 ]; then
	echo "usage: tools/nginx/build.sh BUILD_DIR" >&2
	exit 2
fi
mkdir -p "$1"
build=$(cd "$1" && pwd)
addon=$(cd "$(dirname "$0")" && pwd)
src=${NGX_SRC:-/usr/share/nginx/src}
nginx=${NGINX:-/usr/sbin/nginx}
lib=$build/libcorsd_client.a
objs=$build/nginx
module=ngx_http_corsd_module.so

for f in "$src/configure" "$src/conf_flags" "$nginx" "$lib"; do
	if [ ! -e "$f" ]; then
		echo "build.sh: $f is missing (nginx, nginx-dev, make)" >&2
		exit 1
	fi
done

# The compiler and linker flags the installed binary was built with.
version=$("$nginx" -V 2>&1)
cc_opt=$(sed -n "s/.*--with-cc-opt='\([^']*\)'.*/\1/p" <<<"$version")
ld_opt=$(sed -n "s/.*--with-ld-opt='\([^']*\)'.*/\1/p" <<<"$version")

# Configure once per build directory, again when the module's config, the
# flags or the nginx version change.
stamp="$(md5sum "$addon/config" | cut -d' ' -f1) $lib $version"
if [ ! -f "$objs/Makefile" ] || [ "$(cat "$objs/corsd.stamp" 2>/dev/null)" != "$stamp" ]; then
	rm -rf "$objs"
	mkdir -p "$objs"
	echo "  CONFIGURE $objs (nginx $(sed -n 's|^nginx version: nginx/||p' <<<"$version"))"
	(
		cd "$src"
		# shellcheck disable=SC1091
		. ./conf_flags
		CORSD_CLIENT_LIB=$lib ./configure \
			--with-cc-opt="$cc_opt" --with-ld-opt="$ld_opt" \
			"${NGX_CONF_FLAGS[@]}" \
			--add-dynamic-module="$addon" \
			--builddir="$objs"
	) >"$objs/configure.log" 2>&1 || {
		cat "$objs/configure.log" >&2
		echo "build.sh: nginx's configure failed" >&2
		exit 1
	}
	printf '%s' "$stamp" >"$objs/corsd.stamp"
fi

# Relink every time: nginx's Makefile does not know about the archive.
rm -f "$objs/$module"
echo "  NGXMOD  $build/$module"
make -s -f "$objs/Makefile" -C "$src" modules >"$objs/make.log" 2>&1 || {
	cat "$objs/make.log" >&2
	exit 1
}
cp "$objs/$module" "$build/$module.tmp"
mv "$build/$module.tmp" "$build/$module"

# It loads into the installed nginx (signature, symbols) or the build fails.
conf=$(mktemp)
trap 'rm -f "$conf"' EXIT
printf 'load_module %s;\nevents {}\n' "$build/$module" >"$conf"
if ! "$nginx" -g 'error_log stderr; pid /dev/null;' -t -q -p "$objs" -c "$conf"; then
	echo "build.sh: $build/$module does not load into $nginx" >&2
	exit 1
fi
