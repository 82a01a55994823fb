package cli

import (
	"os"
	"path/filepath"
	"strings"
)

// scaffold is what `wedge init --lang X` writes for one language.
type scaffold struct {
	language string
	find     func(flagPath string) (string, error) // locates the SDK
	files    map[string]string                     // path -> text/template
	next     string                                // what to do next (text/template); empty: build and deploy a .wasm
}

var scaffolds = map[string]scaffold{
	"go":   {"Go", findSDK, goScaffold, ""},
	"rust": {"Rust", findRustSDK, rustScaffold, ""},
	"c":    {"C", findCSDK, cScaffold, ""},
	"as":   {"AssemblyScript", findASSDK, asScaffold, ""},
	"js":   {"JavaScript", noSDK, jsScaffold, jsNext},
}

// noSDK: JavaScript needs none (the engine is part of every node).
func noSDK(string) (string, error) { return "", nil }

const jsNext = `created {{.Dir}}/ (a JavaScript worker: nothing to build, the node compiles it at deploy)

  cd {{.Dir}}
  make test       # runs worker.js on a throwaway node and checks its answers
  make deploy     # wedge deploy {{.Name}} worker.js --route '{{.Route}}'
  curl http://127.0.0.1:8080{{.Try}}
`

// jsScaffold is a Workers-style worker, a Makefile and a test that runs
// it through a real node (wedge serve on free ports, curl).
var jsScaffold = map[string]string{
	"worker.js": `// {{.Name}} is a wedge function written in JavaScript, Workers-style:
// the node compiles and runs this module once at deploy and snapshots
// it, so every request starts from a fresh copy with the module loaded.
export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    if (url.pathname === "{{.Try}}/count") {
      // A counter in the function's key-value namespace (env.KV): state
      // lives outside the function, which starts fresh on every request.
      const visits = Number((await env.KV.get("visits")) ?? 0) + 1;
      await env.KV.put("visits", String(visits));
      return Response.json({ visits });
    }
    const name = url.searchParams.get("name") || "world";
    console.log("greeting", name);
    return new Response("hello, " + name + ", from {{.Name}}\n");
  },
};
`,
	"Makefile": `# {{.Name}}: a JavaScript worker. Nothing to build: the node compiles
# worker.js at deploy. (TypeScript: compile to worker.js first, e.g. with
# npx esbuild worker.ts --bundle --format=esm --outfile=worker.js.)
WEDGE ?= $(shell command -v wedge 2>/dev/null || echo {{.Wedge}})

.PHONY: all deploy test
all:
	@echo "worker.js: nothing to build; make test, make deploy"

deploy:
	$(WEDGE) deploy {{.Name}} worker.js --route '{{.Route}}'

test:
	WEDGE=$(WEDGE) sh ./test.sh
`,
	"test.sh": `#!/bin/sh
# Runs worker.js on a throwaway wedge node (free ports, a temporary data
# directory) and checks its answers with curl.
set -eu
WEDGE=${WEDGE:-wedge}
dir=$(mktemp -d)
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$dir"' EXIT
"$WEDGE" serve --http 127.0.0.1:0 --admin 127.0.0.1:0 --data "$dir/data" > "$dir/out" 2>&1 &
pid=$!
i=0
until grep -q '^serving' "$dir/out"; do
	i=$((i + 1)); [ $i -lt 300 ] || { cat "$dir/out"; echo "test: the node did not start"; exit 1; }
	sleep 0.1
done
public=$(sed -n 's/^  public gateway  *//p' "$dir/out")
export WEDGE_ADMIN=$(sed -n 's/^  admin API  *//p' "$dir/out")
export WEDGE_ADMIN_TOKEN=$(cat "$dir/data/admin-token")
"$WEDGE" deploy {{.Name}} worker.js --route '{{.Route}}' > /dev/null

check() { # check PATH WANT
	got=$(curl -fsS "$public$1")
	[ "$got" = "$2" ] || { echo "FAIL GET $1: got '$got', want '$2'"; exit 1; }
	echo "ok   GET $1"
}
check '{{.Try}}?name=test' 'hello, test, from {{.Name}}'
check '{{.Try}}/count' '{"visits":1}'
check '{{.Try}}/count' '{"visits":2}'
echo PASS
`,
	"README.md": `# {{.Name}}

A wedge function written in JavaScript (Workers-style ` + "`export default { fetch }`" + `).

    make test     # run worker.js on a throwaway node and check its answers
    make deploy   # deploy it on the node at $WEDGE_ADMIN (default http://127.0.0.1:8081)
    curl http://127.0.0.1:8080{{.Try}}?name=you
    curl http://127.0.0.1:8080{{.Try}}/count

console.log goes to the function's logs: ` + "`wedge logs {{.Name}} --follow`" + `.
The APIs wedge offers, and what it lacks, are in docs/javascript.md of the
wedge repository.
`,
}

