package cli

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"text/template"
)

const sdkModule = "github.com/wedge-run/wedge/sdk/go"

// cmdInit scaffolds a function project that builds and deploys as is.
func cmdInit(e *env, args []string) error {
	fs := newFlags("init", e)
	lang := fs.String("lang", "go", "language of the function (go, rust, c, as, js)")
	sdk := fs.String("sdk", "", "`path` of the language's SDK (sdk/go, sdk/rust, sdk/c or sdk/assemblyscript in the wedge repository; for Go also env WEDGE_SDK; default: found next to the wedge binary or above the current directory)")
	route := fs.String("route", "", "route the function will serve (default /NAME/...)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return errUsage
	}
	name := pos[0]
	if !regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`).MatchString(filepath.Base(name)) {
		return fmt.Errorf("%q: a function name is 1-63 lower-case letters, digits, '-' or '_'", name)
	}
	sc, ok := scaffolds[*lang]
	if !ok {
		return fmt.Errorf("--lang %s: init knows go, rust, c, as and js; any language that builds a WASI module can be deployed (see abi/README.md)", *lang)
	}
	if *sdk == "" && *lang == "go" {
		*sdk = os.Getenv("WEDGE_SDK")
	}
	sdkPath, err := sc.find(*sdk)
	if err != nil {
		return err
	}
	if _, err := os.Stat(name); err == nil {
		return fmt.Errorf("%s already exists", name)
	}
	self, _ := os.Executable()
	base := filepath.Base(name)
	data := map[string]string{
		"Name": base, "SDK": sdkPath, "Module": sdkModule, "Wedge": self,
		"ABI":   filepath.Join(sdkPath, "..", "..", "abi"), // the SDK's one dependency, beside it in the repository
		"Route": *route, "Try": "/" + base, "Crate": strings.ReplaceAll(base, "-", "_"),
	}
	if abs, err := filepath.Abs(name); err == nil {
		if rel, err := filepath.Rel(abs, sdkPath); err == nil {
			data["SDKRel"] = filepath.ToSlash(rel)
		}
	}
	if *lang == "rust" && data["Crate"] == "wedge" {
		return fmt.Errorf("%q: a Rust function cannot be called like the SDK crate it uses", name)
	}
	if data["Route"] == "" {
		data["Route"] = "/" + base + "/..."
	}
	if err := os.MkdirAll(name, 0o755); err != nil {
		return err
	}
	for file, tmpl := range sc.files {
		if err := os.MkdirAll(filepath.Join(name, filepath.Dir(file)), 0o755); err != nil {
			return err
		}
		var buf bytes.Buffer
		if err := template.Must(template.New(file).Parse(tmpl)).Execute(&buf, data); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(name, file), buf.Bytes(), 0o644); err != nil {
			return err
		}
	}
	if sc.next != "" {
		data["Dir"] = name
		return template.Must(template.New("next").Parse(sc.next)).Execute(e.stdout, data)
	}
	fmt.Fprintf(e.stdout, "created %s/ (%s function using the SDK at %s)\n\n", name, sc.language, sdkPath)
	fmt.Fprintf(e.stdout, "  cd %s\n  make            # builds %s.wasm\n  make deploy     # wedge deploy %s %s.wasm --route '%s'\n  curl http://127.0.0.1:8080%s\n",
		name, base, base, base, data["Route"], data["Try"])
	return nil
}

// findSDK locates sdk/go: the flag, next to the binary (bin/../sdk/go),
// or in the current directory or one of its parents.
func findSDK(flagPath string) (string, error) {
	return findSDKDir(flagPath, "go", "Go", func(dir string) bool {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		return err == nil && strings.Contains(string(b), "module "+sdkModule)
	})
}

// findSDKDir locates sdk/<sub> as findSDK does, accepting a directory
// for which is returns true.
func findSDKDir(flagPath, sub, language string, is func(dir string) bool) (string, error) {
	var candidates []string
	if flagPath != "" {
		candidates = append(candidates, flagPath)
	} else {
		if exe, err := os.Executable(); err == nil {
			candidates = append(candidates, filepath.Join(filepath.Dir(exe), "..", "sdk", sub))
		}
		if wd, err := os.Getwd(); err == nil {
			for d := wd; ; d = filepath.Dir(d) {
				candidates = append(candidates, filepath.Join(d, "sdk", sub))
				if filepath.Dir(d) == d {
					break
				}
			}
		}
	}
	for _, c := range candidates {
		if is(c) {
			return filepath.Abs(c)
		}
	}
	if flagPath != "" {
		return "", fmt.Errorf("--sdk %s: not the %s SDK (sdk/%s of the wedge repository)", flagPath, language, sub)
	}
	hint := "pass --sdk PATH"
	if sub == "go" {
		hint += " or set WEDGE_SDK"
	}
	return "", fmt.Errorf("cannot find the %s SDK (sdk/%s of the wedge repository): %s", language, sub, hint)
}

var goScaffold = map[string]string{
	"go.mod": `module {{.Name}}

go 1.24

require (
	{{.Module}} v0.0.0
	github.com/wedge-run/wedge/abi v0.0.0 // indirect
)

replace (
	{{.Module}} => {{.SDK}}
	github.com/wedge-run/wedge/abi => {{.ABI}}
)
`,
	"main.go": `// Command {{.Name}} is a wedge function: a plain net/http handler compiled
// to WebAssembly. Build it with make (see Makefile).
package main

import (
	"encoding/json"
	"fmt"
	"net/http"

	wedge "{{.Module}}"
)

func init() {
	// Handlers are registered in init: a -buildmode=c-shared module runs
	// init functions when it starts, and never calls main.
	mux := http.NewServeMux()
	mux.HandleFunc("GET {{.Try}}", hello)
	mux.HandleFunc("GET {{.Try}}/count", count)
	wedge.Handle(mux)
}

func hello(w http.ResponseWriter, r *http.Request) {
	name := r.URL.Query().Get("name")
	if name == "" {
		name = "world"
	}
	wedge.Logger().Info("greeting", "name", name)
	fmt.Fprintf(w, "hello, %s, from {{.Name}}\n", name)
}

// count keeps a counter in the function's key-value namespace: state
// lives outside the function, which starts fresh on every request.
func count(w http.ResponseWriter, r *http.Request) {
	n, err := wedge.KV("").Increment("visits", 1)
	if err != nil {
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]int64{"visits": n})
}

