package suite

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/bytecodealliance/wasmtime-go/v39"
	"github.com/wedge-run/wedge/client"
)

// Series of the HTTP scenario, in report order.
const (
	SeriesWedgeWAT    = "wedge-wat"    // wedge node, examples/hello-wat
	SeriesWedgeWASI   = "wedge-wasi"   // wedge node, a minimal WASI command (CGI; WASICommandWAT)
	SeriesWedgeGo     = "wedge-go"     // wedge node, examples/go-hello (Go SDK)
	SeriesWedgeJS     = "wedge-js"     // wedge node, a JavaScript fetch handler (the workerd-js script)
	SeriesFasthttp    = "fasthttp"     // benchmarks/cmd/baseline --server fasthttp (the baseline)
	SeriesNetHTTP     = "net/http"     // benchmarks/cmd/baseline --server nethttp
	SeriesWazero      = "wazero"       // benchmarks/cmd/wazero-baseline
	SeriesWorkerdJS   = "workerd-js"   // workerd, a JS fetch handler
	SeriesWorkerdWasm = "workerd-wasm" // workerd, the WAT hello instantiated per request from JS
)

// AllSeries lists the HTTP scenario's series in report order.
var AllSeries = []string{SeriesWedgeWAT, SeriesWedgeWASI, SeriesWedgeWATTraced, SeriesWedgeGo, SeriesWedgeJS, SeriesWedgeC, SeriesWedgeRust, SeriesWedgeAS, SeriesFasthttp, SeriesNetHTTP, SeriesWazero, SeriesWorkerdJS, SeriesWorkerdWasm}

// helloBody is what every server of the HTTP scenario answers.
const helloBody = "hello from wedge\n"

// serverStartTimeout bounds the start of one server (a Go SDK guest is
// compiled on deploy, which takes seconds on one core).
const serverStartTimeout = 2 * time.Minute

// serverGroup starts the servers of one or more series together (one
// wedge node serves two series; one workerd process serves two).
type serverGroup struct {
	name     string
	series   []string
	estimate time.Duration
	// prepare lists steps (builds) to run before the group starts.
	prepare []Step
	// start starts the servers and returns a URL per series it could
	// serve, and for the others why not.
	start func(ctx context.Context) (urls map[string]string, failed map[string]error)
	// stop stops what start started.
	stop func() error
}

// want reports whether series is selected by Options.Servers.
func (e *Env) want(series string) bool {
	if len(e.opts.Servers) == 0 {
		return true
	}
	for _, s := range e.opts.Servers {
		if s == series {
			return true
		}
	}
	return false
}

// httpGroups returns the server groups for the selected series. Series
// that cannot run here (nothing to build them with, workerd not
// installed) are left out with a note.
func (e *Env) httpGroups(scenario string) []*serverGroup {
	// available notes why series cannot run and reports whether it can.
	available := func(series string, err error) bool {
		if !e.want(series) {
			return false
		}
		if err != nil {
			e.note(scenario, fmt.Sprintf("%s not measured: %v", series, err))
			return false
		}
		return true
	}
	var groups []*serverGroup
	var wedgeSeries []string
	if available(SeriesWedgeWAT, nil) {
		wedgeSeries = append(wedgeSeries, SeriesWedgeWAT)
	}
	if available(SeriesWedgeWASI, nil) {
		wedgeSeries = append(wedgeSeries, SeriesWedgeWASI)
	}
	if !e.opts.SkipGoHello && available(SeriesWedgeGo, e.canBuild(artifactGoHello)) {
		wedgeSeries = append(wedgeSeries, SeriesWedgeGo)
	}
	if available(SeriesWedgeJS, nil) {
		wedgeSeries = append(wedgeSeries, SeriesWedgeJS)
	}
	for _, h := range sdkHellos {
		if e.want(h.series) && available(h.series, e.canBuild(h.artifact)) {
			wedgeSeries = append(wedgeSeries, h.series)
		}
	}
	if len(wedgeSeries) > 0 {
		groups = append(groups, e.wedgeGroup(scenario, wedgeSeries))
	}
	if e.opts.Target == "" && available(SeriesWedgeWATTraced, nil) {
		groups = append(groups, e.tracedGroup())
	}
	if available(SeriesFasthttp, e.canBuild(artifactBaseline)) {
		groups = append(groups, e.baselineGroup(scenario, SeriesFasthttp, "fasthttp"))
	}
	if available(SeriesNetHTTP, e.canBuild(artifactBaseline)) {
		groups = append(groups, e.baselineGroup(scenario, SeriesNetHTTP, "nethttp"))
	}
	if available(SeriesWazero, e.canBuild(artifactWazero)) {
		groups = append(groups, e.wazeroGroup(scenario))
	}
	var werr error
	if !e.opts.InstallPeers {
		werr = e.workerdInstalled()
	}
	var wd []string
	for _, s := range []string{SeriesWorkerdJS, SeriesWorkerdWasm} {
		if available(s, werr) {
			wd = append(wd, s)
		}
	}
	if len(wd) > 0 {
		groups = append(groups, e.workerdGroup(scenario, wd))
	}
	return groups
}

