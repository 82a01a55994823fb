package wasmpool

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestLinkNormalBinary builds and runs testdata/linkcheck with a plain
// `go build`. This package calls wasmtime symbols that only wasmtime-go's
// cgo LDFLAGS bring in; the test proves an ordinary program links them,
// and that its engine identity names the linked wasmtime-go version and
// go.sum hash (a test binary's build information lists no dependencies).
func TestLinkNormalBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary")
	}
	bin := filepath.Join(t.TempDir(), "linkcheck")
	build := exec.Command("go", "build", "-o", bin, "./testdata/linkcheck")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "ok" {
		t.Fatalf("linkcheck: %v\n%s", err, out)
	}
}
