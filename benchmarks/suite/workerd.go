package suite

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// ErrPeerMissing is returned when a third-party server is not installed.
var ErrPeerMissing = errors.New("peer not installed")

// peersDir is where third-party servers live: Options.PeersDir or
// <user cache dir>/wedge-bench.
func (e *Env) peersDir() (string, error) {
	if e.opts.PeersDir != "" {
		return e.opts.PeersDir, nil
	}
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "wedge-bench"), nil
}

// workerdDir is the npm project the suite installs workerd into.
func (e *Env) workerdDir() (string, error) {
	dir, err := e.peersDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "workerd"), nil
}

// findWorkerd returns the workerd executable installed in dir by npm:
// the platform package's native binary (node_modules/@cloudflare/
// workerd-<os>-<arch>/bin/workerd), else node_modules/.bin/workerd.
func findWorkerd(dir string) (string, error) {
	arch := map[string]string{"amd64": "64", "arm64": "arm64"}[runtime.GOARCH]
	candidates := []string{
		filepath.Join(dir, "node_modules", "@cloudflare", "workerd-"+runtime.GOOS+"-"+arch, "bin", "workerd"),
		filepath.Join(dir, "node_modules", ".bin", "workerd"),
	}
	for _, c := range candidates {
		if st, err := os.Stat(c); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return c, nil
		}
	}
	return "", fmt.Errorf("%w: workerd is not installed in %s (`wedge bench --install-peers` runs `npm install workerd` there)", ErrPeerMissing, dir)
}

// workerdInstalled reports why workerd cannot run (nil when installed).
func (e *Env) workerdInstalled() error {
	dir, err := e.workerdDir()
	if err != nil {
		return err
	}
	_, err = findWorkerd(dir)
	return err
}

// installWorkerdStep runs `npm install workerd` in the workerd directory.
func (e *Env) installWorkerdStep(scenario string) Step {
	return Step{
		Scenario: scenario, What: "npm install workerd (--install-peers)", Estimate: 30 * time.Second,
		Run: func(ctx context.Context) (string, error) {
			dir, err := e.workerdDir()
			if err != nil {
				return "", err
			}
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return "", err
			}
			pkg := filepath.Join(dir, "package.json")
			if !fileExists(pkg) {
				if err := os.WriteFile(pkg, []byte(`{"name": "wedge-bench-peers", "private": true}`+"\n"), 0o644); err != nil {
					return "", err
				}
			}
			npm, err := exec.LookPath("npm")
			if err != nil {
				return "", fmt.Errorf("%w: npm not found in PATH: %v", ErrPeerMissing, err)
			}
			ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
			defer cancel()
			cmd, _ := e.command(ctx, e.origCPUs, npm, "install", "--no-audit", "--no-fund", "workerd")
			cmd.Dir = dir
			if out, err := cmd.CombinedOutput(); err != nil {
				return "", fmt.Errorf("npm install workerd in %s: %v: %s", dir, err, lastLines(string(out), 5))
			}
			bin, err := findWorkerd(dir)
			if err != nil {
				return "", err
			}
			return "installed " + bin, nil
		},
	}
}

// The workerd services: a JS fetch handler, and the WAT hello module
// instantiated per request from JS with wedge_v1.response_write
// implemented in JS (the same fresh-instance-per-request model as wedge).
const (
	workerdJS = `export default {
  async fetch(request) {
    return new Response("hello from wedge\n", {headers: {"content-type": "text/plain; charset=utf-8"}});
  },
};
`
	workerdWasmJS = `import hello from "./hello.wasm";

export default {
  async fetch(request) {
    let out = null;
    let instance;
    instance = new WebAssembly.Instance(hello, {wedge_v1: {response_write(ptr, len) {
      out = new Uint8Array(instance.exports.memory.buffer, ptr, len).slice();
      return len;
    }}});
    if (instance.exports.wedge_handle(0, 0) !== 0 || out === null) {
      return new Response("wedge_handle failed\n", {status: 500});
    }
    return new Response(out, {headers: {"content-type": "text/plain; charset=utf-8"}});
  },
};
`
)

