#!/bin/sh
# Builds examples/lwip/lwipstack, the routefuzz adapter around Debian's lwIP
# (liblwip-dev), into OUT (default: bin/lwipstack in the repository).
# Installs liblwip-dev (and gcc, when there is no C compiler) with apt-get
# when they are missing and this runs as root; exits 1, saying why, when it
# cannot. Also run by make lwip and by the Go tests in examples/.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${1:-"$root/bin/lwipstack"}
# findcc prints the first C compiler there is: $CC, cc, gcc, clang, clang-14.
findcc() {
	for c in ${CC:-} cc gcc clang clang-14; do
		if command -v "$c" >/dev/null 2>&1; then echo "$c"; return 0; fi
	done
	return 1
}
missing=
[ -f /usr/include/lwip/lwip/netif.h ] || missing=" liblwip-dev"
findcc >/dev/null || missing="$missing gcc"
if [ -n "$missing" ]; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
		echo "lwip: installing$missing" >&2
		# shellcheck disable=SC2086 # the package names are words
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing) >/dev/null ||
			{ echo "lwip: could not install$missing with apt-get" >&2; exit 1; }
	else
		echo "lwip: missing$missing (apt-get install$missing, as root)" >&2
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
cc=$(findcc) || { echo "lwip: no C compiler (set CC)" >&2; exit 1; }
mkdir -p "$(dirname "$out")"
# shellcheck disable=SC2086 # the flags are words
"$cc" -std=c11 -D_DEFAULT_SOURCE -O2 -Wall -Wextra -Werror $cflags -o "$out" "$here/lwipstack.c" $libs
echo "$out"
