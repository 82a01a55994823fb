package testutil

import (
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"sync"
	"testing"
)

var (
	buildMu    sync.Mutex
	buildCache = map[string][]byte{}
)

// RepoRoot returns the repository root (the directory holding go.mod).
func RepoRoot(t testing.TB) string {
	t.Helper()
	_, file, _, _ := goruntime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// BuildGoWasm builds the Go program in dir (relative to the repo root)
// for wasip1 and returns the module. reactor selects -buildmode=c-shared
// (SDK functions); otherwise a WASI command is built. Builds are memoized
// per test binary, and Go's build cache makes repeated builds cheap.
func BuildGoWasm(t testing.TB, dir string, reactor bool) []byte {
	t.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	key := dir
	if reactor {
		key += "#reactor"
	}
	if b, ok := buildCache[key]; ok {
		return b
	}
	out := filepath.Join(t.TempDir(), "out.wasm")
	args := []string{"build", "-trimpath", "-o", out}
	if reactor {
		args = append(args, "-buildmode=c-shared")
	}
	args = append(args, ".")
	cmd := exec.Command(goBinary(), args...)
	cmd.Dir = filepath.Join(RepoRoot(t), dir)
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
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

func goBinary() string {
	p := filepath.Join(goruntime.GOROOT(), "bin", "go")
	if _, err := os.Stat(p); err == nil {
		return p
	}
	return "go"
}
