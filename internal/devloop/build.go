package devloop

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// Builder produces a function's deployable bytes from its sources.
type Builder interface {
	// Build returns the module (or script) to deploy.
	Build(ctx context.Context) ([]byte, error)
	// String says what Build does, for messages ("go build", "make x.wasm").
	String() string
}

// errSyntax is the cause of a build that a source's syntax error stopped.
var errSyntax = errors.New("syntax error")

// BuildError is a failed build: the tool's own words in Output.
type BuildError struct {
	What   string // the builder, as its String
	Output string // what the tool printed, trimmed
	Err    error
}

func (e *BuildError) Error() string {
	if e.Output == "" {
		return fmt.Sprintf("%s: %v", e.What, e.Err)
	}
	return fmt.Sprintf("%s: %v\n%s", e.What, e.Err, e.Output)
}

func (e *BuildError) Unwrap() error { return e.Err }

// run runs cmd, collecting its output for a BuildError, and then reads
// the module it wrote.
func run(cmd *exec.Cmd, what, module string) ([]byte, error) {
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return nil, &BuildError{What: what, Output: strings.TrimSpace(out.String()), Err: err}
	}
	b, err := os.ReadFile(module)
	if err != nil {
		return nil, &BuildError{What: what, Output: strings.TrimSpace(out.String()), Err: fmt.Errorf("the build succeeded but wrote no module: %w", err)}
	}
	return b, nil
}

// fileBuilder deploys a file as it is: a JavaScript module, or a module
// something else builds.
type fileBuilder struct{ path string }

func (b fileBuilder) Build(context.Context) ([]byte, error) {
	data, err := os.ReadFile(b.path)
	if err != nil {
		return nil, &BuildError{What: b.String(), Err: err}
	}
	return data, nil
}

func (b fileBuilder) String() string { return "no build step: deploys " + base(b.path) }

// shellBuilder runs a shell command (the manifest's build, or make) in a
// directory and reads the module it writes.
type shellBuilder struct{ dir, command, module string }

func (b shellBuilder) Build(ctx context.Context) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "sh", "-c", b.command)
	cmd.Dir = b.dir
	return run(cmd, b.String(), b.module)
}

func (b shellBuilder) String() string { return b.command }
