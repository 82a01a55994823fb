package js_test

import (
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wedge-run/wedge/internal/js"
	"github.com/wedge-run/wedge/internal/node"
	"github.com/wedge-run/wedge/internal/runtime"
	"github.com/wedge-run/wedge/internal/testutil"
)

// script10KB is a 10 KB worker: a router over 100 small handlers. i
// makes each one distinct, in its strings (not only in a comment, which
// the compiled script does not keep: two scripts differing only there
// snapshot to the same module, whose compilation is then cached).
func script10KB(i int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "// deploy %d\nconst routes = {\n", i)
	for r := 0; b.Len() < 9*1024; r++ {
		fmt.Fprintf(&b, "  \"r%d\": (req, env) => Response.json({ route: %d, method: req.method, note: \"handler %d of deploy %d\" }),\n", r, r, r, i)
	}
	b.WriteString("};\nexport default {\n  async fetch(request, env) {\n    const path = new globalThis.Request(request).url.replace(/^https?:\\/\\/[^/]+/, \"\").split(\"?\")[0].split(\"/\").pop();\n    const h = routes[path];\n    return h ? h(request, env) : new Response(\"not found\", { status: 404 });\n  },\n};\n")
	return b.String()
}

// BenchmarkDeployScript10KB times the admin API's deploy of a 10 KB
// script on a real node, until it answers 201 and serves: combine,
// validate, snapshot, compile the function's memory image (the engine's
// code is compiled once per node), store. cpu-ms-with-background adds
// the CPU of compiling each snapshot whole afterwards.
func BenchmarkDeployScript10KB(b *testing.B) {
	n := testutil.StartNode(b, "")
	// The engine's instrumented compilation, kept for every later deploy,
	// is not part of a deploy's cost.
	if res := putScript(b, n, "warm", "/warm", script10KB(-1)); res.Status != 201 {
		b.Fatalf("deploy: %d %s", res.Status, res.Body)
	}
	var r0, r1 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &r0)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		name := fmt.Sprintf("r%d", i)
		s := script10KB(int(time.Now().UnixNano()))
		res := testutil.Do(b, "PUT", n.AdminURL()+"/v1/functions/"+name+"?route=/"+name+"/...", strings.NewReader(s),
			map[string]string{"Authorization": "Bearer " + testutil.Token, "Content-Type": "application/javascript"})
		if res.Status != 201 {
			b.Fatalf("deploy: %d %s", res.Status, res.Body)
		}
	}
	b.StopTimer()
	syscall.Getrusage(syscall.RUSAGE_SELF, &r1)
	cpu := r1.Utime.Nano() + r1.Stime.Nano() - r0.Utime.Nano() - r0.Stime.Nano()
	b.ReportMetric(float64(cpu)/1e6/float64(b.N), "cpu-ms/op")
	if got := testutil.Get(b, n.PublicURL()+"/r0/r7"); got.Status != 200 || !strings.Contains(got.Body, `"route":7`) {
		b.Fatalf("router: %d %q", got.Status, got.Body)
	}
	// Each deployed function answers at once through the engine's shared
	// code, and its snapshot is compiled whole in the background
	// (runtime/split.go); count that CPU too.
	n.Engine.WaitCompiled()
	syscall.Getrusage(syscall.RUSAGE_SELF, &r1)
	cpu = r1.Utime.Nano() + r1.Stime.Nano() - r0.Utime.Nano() - r0.Stime.Nano()
	b.ReportMetric(float64(cpu)/1e6/float64(b.N), "cpu-ms-with-background/op")
}

// BenchmarkSnapshotStats reports the JavaScript hello's snapshot.
func BenchmarkSnapshotStats(b *testing.B) {
	e := newEngine(b)
	env := runtime.NewEnv("hello", nil, runtime.Limits{})
	for i := 0; i < b.N; i++ {
		wasm, _ := jsCombine(b, "export default { fetch() { return new Response(\"hi\"); } };")
		_, st, err := e.Preinitialize(wasm, env)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(st.MemoryBytes), "memory-bytes")
		b.ReportMetric(float64(st.NonZeroBytes), "nonzero-bytes")
		b.ReportMetric(float64(st.Segments), "segments")
		b.ReportMetric(float64(st.InitTime.Microseconds()), "init-us")
	}
}

// BenchmarkHello times one JavaScript request in process: a fresh
// instance of the hello's snapshot (new store, instantiate, dispatch to
// the fetch handler, respond, close). Compare with
// benchmarks/BenchmarkInvokeGuests/js-hello-snapshot.
func BenchmarkHello(b *testing.B) { benchHello(b, newEngine(b), false) }

// BenchmarkHelloSplit is BenchmarkHello on the path a function takes
// between its deploy and the end of its snapshot's compilation: the
// function's memory image instantiated, then the engine's shared code
// (runtime/split.go).
func BenchmarkHelloSplit(b *testing.B) {
	e, err := runtime.NewEngine(runtime.Config{CacheDir: testutil.SharedArtifacts(), SplitOnly: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(e.Close)
	e.ShareCode(js.Engine())
	benchHello(b, e, true)
}

func benchHello(b *testing.B, e *runtime.Engine, split bool) {
	env := runtime.NewEnv("hello", nil, runtime.Limits{})
	m, err := deploy(b, e, env, "export default { async fetch(request) { return new Response(\"hello from wedge\\n\"); } };")
	if err != nil {
		b.Fatal(err)
	}
	m.WaitWhole()
	if m.Split() != split {
		b.Fatalf("served split: %v, want %v", m.Split(), split)
	}
	hd := head("GET", "/hello")
	b.ReportAllocs()
	var r0, r1 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &r0)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		status, out, err := invoke(b, m, env, hd, "")
		if err != nil || status != 200 || out != "hello from wedge\n" {
			b.Fatalf("%d %q %v", status, out, err)
		}
	}
	b.StopTimer()
	syscall.Getrusage(syscall.RUSAGE_SELF, &r1)
	cpu := r1.Utime.Nano() + r1.Stime.Nano() - r0.Utime.Nano() - r0.Stime.Nano()
	b.ReportMetric(float64(cpu)/1e3/float64(b.N), "cpu-us/op")
}

// BenchmarkDeployScript10KBCold times the first deploy on a fresh node
// with an empty artifact cache: the engine's compilation (kept for later
// deploys) is in it.
func BenchmarkDeployScript10KBCold(b *testing.B) {
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		n := testutil.StartNode(b, "", func(c *node.Config) { c.ArtifactDir = b.TempDir() })
		s := script10KB(int(time.Now().UnixNano()))
		b.StartTimer()
		res := testutil.Do(b, "PUT", n.AdminURL()+"/v1/functions/r?route=/r/...", strings.NewReader(s),
			map[string]string{"Authorization": "Bearer " + testutil.Token, "Content-Type": "application/javascript"})
		b.StopTimer()
		if res.Status != 201 {
			b.Fatalf("deploy: %d %s", res.Status, res.Body)
		}
		n.Close()
	}
}