func main() {}
`,
	"Makefile": `# Build {{.Name}}.wasm with the standard Go toolchain.
WEDGE ?= $(shell command -v wedge 2>/dev/null || echo {{.Wedge}})

{{.Name}}.wasm: $(wildcard *.go) go.mod
	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -trimpath -ldflags="-s -w" -o $@ .

.PHONY: deploy clean
deploy: {{.Name}}.wasm
	$(WEDGE) deploy {{.Name}} {{.Name}}.wasm --route '{{.Route}}'

clean:
	rm -f {{.Name}}.wasm
`,
	"README.md": `# {{.Name}}

A wedge function written in Go with the wedge SDK: a plain ` + "`net/http`" + ` handler.

    make          # build {{.Name}}.wasm (GOOS=wasip1 GOARCH=wasm, -buildmode=c-shared)
    make deploy   # deploy it on the node at $WEDGE_ADMIN (default http://127.0.0.1:8081)
    curl http://127.0.0.1:8080{{.Try}}?name=you
    curl http://127.0.0.1:8080{{.Try}}/count

Register handlers in ` + "`init`" + `, not ` + "`main`" + `: the module is a WASI reactor whose
` + "`main`" + ` never runs. Logs (` + "`log`, `slog`" + `, stdout, stderr) are kept by the node:
` + "`wedge logs {{.Name}} --follow`" + `.
`,
	".gitignore": "*.wasm\n",
}
