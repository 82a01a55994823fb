package devloop

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/wedge-run/wedge/manifest"
)

// Project is what `wedge dev` builds and deploys: an app described by
// wedge.toml, or a single function.
type Project struct {
	Dir string
	// App is the loaded manifest; nil for a single function.
	App *manifest.App
	// Functions are the functions to build and deploy, sorted by name for
	// an app.
	Functions []*Function
}

// Function is one function of a project.
type Function struct {
	Name   string
	Routes []string
	// Module is the file the function is made from: the build's output,
	// a .wasm or JavaScript module, or a WAT source.
	Module string
	// Output is the file a build step writes (Module, for a Go, make or
	// manifest build); "" when nothing is written. Its changes are not
	// changes of the sources.
	Output string
	// Script is true for a JavaScript module.
	Script bool
	// Build produces the module's bytes.
	Build Builder
	// Root is the directory whose changes concern this function alone; ""
	// when any change in the project may (a single function, or an app's
	// function whose module lies in the app's own directory).
	Root string
	// Language names the kind of function in messages ("Go", "WAT", ...).
	Language string
}

var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// Load reads the project in dir: an app if dir holds wedge.toml, else a
// single function directory as `wedge init` makes it:
//
//   - go.mod: a Go function, built with go build for wasip1
//     (-buildmode=c-shared when it uses the wedge Go SDK, a WASI command
//     otherwise) into NAME.wasm;
//   - a Makefile that deploys a .js file (wedge init --lang js): that
//     JavaScript module, nothing to build;
//   - a Makefile (wedge init --lang rust|c|as): make NAME.wasm;
//   - exactly one .wat file: converted to a module in process;
//   - exactly one .js or .mjs file: deployed as is.
//
// The function's name and routes are the ones the Makefile's deploy line
// uses (`wedge deploy NAME FILE --route 'ROUTE'`), else the directory's
// name and /NAME/...; name and routes, when given, override them.
func Load(dir, name string, routes []string) (*Project, error) {
	if _, err := os.Stat(filepath.Join(dir, manifest.FileName)); err == nil {
		if name != "" || len(routes) > 0 {
			return nil, fmt.Errorf("%s: an app takes its functions' names and routes from %s, not from --name or --route", dir, manifest.FileName)
		}
		return loadApp(dir)
	}
	return loadFunction(dir, name, routes)
}

func loadApp(dir string) (*Project, error) {
	app, err := manifest.Load(dir)
	if err != nil {
		return nil, err
	}
	if err := app.ResolveSecrets(os.LookupEnv); err != nil {
		return nil, err
	}
	p := &Project{Dir: dir, App: app}
	for i := range app.Functions {
		mf := &app.Functions[i]
		f := &Function{Name: mf.Name, Routes: mf.Routes, Module: app.ModulePath(mf), Script: manifest.IsScript(mf.Module)}
		if cmd := mf.Build; cmd != "" {
			f.Build, f.Output, f.Language = shellBuilder{dir: app.Dir, command: cmd, module: f.Module}, f.Module, "built by `"+cmd+"`"
		} else {
			f.Build, f.Language = fileBuilder{path: f.Module}, "module"
			if f.Script {
				f.Language = "JavaScript"
			}
		}
		if d := filepath.Dir(f.Module); d != app.Dir {
			f.Root = d
		}
		p.Functions = append(p.Functions, f)
	}
	return p, nil
}

// makeDeployRE finds the deploy line of a Makefile `wedge init` wrote.
var (
	makeDeployRE = regexp.MustCompile(`(?m)(?:\$\(WEDGE\)|\bwedge)\s+deploy\s+([a-z0-9][a-z0-9_-]*)\s+(\S+\.(?:wasm|js|mjs))\b(.*)$`)
	makeRouteRE  = regexp.MustCompile(`--route[= ](?:'([^']*)'|"([^"]*)"|(\S+))`)
)