// workerdConfig renders the capnp configuration serving the JS worker on
// jsAddr and the Wasm worker on wasmAddr ("" leaves a worker out).
func workerdConfig(jsAddr, wasmAddr string) string {
	var services, sockets, workers []string
	if jsAddr != "" {
		services = append(services, `(name = "js", worker = .jsWorker)`)
		sockets = append(sockets, fmt.Sprintf(`(name = "js", address = %q, http = (), service = "js")`, jsAddr))
		workers = append(workers, `const jsWorker :Workerd.Worker = (
  modules = [ (name = "worker", esModule = embed "worker.js") ],
  compatibilityDate = "2024-09-23",
);`)
	}
	if wasmAddr != "" {
		services = append(services, `(name = "wasm", worker = .wasmWorker)`)
		sockets = append(sockets, fmt.Sprintf(`(name = "wasm", address = %q, http = (), service = "wasm")`, wasmAddr))
		workers = append(workers, `const wasmWorker :Workerd.Worker = (
  modules = [ (name = "worker", esModule = embed "wasm.js"), (name = "hello.wasm", wasm = embed "hello.wasm") ],
  compatibilityDate = "2024-09-23",
);`)
	}
	return fmt.Sprintf(`# Written by wedge bench.
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [ %s ],
  sockets = [ %s ],
);

%s
`, strings.Join(services, ", "), strings.Join(sockets, ",\n              "), strings.Join(workers, "\n\n"))
}

// freeAddr returns a 127.0.0.1 address with a port that was free a moment
// ago (workerd takes its addresses from the configuration).
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// workerdGroup is one workerd process serving the selected workerd
// series, when workerd is installed.
func (e *Env) workerdGroup(scenario string, series []string) *serverGroup {
	g := &serverGroup{name: "workerd", series: series, estimate: 2 * time.Second}
	if e.opts.InstallPeers {
		g.prepare = []Step{e.installWorkerdStep(scenario)}
	}
	var p *process
	g.start = func(ctx context.Context) (map[string]string, map[string]error) {
		dir, err := e.workerdDir()
		if err != nil {
			return nil, allFailed(series, err)
		}
		bin, err := findWorkerd(dir)
		if err != nil {
			return nil, allFailed(series, err)
		}
		if v, err := runOutput(ctx, "", nil, bin, "--version"); err == nil {
			e.SetVersion("workerd", strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), "workerd")))
		}
		conf := filepath.Join(e.workDir, "workerd")
		if err := os.MkdirAll(conf, 0o755); err != nil {
			return nil, allFailed(series, err)
		}
		wasm, err := e.HelloWasm()
		if err != nil {
			return nil, allFailed(series, err)
		}
		addrs := map[string]string{}
		for _, s := range series {
			if addrs[s], err = freeAddr(); err != nil {
				return nil, allFailed(series, err)
			}
		}
		files := map[string][]byte{
			"worker.js":    []byte(workerdJS),
			"wasm.js":      []byte(workerdWasmJS),
			"hello.wasm":   wasm,
			"config.capnp": []byte(workerdConfig(addrs[SeriesWorkerdJS], addrs[SeriesWorkerdWasm])),
		}
		for name, b := range files {
			if err := os.WriteFile(filepath.Join(conf, name), b, 0o644); err != nil {
				return nil, allFailed(series, err)
			}
		}
		p, err = e.spawn(ctx, "workerd", []string{bin, "serve", "config.capnp"}, nil, conf)
		if err != nil {
			return nil, allFailed(series, err)
		}
		urls, failed := map[string]string{}, map[string]error{}
		for _, s := range series {
			url := "http://" + addrs[s] + "/hello"
			err := waitHTTP(ctx, url, serverStartTimeout, p.alive)
			if err == nil {
				err = checkHello(ctx, url)
			}
			if err != nil {
				failed[s] = fmt.Errorf("workerd: %w%s", err, p.stderrTail())
				continue
			}
			urls[s] = url
		}
		if len(urls) == 0 {
			p.stop()
		}
		return urls, failed
	}
	g.stop = func() error { return stopProc(p) }
	return g
}
