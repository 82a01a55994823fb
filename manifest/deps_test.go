package manifest_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestParsesWithoutTheServer checks that the manifest package links
// nothing of a node: no wasmtime (cgo), no bbolt, no cgo layer, no
// server package. A client that parses wedge.toml builds with
// CGO_ENABLED=0.
func TestParsesWithoutTheServer(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	for _, d := range deps {
		for _, banned := range []string{"wasmtime-go", "go.etcd.io/bbolt", "/internal/wasmpool", "github.com/wedge-run/wedge/internal/", "valyala/fasthttp"} {
			if strings.Contains(d, banned) {
				t.Errorf("manifest depends on %s (%s)", d, banned)
			}
		}
	}
	if len(deps) < 10 {
		t.Fatalf("go list -deps printed %d packages: %q", len(deps), out)
	}
	cmd := exec.Command("go", "build", "-o", "/dev/null", ".")
	cmd.Env = append(cmd.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("CGO_ENABLED=0 go build: %v\n%s", err, out)
	}
}
