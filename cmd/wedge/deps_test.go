package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNoPlottingLinked: the wedge binary links none of the benchmark
// suite's plotting, PDF, SVG and font packages; they live in the
// benchmarks module, behind wedge-bench (docs/RATIONALE.md, "Why is the
// benchmark suite its own module?").
func TestNoPlottingLinked(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 50 || !contains(deps, "github.com/wedge-run/wedge/internal/cli") {
		t.Fatalf("go list -deps listed %d packages, without internal/cli: %q", len(deps), out)
	}
	banned := []string{"gonum.org/v1/plot", "codeberg.org/go-pdf/", "codeberg.org/go-fonts/", "github.com/ajstarks/svgo", "github.com/wedge-run/wedge/benchmarks"}
	for _, p := range deps {
		for _, b := range banned {
			if strings.HasPrefix(p, b) {
				t.Errorf("cmd/wedge depends on %s", p)
			}
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
