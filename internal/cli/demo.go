package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/bytecodealliance/wasmtime-go/v39"
	"github.com/wedge-run/wedge/examples"
	"github.com/wedge-run/wedge/internal/node"
	"github.com/wedge-run/wedge/internal/registry"
	"github.com/wedge-run/wedge/model"
)

// demoFunction is an example deployed by `serve --demo`.
type demoFunction struct {
	name   string
	file   string // under the examples dir; "" = embedded
	routes []string
	try    string // a path to show
}

var demoFunctions = []demoFunction{
	{name: "hello", routes: []string{"/hello"}, try: "/hello"},
	{name: "go-cgi", file: "go-cgi/go-cgi.wasm", routes: []string{"/cgi/..."}, try: "/cgi/demo?x=1"},
	{name: "go-hello", file: "go-hello/go-hello.wasm", routes: []string{"/go/hello"}, try: "/go/hello?name=newcomer"},
	{name: "go-echo", file: "go-echo/go-echo.wasm", routes: []string{"/echo/..."}, try: "/echo/anything?x=1"},
	{name: "go-api", file: "go-api/go-api.wasm", routes: []string{"/api/..."}, try: "/api/notes"},
}

// deployDemo deploys the embedded examples and every built example found
// under dir, then prints URLs to try.
func deployDemo(e *env, n *node.Node, dir string) error {
	fmt.Fprintf(e.stdout, "demo functions:\n")
	for _, d := range demoFunctions {
		var wasm []byte
		var err error
		if d.file == "" {
			wasm, err = wasmtime.Wat2Wasm(examples.HelloWAT)
		} else {
			if dir == "embedded" {
				continue
			}
			wasm, err = os.ReadFile(filepath.Join(dir, d.file))
			if errors.Is(err, os.ErrNotExist) {
				fmt.Fprintf(e.stdout, "  %-9s skipped: %s is not built (run examples/build.sh)\n", d.name, filepath.Join(dir, d.file))
				continue
			}
		}
		if err != nil {
			return fmt.Errorf("demo %s: %w", d.name, err)
		}
		req := registry.DeployRequest{FunctionSpec: model.FunctionSpec{Name: d.name, Routes: d.routes}, Wasm: wasm}
		// Unchanged since the last start: keep it (and its version).
		if rec, same := n.Registry.Unchanged(req); same {
			fmt.Fprintf(e.stdout, "  %-9s unchanged (version %d)  curl '%s%s'\n", d.name, rec.Version, n.PublicURL(), d.try)
			continue
		}
		// Compiling (and pre-initializing) a Go module takes seconds:
		// say so before, not after.
		fmt.Fprintf(e.stdout, "  %-9s compiling %s ...\n", d.name, size(len(wasm)))
		start := time.Now()
		rec, _, err := n.Registry.Deploy(e.ctx, req)
		if err != nil {
			// A function of the user's holds the route, say: the node
			// serves it, and the demo goes without this one.
			fmt.Fprintf(e.stdout, "  %-9s skipped: %v\n", d.name, err)
			continue
		}
		fmt.Fprintf(e.stdout, "  %-9s ready in %.1fs (version %d)  curl '%s%s'\n", d.name, time.Since(start).Seconds(), rec.Version, n.PublicURL(), d.try)
	}
	return nil
}