func findASSDK(flagPath string) (string, error) {
	return findSDKDir(flagPath, "assemblyscript", "AssemblyScript", func(dir string) bool {
		b, err := os.ReadFile(filepath.Join(dir, "package.json"))
		return err == nil && strings.Contains(string(b), `"name": "wedge-as"`)
	})
}

// asScaffold imports the SDK by a path relative to the project (SDKRel,
// set by init): the AssemblyScript compiler resolves no absolute paths.
var asScaffold = map[string]string{
	"assembly/index.ts": `// {{.Name}} is a wedge function written in AssemblyScript. Build it with make.
import { KV, Request, Response, codeName, info, lastCode, serve } from "../{{.SDKRel}}/assembly/index";

function handle(req: Request): Response {
  if (req.path == "{{.Try}}/count") {
    // A counter in the function's key-value namespace: state lives outside
    // the function, which starts fresh on every request.
    const n = new KV().increment("visits");
    if (lastCode != 0) return Response.text(codeName(lastCode) + "\n", 503);
    return new Response(200).header("Content-Type", "application/json").write("{\"visits\":" + n.toString() + "}\n");
  }
  const q = req.queryParam("name");
  const name = q != null && q.length > 0 ? q : "world";
  info("greeting " + name);
  return Response.text("hello, " + name + ", from {{.Name}}\n");
}

export function wedge_handle(headLen: i32, bodyLen: i32): i32 {
  return serve(headLen, bodyLen, handle);
}
`,
	"Makefile": `# Build {{.Name}}.wasm with the AssemblyScript compiler installed in the SDK
# (cd {{.SDK}} && npm install). --use abort=... sends AssemblyScript's aborts
# to the SDK (logged, then a trap) instead of importing env.abort.
WEDGE ?= $(shell command -v wedge 2>/dev/null || echo {{.Wedge}})
SDK ?= {{.SDKRel}}
ASC ?= $(SDK)/node_modules/.bin/asc

{{.Name}}.wasm: $(wildcard assembly/*.ts) $(wildcard $(SDK)/assembly/*.ts)
	@test -x $(ASC) || { echo "no AssemblyScript compiler at $(ASC): cd $(SDK) && npm install"; exit 1; }
	$(ASC) assembly/index.ts -o $@ --optimize --runtime incremental --exportStart _initialize --use abort=$(SDK)/assembly/index/abort

.PHONY: deploy clean
deploy: {{.Name}}.wasm
	$(WEDGE) deploy {{.Name}} {{.Name}}.wasm --route '{{.Route}}'

clean:
	rm -f {{.Name}}.wasm
`,
	"README.md": `# {{.Name}}

A wedge function written in AssemblyScript with the wedge SDK ({{.SDK}}).

    make          # build {{.Name}}.wasm
    make deploy   # deploy it on the node at $WEDGE_ADMIN (default http://127.0.0.1:8081)
    curl http://127.0.0.1:8080{{.Try}}?name=you
    curl http://127.0.0.1:8080{{.Try}}/count

The SDK is imported by a path relative to this directory: move the project
and update assembly/index.ts and SDK in the Makefile.
`,
	".gitignore": "*.wasm\n",
}