// allFailed maps every series to err.
func allFailed(series []string, err error) map[string]error {
	m := map[string]error{}
	for _, s := range series {
		m[s] = err
	}
	return m
}

// wedgeGroup is a wedge node serving the WAT hello at /wat-hello, the
// minimal WASI command at /wasi-hello, the Go SDK hello at /go-hello,
// the JavaScript hello at /js-hello and the SDK hellos, deployed through
// the admin API: a node the suite starts, or the node of Options.Target.
func (e *Env) wedgeGroup(scenario string, series []string) *serverGroup {
	g := &serverGroup{name: "wedge node", series: series, estimate: 2 * time.Second}
	wantGo := false
	for _, s := range series {
		if s == SeriesWedgeGo {
			wantGo = true
			g.prepare = e.buildStep(scenario, artifactGoHello)
			g.estimate += time.Second // loading the precompiled Go guest
		}
		if h, ok := sdkHelloBySeries(s); ok {
			g.prepare = append(g.prepare, e.buildStep(scenario, h.artifact)...)
			g.estimate += 500 * time.Millisecond
		}
	}
	var node *Node
	var cl *client.Client
	var public string
	var deployed []string
	prefix := ""
	if e.opts.Target != "" {
		g.name = "wedge node at " + e.opts.Target
		prefix = "bench-"
	}
	g.start = func(ctx context.Context) (map[string]string, map[string]error) {
		if e.opts.Target != "" {
			cl = client.New(e.opts.TargetAdmin, e.opts.TargetToken)
			public = strings.TrimRight(e.opts.Target, "/")
		} else {
			dataDir := filepath.Join(e.workDir, httpNodeDir)
			var err error
			node, err = e.StartNode(ctx, dataDir, "")
			if err != nil {
				return nil, allFailed(series, err)
			}
			if err := e.seedArtifacts(dataDir); err != nil {
				return nil, allFailed(series, err)
			}
			cl, public = node.Client(), node.Public
		}
		urls, failed := map[string]string{}, map[string]error{}
		// deploy deploys the function at route and checks that
		// route+path answers want.
		deploy := func(s, name, route, path, want string, wasm func() ([]byte, error)) {
			b, err := wasm()
			if err == nil {
				_, _, err = cl.Deploy(ctx, prefix+name, b, client.DeployOptions{Routes: []string{route}, JavaScript: s == SeriesWedgeJS})
			}
			url := public + strings.TrimSuffix(route, "/...") + path
			if err == nil {
				deployed = append(deployed, prefix+name)
				err = checkAnswer(ctx, url, want)
			}
			if err != nil {
				failed[s] = err
				return
			}
			urls[s] = url
		}
		route := func(r string) string {
			if prefix != "" {
				return "/bench" + r
			}
			return r
		}
		for _, s := range series {
			switch s {
			case SeriesWedgeWAT:
				deploy(s, "wat-hello", route("/wat-hello"), "", helloBody, e.HelloWasm)
			case SeriesWedgeWASI:
				deploy(s, "wasi-hello", route("/wasi-hello"), "", helloBody, func() ([]byte, error) { return wasmtime.Wat2Wasm(WASICommandWAT) })
			case SeriesWedgeJS:
				// The very script workerd-js serves.
				deploy(s, "js-hello", route("/js-hello"), "", helloBody, func() ([]byte, error) { return []byte(workerdJS), nil })
			case SeriesWedgeGo:
				if wantGo {
					deploy(s, "go-hello", route("/go-hello"), "", helloBody, func() ([]byte, error) { return e.goHello(ctx) })
				}
			default:
				if h, ok := sdkHelloBySeries(s); ok {
					deploy(s, h.guest, route("/"+h.guest+"/..."), sdkHelloPath, sdkHelloBody,
						func() ([]byte, error) { return e.sdkHelloWasm(ctx, h) })
				}
			}
		}
		return urls, failed
	}
	g.stop = func() error {
		if e.opts.Target != "" && cl != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			for _, name := range deployed {
				if err := cl.Delete(ctx, name); err != nil {
					return err
				}
			}
			return nil
		}
		if node != nil {
			return node.Stop()
		}
		return nil
	}
	return g
}

