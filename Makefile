# wedge: the two commands a newcomer needs are `make run` and `make test`.
GO      ?= go
BIN     := bin/wedge
PKGS    := ./...

.PHONY: run build examples test test-short fuzz bench chat vet clean

## run: build wedge and the examples, start a node serving them on 127.0.0.1:8080
run: build examples
	$(BIN) serve --demo examples

## build: build the wedge binary into bin/
build:
	$(GO) build -o $(BIN) ./cmd/wedge

## examples: build the example functions (Go -> wasip1)
examples:
	./examples/build.sh

## test: the whole suite, with the race detector, as CI runs it
test:
	$(GO) vet $(PKGS)
	$(GO) test -race -timeout 15m $(PKGS)
	cd sdk/go && $(GO) vet ./... && $(GO) test -race ./...

## test-short: the suite without the race detector (faster while iterating)
test-short:
	$(GO) test -timeout 10m $(PKGS)

## fuzz: every fuzz target for FUZZTIME each (default 10s); a failing input lands in testdata/fuzz
FUZZTIME ?= 10s
fuzz:
	FUZZTIME=$(FUZZTIME) ./internal/tools/fuzz.sh

## bench: the benchmark suite (full); `bin/wedge bench --quick` for a one-minute run
bench: build
	$(BIN) bench

## chat: a local 3-node cluster serving the chat app (examples/chat)
chat:
	./examples/chat-cluster.sh

vet:
	$(GO) vet $(PKGS)

clean:
	rm -rf bin wedge-data wedge-chat