func findRustSDK(flagPath string) (string, error) {
	return findSDKDir(flagPath, "rust", "Rust", func(dir string) bool {
		b, err := os.ReadFile(filepath.Join(dir, "Cargo.toml"))
		return err == nil && strings.Contains(string(b), `name = "wedge"`)
	})
}

func findCSDK(flagPath string) (string, error) {
	return findSDKDir(flagPath, "c", "C", func(dir string) bool {
		b, err := os.ReadFile(filepath.Join(dir, "wedge.h"))
		return err == nil && strings.Contains(string(b), "#define WEDGE_H")
	})
}

// rustWasmMake picks a rustc whose standard library has a WASI target
// (the one on PATH, else Debian's /usr/bin/rustc: a rustup toolchain on
// PATH often lacks it), the cargo beside it, and the target's name
// (wasm32-wasi before Rust 1.78, wasm32-wasip1 after).
const rustWasmMake = `RUSTC ?= $(shell for r in rustc /usr/bin/rustc; do s=$$($$r --print sysroot 2>/dev/null) || continue; if [ -d $$s/lib/rustlib/wasm32-wasip1 ] || [ -d $$s/lib/rustlib/wasm32-wasi ]; then command -v $$r; break; fi; done)
CARGO ?= $(dir $(RUSTC))cargo
TARGET ?= $(shell test -d "$$($(RUSTC) --print sysroot)/lib/rustlib/wasm32-wasip1" && echo wasm32-wasip1 || echo wasm32-wasi)
`

var rustScaffold = map[string]string{
	"Cargo.toml": `[package]
name = "{{.Name}}"
version = "0.1.0"
edition = "2021"
publish = false

[lib]
crate-type = ["cdylib"]
path = "src/lib.rs"

[dependencies]
wedge = { path = "{{.SDK}}" }

[profile.release]
opt-level = 3
lto = true
codegen-units = 1
panic = "abort"
strip = true
`,
	".cargo/config.toml": `# A 64 KiB stack instead of Rust's default 1 MiB: the host resets the whole
# initial memory after every request, so a smaller one is much cheaper.
[build]
rustflags = ["-C", "link-arg=-zstack-size=65536"]
`,
	"src/lib.rs": `//! {{.Name}} is a wedge function written in Rust. Build it with make.

use wedge::{Request, Response};

fn handle(req: Request) -> Response {
    match req.path() {
        "{{.Try}}/count" => count(),
        _ => hello(&req),
    }
}

fn hello(req: &Request) -> Response {
    let name = req.query_param("name").filter(|n| !n.is_empty()).unwrap_or_else(|| "world".into());
    wedge::info!("greeting {}", name);
    Response::text(format!("hello, {}, from {{.Name}}\n", name))
}

// count keeps a counter in the function's key-value namespace: state
// lives outside the function, which starts fresh on every request.
fn count() -> Response {
    match wedge::kv().increment("visits", 1) {
        Ok(n) => Response::new(200).header("Content-Type", "application/json").body(format!("{{"{{"}}\"visits\":{}{{"}}"}}\n", n)),
        Err(e) => Response::new(503).body(format!("{}\n", e)),
    }
}

wedge::http_handler!(handle);
`,
	"Makefile": `# Build {{.Name}}.wasm with rustc and cargo (Debian: apt-get install rustc
# cargo libstd-rust-dev-wasm32), offline: the wedge crate has no dependencies.
WEDGE ?= $(shell command -v wedge 2>/dev/null || echo {{.Wedge}})
` + rustWasmMake + `
{{.Name}}.wasm: Cargo.toml .cargo/config.toml $(wildcard src/*.rs)
	@test -n "$(RUSTC)" || { echo "no rustc with a wasm32-wasi standard library (apt-get install rustc cargo libstd-rust-dev-wasm32)"; exit 1; }
	RUSTC=$(RUSTC) $(CARGO) build --offline --release --target $(TARGET)
	cp target/$(TARGET)/release/{{.Crate}}.wasm $@

.PHONY: deploy clean
deploy: {{.Name}}.wasm
	$(WEDGE) deploy {{.Name}} {{.Name}}.wasm --route '{{.Route}}'

clean:
	rm -rf {{.Name}}.wasm target
`,
	"README.md": `# {{.Name}}

A wedge function written in Rust with the wedge crate ({{.SDK}}).

    make          # build {{.Name}}.wasm (cargo build --release --target wasm32-wasi)
    make deploy   # deploy it on the node at $WEDGE_ADMIN (default http://127.0.0.1:8081)
    curl http://127.0.0.1:8080{{.Try}}?name=you
    curl http://127.0.0.1:8080{{.Try}}/count

A panic answers 500 and its message is in the logs: ` + "`wedge logs {{.Name}} --follow`" + `.
`,
	".gitignore": "*.wasm\n/target\nCargo.lock\n",
}

