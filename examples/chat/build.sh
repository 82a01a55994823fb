#!/usr/bin/env bash
# Builds the chat app's four functions into examples/chat/<fn>/<fn>.wasm
# (what wedge.toml's module paths name). Go is all it needs.
set -euo pipefail
cd "$(dirname "$0")"
for fn in auth messages notify web; do
	make --no-print-directory -C "$fn"
	echo "built examples/chat/$fn/$fn.wasm ($(wc -c <"$fn/$fn.wasm") bytes)"
done
