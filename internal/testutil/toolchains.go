package testutil

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// RequireToolchainsEnv, set to "1" (as CI does), turns a missing guest
// toolchain (clang with wasi-libc, rustc with the wasm32 WASI standard
// library) from a skipped test into a failed one.
const RequireToolchainsEnv = "WEDGE_REQUIRE_TOOLCHAINS"

// requireToolchain skips t with the reason a toolchain is unusable, or
// fails it when RequireToolchainsEnv is "1".
func requireToolchain(t testing.TB, what string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if os.Getenv(RequireToolchainsEnv) == "1" {
		t.Fatalf("%s is required (%s=1) but unusable: %v", what, RequireToolchainsEnv, err)
	}
	t.Skipf("%s unusable: %v (install it, see sdk/README.md; set %s=1 to fail instead)", what, err, RequireToolchainsEnv)
}

var (
	cOnce sync.Once
	cErr  error
)

// probeC compiles and links a program using wasi-libc the way the SDK's
// Makefiles do, so that a missing clang, wasm-ld or sysroot is reported
// before a real build fails less clearly.
func probeC() error {
	clang, err := exec.LookPath("clang")
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "wedge-probe-c-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	src := filepath.Join(dir, "p.c")
	os.WriteFile(src, []byte("#include <stdio.h>\nint f(void) { return printf(\"x\"); }\n"), 0o644)
	cmd := exec.Command(clang, "--target=wasm32-wasi", "-mexec-model=reactor", "-o", filepath.Join(dir, "p.wasm"), src)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("clang --target=wasm32-wasi: %v: %s", err, strings.TrimSpace(string(out)))
	}
	return nil
}

// BuildC runs make in dir (relative to the repository root; a C SDK
// example with a Makefile taking WASM=) and returns the module. The test
// skips, or fails under WEDGE_REQUIRE_TOOLCHAINS=1, when clang or
// wasi-libc is missing.
func BuildC(t testing.TB, dir string) []byte {
	t.Helper()
	RequireC(t)
	return buildWithMake(t, dir, nil)
}

// RequireC skips t (or fails it, under WEDGE_REQUIRE_TOOLCHAINS=1) unless
// clang can build a module with wasi-libc.
func RequireC(t testing.TB) {
	t.Helper()
	cOnce.Do(func() { cErr = probeC() })
	requireToolchain(t, "clang with wasi-libc", cErr)
}

// Rust names the Rust toolchain that can build for WASI preview 1.
type Rust struct {
	Cargo, Rustc string
	Target       string // "wasm32-wasi" (Debian's rustc) or "wasm32-wasip1" (Rust 1.78 and later)
}

var (
	rustOnce sync.Once
	rust     Rust
	rustErr  error
)

// findRust looks for a cargo and rustc pair whose sysroot holds a WASI
// standard library: first the ones on PATH, then Debian's in /usr/bin
// (PATH may hold a rustup toolchain without wasm targets).
func findRust() (Rust, error) {
	var dirs []string
	if p, err := exec.LookPath("cargo"); err == nil {
		dirs = append(dirs, filepath.Dir(p))
	}
	dirs = append(dirs, "/usr/bin")
	var tried []string
	for _, d := range dirs {
		r := Rust{Cargo: filepath.Join(d, "cargo"), Rustc: filepath.Join(d, "rustc")}
		out, err := exec.Command(r.Rustc, "--print", "sysroot").Output()
		if err != nil {
			tried = append(tried, r.Rustc+": "+err.Error())
			continue
		}
		sysroot := strings.TrimSpace(string(out))
		for _, target := range []string{"wasm32-wasip1", "wasm32-wasi"} {
			if _, err := os.Stat(filepath.Join(sysroot, "lib", "rustlib", target, "lib")); err == nil {
				r.Target = target
				return r, nil
			}
		}
		tried = append(tried, r.Rustc+": no wasm32-wasi(p1) standard library in "+sysroot)
	}
	return Rust{}, fmt.Errorf("%s", strings.Join(tried, "; "))
}

// RustToolchain returns the Rust toolchain BuildRust uses, skipping (or
// failing, under WEDGE_REQUIRE_TOOLCHAINS=1) when there is none.
func RustToolchain(t testing.TB) Rust {
	t.Helper()
	rustOnce.Do(func() { rust, rustErr = findRust() })
	requireToolchain(t, "rustc and cargo with the wasm32 WASI std (libstd-rust-dev-wasm32)", rustErr)
	return rust
}

// BuildRust runs make in dir (relative to the repository root; a Rust SDK
// example whose Makefile takes WASM=, CARGO=, RUSTC=, TARGET= and
// CARGO_TARGET_DIR=) and returns the module.
func BuildRust(t testing.TB, dir string) []byte {
	t.Helper()
	r := RustToolchain(t)
	return buildWithMake(t, dir, []string{"CARGO=" + r.Cargo, "RUSTC=" + r.Rustc, "TARGET=" + r.Target,
		"CARGO_TARGET_DIR=" + filepath.Join(os.TempDir(), "wedge-test-cargo-target")})
}

// buildWithMake runs make WASM=<temp file> in dir, memoized per test binary.
func buildWithMake(t testing.TB, dir string, vars []string) []byte {
	t.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	key := "make:" + dir
	if b, ok := buildCache[key]; ok {
		return b
	}
	out := filepath.Join(t.TempDir(), "out.wasm")
	cmd := exec.Command("make", append([]string{"-s", "-B", "WASM=" + out}, vars...)...)
	cmd.Dir = filepath.Join(RepoRoot(t), dir)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building %s: %v\n%s", dir, err, msg)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	buildCache[key] = b
	return b
}

var (
	asOnce sync.Once
	asErr  error
)

// BuildAS runs make in dir (relative to the repository root; an
// AssemblyScript SDK example whose Makefile takes WASM=) and returns the
// module. The compiler is the one `npm install` puts in sdk/assemblyscript;
// without it (or node) the test skips, or fails under
// WEDGE_REQUIRE_TOOLCHAINS=1.
func BuildAS(t testing.TB, dir string) []byte {
	t.Helper()
	RequireAS(t)
	return buildWithMake(t, dir, nil)
}

// RequireAS skips t (or fails it, under WEDGE_REQUIRE_TOOLCHAINS=1) unless
// node and the AssemblyScript compiler in sdk/assemblyscript are there.
func RequireAS(t testing.TB) {
	t.Helper()
	asOnce.Do(func() {
		if _, err := exec.LookPath("node"); err != nil {
			asErr = err
			return
		}
		asc := filepath.Join(RepoRoot(t), "sdk", "assemblyscript", "node_modules", ".bin", "asc")
		if _, err := os.Stat(asc); err != nil {
			asErr = fmt.Errorf("%v (cd sdk/assemblyscript && npm install)", err)
		}
	})
	requireToolchain(t, "the AssemblyScript compiler", asErr)
}