func loadFunction(dir, name string, routes []string) (*Project, error) {
	f := &Function{}
	var makeModule string
	makefile := filepath.Join(dir, "Makefile")
	if b, err := os.ReadFile(makefile); err == nil {
		if m := makeDeployRE.FindStringSubmatch(string(b)); m != nil {
			f.Name, makeModule = m[1], m[2]
			for _, r := range makeRouteRE.FindAllStringSubmatch(m[3], -1) {
				f.Routes = append(f.Routes, r[1]+r[2]+r[3])
			}
		}
	} else {
		makefile = ""
	}
	if f.Name == "" {
		f.Name = filepath.Base(dir)
	}
	if name != "" {
		f.Name = name
	}
	if !nameRE.MatchString(f.Name) {
		return nil, fmt.Errorf("%q is not a function name (1-63 of a-z 0-9 - _): pass --name NAME", f.Name)
	}
	if len(routes) > 0 {
		f.Routes = routes
	}
	if len(f.Routes) == 0 {
		f.Routes = []string{"/" + f.Name + "/..."}
	}
	out := filepath.Join(dir, f.Name+".wasm")
	if makeModule != "" {
		out = filepath.Join(dir, makeModule)
	}
	wats, _ := filepath.Glob(filepath.Join(dir, "*.wat"))
	scripts := globScripts(dir)
	switch {
	case exists(filepath.Join(dir, "go.mod")):
		f.Module, f.Output, f.Language = out, out, "Go"
		f.Build = newGoBuilder(dir, out)
	case makeModule != "" && manifest.IsScript(makeModule):
		f.Module, f.Script, f.Language = out, true, "JavaScript"
		f.Build = fileBuilder{path: out}
	case makefile != "":
		f.Module, f.Output, f.Language = out, out, "make"
		f.Build = shellBuilder{dir: dir, command: "make " + filepath.Base(out), module: out}
	case len(wats) == 1 && len(scripts) == 0:
		f.Module, f.Language = wats[0], "WAT"
		f.Build = watBuilder{path: wats[0]}
	case len(scripts) == 1 && len(wats) == 0:
		f.Module, f.Script, f.Language = scripts[0], true, "JavaScript"
		f.Build = fileBuilder{path: scripts[0]}
	default:
		return nil, errors.New(dir + ": nothing to build: want a " + manifest.FileName + ", a function directory made by `wedge init` (a Makefile, or go.mod), or exactly one .wat or .js file")
	}
	return &Project{Dir: dir, Functions: []*Function{f}}, nil
}

func globScripts(dir string) []string {
	a, _ := filepath.Glob(filepath.Join(dir, "*.js"))
	b, _ := filepath.Glob(filepath.Join(dir, "*.mjs"))
	return append(a, b...)
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// Function returns the project's function called name.
func (p *Project) Function(name string) *Function {
	for _, f := range p.Functions {
		if f.Name == name {
			return f
		}
	}
	return nil
}

// change is what a batch of changed paths means for a project.
type change struct {
	manifest  bool                 // wedge.toml changed: reload the app
	functions map[string]*Function // functions to rebuild
}

// classify maps changed paths to the functions they concern. A build's
// own output is no change; a file under a function's Root concerns that
// function (and those without a Root); any other file concerns every
// function.
func (p *Project) classify(paths []string) change {
	c := change{functions: map[string]*Function{}}
	for _, path := range paths {
		if p.App != nil && path == filepath.Join(p.Dir, manifest.FileName) {
			c.manifest = true
			continue
		}
		if p.output(path) {
			continue
		}
		var hit bool
		for _, f := range p.Functions {
			if f.Root != "" && within(f.Root, path) {
				c.functions[f.Name], hit = f, true
			}
		}
		for _, f := range p.Functions {
			if !hit || f.Root == "" {
				c.functions[f.Name] = f
			}
		}
	}
	return c
}

// output reports whether path is a module some build step writes, or a
// file the tool writes beside it while it does (go build probes the
// umask with NAME.wasm-go-tmp-umask, other tools write NAME.wasm.tmp).
func (p *Project) output(path string) bool {
	for _, f := range p.Functions {
		if f.Output != "" && strings.HasPrefix(path, f.Output) {
			return true
		}
	}
	return false
}

// within reports whether path is dir or lies below it.
func within(dir, path string) bool {
	return path == dir || strings.HasPrefix(path, dir+string(filepath.Separator))
}

// describe is the project's banner line.
func (p *Project) describe() string {
	if p.App == nil {
		f := p.Functions[0]
		return fmt.Sprintf("function %s (%s, %s) in %s", f.Name, f.Language, f.Build, p.Dir)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "app %s (%s), %d function(s):", p.App.Name, filepath.Join(p.Dir, manifest.FileName), len(p.Functions))
	for _, f := range p.Functions {
		fmt.Fprintf(&b, "\n  %-12s %s", f.Name, f.Build)
	}
	return b.String()
}

// tryPath turns a route into a path to request: /x/... becomes /x.
func tryPath(route string) string {
	if r, ok := strings.CutSuffix(route, "/..."); ok {
		if r == "" {
			return "/"
		}
		return r
	}
	return route
}
