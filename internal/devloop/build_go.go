package devloop

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"strings"
)

// sdkModule is the wedge Go SDK: a module that requires it is a reactor.
const sdkModule = "github.com/wedge-run/wedge/sdk/go"

// goBuilder builds a Go function for GOOS=wasip1 with the go command on
// PATH: a reactor (-buildmode=c-shared) when it uses the wedge SDK, as
// `wedge init --lang go` and the examples build it, a WASI command (a
// CGI-style function) otherwise. Go's build cache makes a rebuild after a
// small edit cost about what compiling the edited package and linking do.
type goBuilder struct {
	dir, out string
	reactor  bool
}

func newGoBuilder(dir, out string) goBuilder {
	mod, _ := os.ReadFile(filepath.Join(dir, "go.mod"))
	return goBuilder{dir: dir, out: out, reactor: strings.Contains(string(mod), sdkModule)}
}

func (b goBuilder) Build(ctx context.Context) ([]byte, error) {
	args := []string{"build", "-trimpath", "-ldflags=-s -w", "-o", b.out}
	if b.reactor {
		args = append(args, "-buildmode=c-shared")
	}
	cmd := exec.CommandContext(ctx, goCommand(), append(args, ".")...)
	cmd.Dir = b.dir
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
	return run(cmd, b.String(), b.out)
}

func (b goBuilder) String() string {
	if b.reactor {
		return "GOOS=wasip1 go build -buildmode=c-shared"
	}
	return "GOOS=wasip1 go build"
}

// goCommand is the go command on PATH, else the one of the toolchain
// that built wedge.
func goCommand() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	if p := filepath.Join(goruntime.GOROOT(), "bin", "go"); exists(p) {
		return p
	}
	return "go"
}
