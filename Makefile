# wedge: the two commands a newcomer needs are `make run` and `make test`.
GO      ?= go
BIN     := bin/wedge
PKGS    := ./...

.PHONY: run build examples test test-modules test-short testrun fuzz bench chat vet clean

## run: build wedge and the examples, start a node serving them on 127.0.0.1:8080
run: build examples
	$(BIN) serve --demo examples

## build: build wedge and wedge-bench (the benchmark suite, its own module: benchmarks/) into bin/
build:
	$(GO) build -o $(BIN) ./cmd/wedge
	$(GO) build -C benchmarks -o $(CURDIR)/bin/wedge-bench ./cmd/wedge-bench

## examples: build the example functions (Go -> wasip1)
examples:
	./examples/build.sh

# Every nested module (the SDK, the examples, test fixtures): `./...` at
# the root does not reach them.
MODULES := $(shell find . -name go.mod -not -path ./go.mod -not -path './.*' -not -path '*/node_modules/*' -exec dirname {} \; | sort)
# go test -json behind a printer: a line per package as it ends, failed
# tests at once, the packages still running every minute (internal/testrun).
TESTRUN := bin/testrun

## test: the whole suite, with the race detector, as CI runs it: the root module, then every nested one
test: vet testrun
	$(TESTRUN) -race -timeout 15m $(PKGS)
	@$(MAKE) --no-print-directory test-modules

## test-modules: vet (host and GOOS=wasip1) and test (host, race detector) every nested module;
## host-only modules (those requiring the root module: benchmarks/, examples/chat/e2e) skip the wasip1 vet
test-modules: testrun
	@failed=""; for m in $(MODULES); do \
		echo "== module $$m"; \
		{ $(GO) vet -C $$m ./... && \
		  { grep -Eq '^[[:space:]]*(require[[:space:]]+)?github.com/wedge-run/wedge[[:space:]]' $$m/go.mod || \
		    GOOS=wasip1 GOARCH=wasm $(GO) vet -C $$m ./...; } && \
		  $(TESTRUN) -C $$m -race -timeout 15m ./...; } || failed="$$failed $$m"; \
	done; \
	if [ -n "$$failed" ]; then echo "FAIL: modules:$$failed"; exit 1; fi

## test-short: the root module's suite without the race detector (faster while iterating)
test-short: testrun
	$(TESTRUN) -timeout 10m $(PKGS)

testrun:
	@$(GO) build -o $(TESTRUN) ./internal/testrun

## fuzz: every fuzz target for FUZZTIME each (default 10s); a failing input lands in testdata/fuzz
FUZZTIME ?= 10s
fuzz:
	FUZZTIME=$(FUZZTIME) ./internal/tools/fuzz.sh

## bench: the benchmark suite (full; bin/wedge runs bin/wedge-bench); `bin/wedge bench --quick` for a one-minute run
bench: build
	$(BIN) bench

## chat: a local 3-node cluster serving the chat app (examples/chat)
chat:
	./examples/chat-cluster.sh

vet:
	$(GO) vet $(PKGS)

clean:
	rm -rf bin wedge-data wedge-chat wedge-cluster