var cScaffold = map[string]string{
	"main.c": `/* {{.Name}} is a wedge function written in C. Build it with make. */
#include "wedge.h"

/* count keeps a counter in the function's key-value namespace: state
 * lives outside the function, which starts fresh on every request. */
static int count(void) {
    int64_t n;
    int r = wedge_kv_increment(NULL, "visits", 1, &n);
    if (r < 0) {
        wedge_respond(503, NULL, wedge_strerror(r), strlen(wedge_strerror(r)));
        return 0;
    }
    wedge_respond(200, "application/json", NULL, 0);
    wedge_printf("{\"visits\":%lld}\n", (long long)n);
    return 0;
}

static int handle(wedge_request *req) {
    if (wedge_str_eq(req->path, "{{.Try}}/count")) return count();
    char *name = wedge_query_param(req, "name");
    const char *who = name && *name ? name : "world";
    wedge_infof("greeting %s", who);
    wedge_respond(200, "text/plain; charset=utf-8", NULL, 0);
    wedge_printf("hello, %s, from {{.Name}}\n", who);
    free(name);
    return 0;
}

WEDGE_HTTP_HANDLER(handle)
`,
	"Makefile": `# Build {{.Name}}.wasm with Debian's clang and wasi-libc (apt-get install
# clang lld wasi-libc libclang-rt-dev-wasm32). Debian's clang finds the
# wasm32-wasi headers and libraries by itself: no --sysroot.
WEDGE ?= $(shell command -v wedge 2>/dev/null || echo {{.Wedge}})
CLANG ?= clang
SDK ?= {{.SDK}}
CFLAGS ?= -O2 -Wall -Wextra

{{.Name}}.wasm: $(wildcard *.c *.h) $(SDK)/wedge.h
	$(CLANG) --target=wasm32-wasi -mexec-model=reactor -I$(SDK) $(CFLAGS) -Wl,--strip-all -o $@ $(wildcard *.c)

.PHONY: deploy clean
deploy: {{.Name}}.wasm
	$(WEDGE) deploy {{.Name}} {{.Name}}.wasm --route '{{.Route}}'

clean:
	rm -f {{.Name}}.wasm
`,
	"README.md": `# {{.Name}}

A wedge function written in C with the header-only SDK ({{.SDK}}/wedge.h).

    make          # build {{.Name}}.wasm (clang --target=wasm32-wasi -mexec-model=reactor)
    make deploy   # deploy it on the node at $WEDGE_ADMIN (default http://127.0.0.1:8081)
    curl http://127.0.0.1:8080{{.Try}}?name=you
    curl http://127.0.0.1:8080{{.Try}}/count

Logs (` + "`wedge_infof`" + `, stdout, stderr) are kept by the node: ` + "`wedge logs {{.Name}} --follow`" + `.
`,
	".gitignore": "*.wasm\n",
}
