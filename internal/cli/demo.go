package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

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
		if _, _, err := n.Registry.Deploy(registry.DeployRequest{FunctionSpec: model.FunctionSpec{Name: d.name, Routes: d.routes}, Wasm: wasm}); err != nil {
			return fmt.Errorf("demo %s: %w", d.name, err)
		}
		fmt.Fprintf(e.stdout, "  %-9s curl '%s%s'\n", d.name, n.PublicURL(), d.try)
	}
	return nil
}