// httpNodeDir is the data directory of the HTTP scenario's node, under
// the work directory.
const httpNodeDir = "node-http"

// goHello returns the Go SDK hello module.
func (e *Env) goHello(ctx context.Context) ([]byte, error) {
	p, err := e.artifact(ctx, artifactGoHello)
	if err != nil {
		return nil, err
	}
	return os.ReadFile(p)
}

// listeningRE matches "<what> listening http://ADDR": what, URL.
var listeningRE = regexp.MustCompile(`^(.*?)\s*listening (http://\S+)`)

// baselineGroup is benchmarks/cmd/baseline with --server kind.
func (e *Env) baselineGroup(scenario, series, kind string) *serverGroup {
	g := &serverGroup{name: series + " baseline", series: []string{series}, estimate: 500 * time.Millisecond,
		prepare: e.buildStep(scenario, artifactBaseline)}
	var p *process
	g.start = func(ctx context.Context) (map[string]string, map[string]error) {
		bin, err := e.artifact(ctx, artifactBaseline)
		if err != nil {
			return nil, allFailed(g.series, err)
		}
		url, proc, err := e.startListening(ctx, g.name, []string{bin, "--server", kind, "--addr", "127.0.0.1:0"}, nil)
		if err != nil {
			return nil, allFailed(g.series, err)
		}
		p = proc
		return map[string]string{series: url + "/hello"}, nil
	}
	g.stop = func() error { return stopProc(p) }
	return g
}

// wazeroGroup is benchmarks/cmd/wazero-baseline serving the WAT hello.
func (e *Env) wazeroGroup(scenario string) *serverGroup {
	g := &serverGroup{name: "wazero baseline", series: []string{SeriesWazero}, estimate: 500 * time.Millisecond,
		prepare: e.buildStep(scenario, artifactWazero)}
	var p *process
	g.start = func(ctx context.Context) (map[string]string, map[string]error) {
		bin, err := e.artifact(ctx, artifactWazero)
		if err != nil {
			return nil, allFailed(g.series, err)
		}
		wasm, err := e.HelloWasm()
		if err != nil {
			return nil, allFailed(g.series, err)
		}
		mod := filepath.Join(e.workDir, "hello.wasm")
		if err := os.WriteFile(mod, wasm, 0o644); err != nil {
			return nil, allFailed(g.series, err)
		}
		url, proc, err := e.startListening(ctx, g.name, []string{bin, "--module", mod, "--addr", "127.0.0.1:0"}, func(what string) {
			if v, ok := strings.CutPrefix(what, "wazero "); ok {
				e.SetVersion("wazero", v)
			}
		})
		if err != nil {
			return nil, allFailed(g.series, err)
		}
		p = proc
		return map[string]string{SeriesWazero: url + "/hello"}, nil
	}
	g.stop = func() error { return stopProc(p) }
	return g
}

// startListening starts a server that prints "<what> listening
// http://ADDR", checks that it answers the hello body and returns its base
// URL. seen, if not nil, gets what.
func (e *Env) startListening(ctx context.Context, name string, argv []string, seen func(line string)) (string, *process, error) {
	p, err := e.spawn(ctx, name, argv, nil, "")
	if err != nil {
		return "", nil, err
	}
	from := 0
	m, _, err := p.waitLine(ctx, listeningRE, &from, serverStartTimeout)
	if err != nil {
		p.stop()
		return "", nil, err
	}
	if seen != nil {
		seen(m[1])
	}
	url := m[2]
	if err := checkHello(ctx, url+"/hello"); err != nil {
		p.stop()
		return "", nil, err
	}
	return url, p, nil
}

func stopProc(p *process) error {
	if p == nil {
		return nil
	}
	return p.stop()
}

// checkHello makes sure url answers 200 with the hello body.
func checkHello(ctx context.Context, url string) error { return checkAnswer(ctx, url, helloBody) }

// checkAnswer makes sure url answers 200 with want.
func checkAnswer(ctx context.Context, url, want string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if err != nil {
		return err
	}
	if resp.StatusCode != 200 || string(body) != want {
		return fmt.Errorf("GET %s: HTTP %d %q, want 200 %q", url, resp.StatusCode, body, want)
	}
	return nil
}
