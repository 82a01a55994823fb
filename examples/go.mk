# The build of one Go function with the SDK, included by the Makefiles of
# examples/go-*/ and examples/chat/*/. Set WASM (the module to build) and,
# where they differ from the defaults, ROOT (the repository root, relative
# to the function) and SRC (the function's own sources) before including it.
GO   ?= go
ROOT ?= ../..
SRC  ?= $(wildcard *.go)

.PHONY: all clean test
all: $(WASM)

# Rebuilt when the function, the Go SDK or the abi module the SDK imports changes.
$(WASM): $(SRC) go.mod $(wildcard $(ROOT)/sdk/go/*.go $(ROOT)/abi/*.go)
	GOOS=wasip1 GOARCH=wasm $(GO) build -buildmode=c-shared -trimpath -ldflags="-s -w" -o $@ .

# Handler tests run natively, without a host.
test:
	$(GO) test ./...

clean:
	rm -f $(WASM)
