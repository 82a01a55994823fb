#!/usr/bin/env bash
# fuzz.sh runs every Go fuzz target of the repository (the root module and
# the nested ones, such as sdk/go) for a bounded time each, and fails if any
# target finds a failing input. The fuzzer writes such an input under the
# package's testdata/fuzz/<Target>/, where plain `go test` replays it from
# then on: commit it with the fix, renamed for what it caught.
#
# Environment:
#   FUZZTIME      time (or count, "500x") per target; default 10s
#   FUZZPARALLEL  fuzzing workers per target; default GOMAXPROCS
#   FUZZ_ONLY     a regexp on "importpath.Target" selecting targets
#   FUZZMINIMIZETIME  time spent shrinking each new or failing input;
#                 default 5s (Go's 60s would eat a short run of a slow
#                 target such as gateway's FuzzAdminAPI, which deploys)
#
# Each package's test binary is built once with fuzzing instrumentation;
# its targets are listed from that binary (-test.list '^Fuzz') and run one
# after another. The corpus the fuzzer grows is kept in Go's build cache,
# as `go test -fuzz` keeps it.
set -euo pipefail

FUZZTIME=${FUZZTIME:-10s}
FUZZPARALLEL=${FUZZPARALLEL:-}
FUZZ_ONLY=${FUZZ_ONLY:-}
FUZZMINIMIZETIME=${FUZZMINIMIZETIME:-5s}
root=$(cd "$(dirname "$0")/../.." && pwd)
cache=$(go env GOCACHE)/fuzz
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT

start=$(date +%s)
build_s=0
targets=0
flaked=0
failed=()

# Modules: every go.mod outside testdata.
mapfile -t modules < <(cd "$root" && find . -name go.mod -not -path '*/testdata/*' -not -path './.git/*' -printf '%h\n' | sort)
for mod in "${modules[@]}"; do
	# Packages of this module with a fuzz target (a cheap grep first, so
	# that only those are compiled).
	while read -r dir importpath; do
		names=$(grep -hos '^func Fuzz[A-Za-z0-9_]*(f \*testing.F)' "$dir"/*_test.go | sed 's/^func \(Fuzz[A-Za-z0-9_]*\).*/\1/' || true)
		[ -n "$names" ] || continue
		if [ -n "$FUZZ_ONLY" ] && ! printf "$importpath.%s\n" $names | grep -Eq "$FUZZ_ONLY"; then
			continue
		fi
		exe=$bin/$(echo "$importpath" | tr / _).test
		t0=$(date +%s)
		echo "== build $importpath"
		(cd "$root/$mod" && go test -c -fuzz . -o "$exe" "$importpath")
		build_s=$((build_s + $(date +%s) - t0))
		# Listed in the package's directory, where its tests run (they may
		# read testdata at init); a binary that cannot list is a failure.
		if ! list=$(cd "$dir" && "$exe" -test.list '^Fuzz' 2>&1); then
			echo "$list" | tail -n 25
			failed+=("$importpath (listing its targets failed)")
			continue
		fi
		for target in $(echo "$list" | grep '^Fuzz'); do
			if [ -n "$FUZZ_ONLY" ] && ! echo "$importpath.$target" | grep -Eq "$FUZZ_ONLY"; then
				continue
			fi
			targets=$((targets + 1))
			echo "== fuzz $importpath $target ($FUZZTIME)"
			args=(-test.run '^$' -test.fuzz "^$target\$" -test.fuzztime "$FUZZTIME"
				-test.fuzzminimizetime "$FUZZMINIMIZETIME"
				-test.fuzzcachedir "$cache/$importpath" -test.timeout 30m)
			[ -n "$FUZZPARALLEL" ] && args+=(-test.parallel "$FUZZPARALLEL")
			corpus=$dir/testdata/fuzz/$target
			before=$(ls "$corpus" 2>/dev/null || true)
			rc=0
			(cd "$dir" && "$exe" "${args[@]}") >"$bin/out" 2>&1 || rc=$?
			tail -n 25 "$bin/out"
			if [ "$rc" -ne 0 ]; then
				# Go 1.26's coordinator may report its own -fuzztime deadline
				# as a failure on a busy machine (go.dev/issue/75804): no
				# input written, only "context deadline exceeded". Anything
				# else, or a new file in the corpus, is a real failure.
				if [ "$(ls "$corpus" 2>/dev/null || true)" = "$before" ] &&
					grep -q '^    context deadline exceeded$' "$bin/out" &&
					! grep -q 'Failing input written' "$bin/out"; then
					echo "fuzz: $target ended with Go's spurious deadline error (go.dev/issue/75804); not a failure"
					flaked=$((flaked + 1))
				else
					failed+=("$importpath $target")
				fi
			fi
		done
	done < <(cd "$root/$mod" && go list -f '{{.Dir}} {{.ImportPath}}' ./...)
done

total=$(($(date +%s) - start))
echo "fuzz: $targets targets at $FUZZTIME each, ${build_s}s building, ${total}s in all ($flaked spurious deadline errors)"
if [ ${#failed[@]} -gt 0 ]; then
	printf 'fuzz: FAIL %s\n' "${failed[@]}"
	echo "fuzz: the failing inputs are under each package's testdata/fuzz/; rerun one with go test -run 'Target/name' ./pkg/"
	exit 1
fi
