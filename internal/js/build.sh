#!/bin/sh
# Rebuilds internal/js/engine/wedge-js.wasm, wedge's JavaScript engine, from the
# vendored QuickJS-ng (third_party/quickjs-ng) and wedge's glue
# (internal/js/engine). Needs clang, lld and wasi-libc for wasm32-wasi (Debian:
# apt-get install clang lld wasi-libc libclang-rt-dev-wasm32).
#
# The output depends only on the sources and the toolchain: no paths, no
# dates, no debug info. ./internal/js/build.sh --check rebuilds into a temporary
# file and fails if it differs from the committed module.
set -eu
cd "$(dirname "$0")/../.."
root=$(pwd)
out=internal/js/engine/wedge-js.wasm
check=0
if [ "${1:-}" = "--check" ]; then check=1; fi

CC=${CC:-clang}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# prelude.js becomes a C array (xxd reads stdin so no file name leaks in),
# NUL-terminated: JS_Eval reads one byte past the source's length.
{
	echo "static const unsigned char wedge_prelude[] = {"
	xxd -i < internal/js/engine/prelude.js
	echo ", 0x00};"
	echo "static const unsigned int wedge_prelude_len = sizeof wedge_prelude - 1;"
} > "$tmp/prelude.h"

CFLAGS="--target=wasm32-wasi -Os -std=gnu11 -D_GNU_SOURCE -D_WASI_EMULATED_PROCESS_CLOCKS -D_WASI_EMULATED_SIGNAL
 -DNDEBUG -ffile-prefix-map=$root=. -ffile-prefix-map=$tmp=. -fno-ident -Wno-everything"
Q=third_party/quickjs-ng
for f in quickjs dtoa libregexp libunicode; do
	$CC $CFLAGS -c $Q/$f.c -o "$tmp/$f.o" &
done
$CC $CFLAGS -I$Q -I"$tmp" -c internal/js/engine/wedge_js.c -o "$tmp/wedge_js.o" &
wait

# A reactor with our own _initialize (no crt1): the stack first, so that
# an overflow traps instead of running into data; 1 MiB of it.
$CC --target=wasm32-wasi -nostartfiles -Wl,--no-entry -Wl,--stack-first -Wl,-z,stack-size=1048576 \
	-Wl,--strip-debug \
	-o "$tmp/wedge-js.wasm" "$tmp"/quickjs.o "$tmp"/dtoa.o "$tmp"/libregexp.o "$tmp"/libunicode.o "$tmp"/wedge_js.o \
	-lwasi-emulated-process-clocks -lwasi-emulated-signal -lm

if [ $check = 1 ]; then
	if cmp -s "$tmp/wedge-js.wasm" $out; then
		echo "internal/js/build.sh: $out matches its sources"
		exit 0
	fi
	echo "internal/js/build.sh: $out differs from a rebuild of its sources; run internal/js/build.sh and commit the result" >&2
	exit 1
fi
cp "$tmp/wedge-js.wasm" $out
chmod 644 $out
echo "internal/js/build.sh: wrote $out ($(wc -c < $out) bytes)"
