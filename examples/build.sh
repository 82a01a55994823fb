#!/usr/bin/env bash
# Builds every example function that needs a toolchain into
# examples/<name>/<name>.wasm. Go is enough for the Go examples.
set -euo pipefail
cd "$(dirname "$0")"
for dir in go-*/; do
	name="${dir%/}"
	[ -f "$name/go.mod" ] || continue
	mode=""
	# SDK functions are reactors (-buildmode=c-shared); plain programs are commands.
	if grep -q "wedge-run/wedge/sdk/go" "$name/go.mod"; then mode="-buildmode=c-shared"; fi
	(cd "$name" && GOOS=wasip1 GOARCH=wasm go build $mode -trimpath -o "$name.wasm" .)
	echo "built examples/$name/$name.wasm ($(wc -c <"$name/$name.wasm") bytes)"
done
