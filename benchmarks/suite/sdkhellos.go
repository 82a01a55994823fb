package suite

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/wedge-run/wedge/abi"
)

// The SDK hellos: the C, Rust and AssemblyScript SDK examples
// (sdk/<lang>/examples/hello, the guests of the conformance suite), built
// with their own Makefiles and toolchains, measured through their hello
// route: GET <route>/hello?name=bench answers "hello, bench\n". They are
// the wedge-c, wedge-rust and wedge-as series of the HTTP scenario and the
// c-hello, rust-hello and as-hello guests of the in-process one.
type sdkHello struct {
	series   string // HTTP series
	guest    string // in-process guest, also the function's name and route
	artifact string
	dir      string // the example, in the source checkout
}

// Series and guests of the SDK hellos.
const (
	SeriesWedgeC    = "wedge-c"    // wedge node, sdk/c/examples/hello
	SeriesWedgeRust = "wedge-rust" // wedge node, sdk/rust/examples/hello
	SeriesWedgeAS   = "wedge-as"   // wedge node, sdk/assemblyscript/examples/hello
	GuestCHello     = "c-hello"
	GuestRustHello  = "rust-hello"
	GuestASHello    = "as-hello"
)

var sdkHellos = []sdkHello{
	{SeriesWedgeC, GuestCHello, "c-hello.wasm", "sdk/c/examples/hello"},
	{SeriesWedgeRust, GuestRustHello, "rust-hello.wasm", "sdk/rust/examples/hello"},
	{SeriesWedgeAS, GuestASHello, "as-hello.wasm", "sdk/assemblyscript/examples/hello"},
}

// sdkHelloPath and sdkHelloBody: the request each SDK hello gets, after
// its route, and its answer.
const (
	sdkHelloPath = "/hello?name=bench"
	sdkHelloBody = "hello, bench\n"
)

func sdkHelloByArtifact(artifact string) (sdkHello, bool) {
	for _, h := range sdkHellos {
		if h.artifact == artifact {
			return h, true
		}
	}
	return sdkHello{}, false
}

func sdkHelloBySeries(series string) (sdkHello, bool) {
	for _, h := range sdkHellos {
		if h.series == series {
			return h, true
		}
	}
	return sdkHello{}, false
}

func sdkHelloByGuest(guest string) (sdkHello, bool) {
	for _, h := range sdkHellos {
		if h.guest == guest {
			return h, true
		}
	}
	return sdkHello{}, false
}

// sdkHelloHead is the encoded head of the SDK hellos' in-process request.
func sdkHelloHead(h sdkHello) []byte {
	var b []byte
	for _, s := range []string{"GET", "/" + h.guest + sdkHelloPath, "127.0.0.1", "127.0.0.1:1", "bench", "/" + h.guest + "/..."} {
		b = abi.AppendString(b, s)
	}
	return abi.AppendU32(b, 0)
}

// sdkToolchain reports why h cannot be built here (nil if it can): make,
// and Debian's clang with wasi-libc for C, a rustc with the wasm32 WASI
// standard library and its cargo for Rust, the AssemblyScript compiler
// npm installed in sdk/assemblyscript for AS.
func (e *Env) sdkToolchain(h sdkHello) (vars []string, err error) {
	src, err := e.sourceDir()
	if err != nil {
		return nil, err
	}
	if _, err := exec.LookPath("make"); err != nil {
		return nil, fmt.Errorf("%w: no make in PATH", ErrNoSource)
	}
	switch h.series {
	case SeriesWedgeC:
		if _, err := exec.LookPath("clang"); err != nil {
			return nil, fmt.Errorf("%w: no clang in PATH (apt-get install clang lld wasi-libc libclang-rt-dev-wasm32)", ErrNoSource)
		}
	case SeriesWedgeRust:
		rustc, target := wasmRustc()
		if rustc == "" {
			return nil, fmt.Errorf("%w: no rustc with a wasm32 WASI standard library (apt-get install rustc cargo libstd-rust-dev-wasm32)", ErrNoSource)
		}
		vars = []string{"RUSTC=" + rustc, "CARGO=" + filepath.Join(filepath.Dir(rustc), "cargo"), "TARGET=" + target,
			"CARGO_TARGET_DIR=" + filepath.Join(e.workDir, "cargo-target")}
	case SeriesWedgeAS:
		if _, err := exec.LookPath("node"); err != nil {
			return nil, fmt.Errorf("%w: no node in PATH for the AssemblyScript compiler", ErrNoSource)
		}
		if !fileExists(filepath.Join(src, "sdk", "assemblyscript", "node_modules", ".bin", "asc")) {
			return nil, fmt.Errorf("%w: no AssemblyScript compiler (cd sdk/assemblyscript && npm install)", ErrNoSource)
		}
	}
	return vars, nil
}

// wasmRustc finds a rustc whose sysroot has a wasm32 WASI standard
// library, as the example's Makefile does: the one on PATH, else
// Debian's; and the target's name ("wasm32-wasip1" since Rust 1.78).
func wasmRustc() (rustc, target string) {
	for _, r := range []string{"rustc", "/usr/bin/rustc"} {
		p, err := exec.LookPath(r)
		if err != nil {
			continue
		}
		out, err := exec.Command(p, "--print", "sysroot").Output()
		if err != nil {
			continue
		}
		root := filepath.Join(strings.TrimSpace(string(out)), "lib", "rustlib")
		for _, t := range []string{"wasm32-wasip1", "wasm32-wasi"} {
			if fi, err := os.Stat(filepath.Join(root, t)); err == nil && fi.IsDir() {
				return p, t
			}
		}
	}
	return "", ""
}

// buildSDKHello runs the example's Makefile with WASM=out.
func (e *Env) buildSDKHello(ctx context.Context, h sdkHello, out string) error {
	vars, err := e.sdkToolchain(h)
	if err != nil {
		return err
	}
	src, err := e.sourceDir()
	if err != nil {
		return err
	}
	args := append([]string{"make", "-s", "-B", "WASM=" + out}, vars...)
	cmd, _ := e.command(ctx, e.origCPUs, args...)
	cmd.Dir = filepath.Join(src, h.dir)
	if msg, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s: make: %v: %s", h.dir, err, lastLines(string(msg), 5))
	}
	if !fileExists(out) {
		return errors.New(h.dir + ": make wrote no module")
	}
	return nil
}

// sdkHelloWasm returns the built module of h.
func (e *Env) sdkHelloWasm(ctx context.Context, h sdkHello) ([]byte, error) {
	p, err := e.artifact(ctx, h.artifact)
	if err != nil {
		return nil, err
	}
	return os.ReadFile(p)
}
