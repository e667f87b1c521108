#!/bin/sh
# Builds examples/lwip/lwipstack, the routefuzz adapter around Debian's lwIP
# (liblwip-dev), into OUT (default: bin/lwipstack, relative to the
# repository). Installs liblwip-dev with apt-get when it is missing and this
# runs as root; exits 1, saying why, when it cannot.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${1:-"$root/bin/lwipstack"}
cc=${CC:-cc}
if ! pkg-config --exists lwip 2>/dev/null && [ ! -f /usr/include/lwip/lwip/netif.h ]; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
		echo "lwip: installing liblwip-dev" >&2
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq liblwip-dev) >/dev/null ||
			{ echo "lwip: could not install liblwip-dev with apt-get" >&2; exit 1; }
	else
		echo "lwip: liblwip-dev is not installed (apt-get install liblwip-dev, as root)" >&2
		exit 1
	fi
fi
if pkg-config --exists lwip 2>/dev/null; then
	cflags=$(pkg-config --cflags lwip)
	libs=$(pkg-config --libs lwip)
else
	cflags=-I/usr/include/lwip
	libs=-llwip
fi
command -v "$cc" >/dev/null 2>&1 || { echo "lwip: no C compiler ($cc)" >&2; exit 1; }
mkdir -p "$(dirname "$out")"
# shellcheck disable=SC2086 # the flags are words
"$cc" -std=c11 -D_DEFAULT_SOURCE -O2 -Wall -Wextra -Werror $cflags -o "$out" "$here/lwipstack.c" $libs
echo "$out"
