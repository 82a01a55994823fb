package gateway

import (
	"fmt"
	"io"
	"mime/multipart"
	"slices"
	"sort"
	"strings"

	"github.com/valyala/fasthttp"
	"github.com/wedge-run/wedge/internal/registry"
	"github.com/wedge-run/wedge/manifest"
	"github.com/wedge-run/wedge/model"
)

// Apps:
//
//	PUT    /v1/apps/{app}   multipart: a "spec" part (the manifest's JSON spec) and
//	                        one "module/{function}" part per function; deploys them together
//	GET    /v1/apps         apps and their functions
//	GET    /v1/apps/{app}
//	DELETE /v1/apps/{app}   removes every function of the app
//	POST   /v1/apps/{app}/rollback  every function back to its version before the last app deploy
func (s *Server) apps(ctx *fasthttp.RequestCtx) {
	name := strings.Trim(strings.TrimPrefix(string(ctx.Path()), "/v1/apps"), "/")
	if app, ok := strings.CutSuffix(name, "/rollback"); ok && app != "" {
		s.rollbackApp(ctx, app)
		return
	}
	switch {
	case name == "" && ctx.IsGet():
		writeJSON(ctx, 200, map[string]any{"apps": visibleApps(ctx, s.appViews(""))})
	case name != "" && ctx.IsGet():
		v := visibleApps(ctx, s.appViews(name))
		if len(v) == 0 {
			writeJSONError(ctx, 404, "not_found", fmt.Sprintf("app %q not found", name))
			return
		}
		writeJSON(ctx, 200, v[0])
	case name != "" && ctx.IsPut():
		s.deployApp(ctx, name)
	case name != "" && ctx.IsDelete():
		if !functionsAllowed(ctx, s.appFunctions(name)...) {
			return
		}
		changes, err := s.reg.DeployApp(ctx, name, nil, nil)
		if err != nil {
			WriteError(ctx, err)
			return
		}
		writeJSON(ctx, 200, map[string]any{"app": name, "changes": changes})
	default:
		methodNotAllowed(ctx, "GET, PUT, DELETE")
	}
}

type appView struct {
	Name      string         `json:"name"`
	Functions []FunctionView `json:"functions"`
	Buckets   []model.Bucket `json:"buckets,omitempty"`
}

// appFunctions names the functions of app.
func (s *Server) appFunctions(app string) []string {
	var out []string
	for _, r := range s.reg.List() {
		if r.App == app {
			out = append(out, r.Name)
		}
	}
	return out
}

func (s *Server) appViews(only string) []appView {
	byApp := map[string][]FunctionView{}
	for _, f := range s.functionViews() {
		if f.App != "" && (only == "" || f.App == only) {
			byApp[f.App] = append(byApp[f.App], f)
		}
	}
	buckets := map[string][]model.Bucket{}
	for _, a := range s.reg.Apps() {
		buckets[a.Name] = a.Buckets
	}
	out := []appView{}
	for name, fns := range byApp {
		out = append(out, appView{Name: name, Functions: fns, Buckets: buckets[name]})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func (s *Server) deployApp(ctx *fasthttp.RequestCtx, name string) {
	form, err := ctx.MultipartForm()
	if err != nil {
		writeJSONError(ctx, 400, "invalid_request", "want multipart/form-data with a spec part and module/NAME parts: "+err.Error())
		return
	}
	defer ctx.Request.RemoveMultipartFormFiles()
	read := func(fh *multipart.FileHeader) ([]byte, error) {
		f, err := fh.Open()
		if err != nil {
			return nil, err
		}
		defer f.Close()
		return io.ReadAll(f)
	}
	var spec []byte
	if v := form.Value["spec"]; len(v) == 1 {
		spec = []byte(v[0])
	} else if f := form.File["spec"]; len(f) == 1 {
		if spec, err = read(f[0]); err != nil {
			WriteError(ctx, err)
			return
		}
	} else {
		writeJSONError(ctx, 400, "invalid_request", "missing the spec part")
		return
	}
	app, err := manifest.ParseSpec(spec)
	if err != nil {
		writeJSONError(ctx, 400, "invalid_manifest", err.Error())
		return
	}
	if app.Name != name {
		writeJSONError(ctx, 400, "invalid_manifest", fmt.Sprintf("the spec describes app %q, not %q", app.Name, name))
		return
	}
	touched := s.appFunctions(name)
	for _, f := range app.Functions {
		touched = append(touched, f.Name)
	}
	if !functionsAllowed(ctx, touched...) {
		return
	}
	var reqs []registry.DeployRequest
	specs := app.Model().Functions
	for i, f := range app.Functions {
		parts := form.File["module/"+f.Name]
		if len(parts) != 1 {
			writeJSONError(ctx, 400, "invalid_request", fmt.Sprintf("missing the module of function %q (part module/%s)", f.Name, f.Name))
			return
		}
		wasm, err := read(parts[0])
		if err != nil {
			WriteError(ctx, err)
			return
		}
		if len(wasm) > s.cfg.MaxModuleBytes {
			writeJSONError(ctx, 413, "too_large", fmt.Sprintf("module of %q is %d bytes; the limit is %d", f.Name, len(wasm), s.cfg.MaxModuleBytes))
			return
		}
		reqs = append(reqs, registry.DeployRequest{FunctionSpec: specs[i], Wasm: wasm, JS: manifest.IsScript(f.Module),
			Info: model.VersionInfo{DeployedBy: TokenName(ctx)}, Traffic: f.Traffic})
	}
	dctx := requestContext(ctx)
	s.runDeploy(ctx, func(say func(string, string)) (int, any, error) { // admin_progress.go
		for i := range reqs {
			fn := reqs[i].Name
			reqs[i].Progress = func(phase string) { say(fn, phase) }
		}
		changes, err := s.reg.DeployApp(dctx, name, app.Buckets, reqs)
		if err != nil {
			return 0, nil, err
		}
		for _, c := range changes {
			if c.Action == "created" || c.Action == "updated" {
				say(c.Function, "ready")
			}
		}
		return 200, map[string]any{"app": name, "changes": changes}, nil
	})
}

// visibleApps keeps, of each app, the functions the request's token sees
// (admin_scope.go), and leaves out the apps with none.
func visibleApps(ctx *fasthttp.RequestCtx, apps []appView) []appView {
	if _, ok := restriction(ctx); !ok {
		return apps
	}
	out := []appView{}
	for _, a := range apps {
		a.Functions = slices.DeleteFunc(a.Functions, func(f FunctionView) bool { return !sees(ctx, f.Name) })
		if len(a.Functions) > 0 {
			out = append(out, a)
		}
	}
	return out
}
