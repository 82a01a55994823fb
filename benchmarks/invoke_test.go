package benchmarks

import (
	"os"
	"testing"

	"github.com/wedge-run/wedge/abi"
	"github.com/wedge-run/wedge/examples"
	"github.com/wedge-run/wedge/internal/js"
	"github.com/wedge-run/wedge/internal/runtime"
	"github.com/wedge-run/wedge/internal/testutil"
)

// helloHead is the encoded head of GET /go/hello?name=bench.
func helloHead() []byte {
	h := abi.AppendString(nil, "GET")
	h = abi.AppendString(h, "/go/hello?name=bench")
	h = abi.AppendString(h, "127.0.0.1")
	h = abi.AppendString(h, "127.0.0.1:1")
	h = abi.AppendString(h, "bench")
	h = abi.AppendString(h, "/go/hello")
	return abi.AppendU32(h, 0)
}

func benchInvoke(b *testing.B, m *runtime.Module, env *runtime.Env, head []byte) {
	b.ReportAllocs()
	b.ResetTimer()
	before := readRusage()
	defer func() { reportRusage(b, before) }()
	for i := 0; i < b.N; i++ {
		c := runtime.NewCall()
		c.Env = env
		c.Head = append(c.Head[:0], head...)
		if err := m.Invoke(c); err != nil {
			b.Fatal(err)
		}
		if c.Status != 200 {
			b.Fatalf("status %d: %s", c.Status, c.Output)
		}
		c.Release()
	}
}

// benchArtifacts is the artifact cache of the in-process benchmarks:
// $WEDGE_BENCH_ARTIFACTS when set, so that repeated runs (one per engine
// setting, say) skip compiling the Go guests, else the tests' shared
// temporary cache.
func benchArtifacts() string {
	if d := os.Getenv("WEDGE_BENCH_ARTIFACTS"); d != "" {
		return d
	}
	return testutil.SharedArtifacts()
}

// BenchmarkInvokeGuests times one request's instance life cycle in process
// (new store, instantiate, call, close) for the example guests: the WAT
// hello, the C, Rust and AssemblyScript SDK examples' hello route
// (skipped without their toolchains), the Go SDK hello with and without
// its deploy-time snapshot, and the JavaScript hello (engine + script,
// snapshotted).
func BenchmarkInvokeGuests(b *testing.B) {
	e, err := runtime.NewEngine(runtime.Config{CacheDir: benchArtifacts()})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	env := runtime.NewEnv("bench", nil, runtime.Limits{})
	wat, err := e.Compile(testutil.WAT(b, examples.HelloWAT))
	if err != nil {
		b.Fatal(err)
	}
	defer wat.Release()
	b.Run("wat-hello", func(b *testing.B) { benchInvoke(b, wat, env, nil) })
	for _, g := range []struct {
		name    string
		build   func(testing.TB) []byte
		preinit bool
	}{
		{"c-hello", func(t testing.TB) []byte { return testutil.BuildC(t, "sdk/c/examples/hello") }, true},
		{"rust-hello", func(t testing.TB) []byte { return testutil.BuildRust(t, "sdk/rust/examples/hello") }, false},
		{"as-hello", func(t testing.TB) []byte { return testutil.BuildAS(t, "sdk/assemblyscript/examples/hello") }, true},
	} {
		b.Run(g.name, func(b *testing.B) {
			// As a node serves it: the deploy-time snapshot when the module
			// has an initializer (C, AS), the module itself otherwise (Rust).
			wasm := g.build(b)
			size := len(wasm)
			if g.preinit {
				var err error
				if wasm, _, err = e.Preinitialize(wasm, env); err != nil {
					b.Fatal(err)
				}
			}
			m, err := e.Compile(wasm)
			if err != nil {
				b.Fatal(err)
			}
			defer m.Release()
			benchInvoke(b, m, env, helloHead())
			b.ReportMetric(float64(size), "module-bytes")
		})
	}

	goWasm := testutil.BuildGoWasm(b, "examples/go-hello", true)
	orig, err := e.Compile(goWasm)
	if err != nil {
		b.Fatal(err)
	}
	defer orig.Release()
	snapWasm, _, err := e.Preinitialize(goWasm, env)
	if err != nil {
		b.Fatal(err)
	}
	snap, err := e.Compile(snapWasm)
	if err != nil {
		b.Fatal(err)
	}
	defer snap.Release()
	b.Run("go-hello-snapshot", func(b *testing.B) { benchInvoke(b, snap, env, helloHead()) })
	b.Run("go-hello-no-snapshot", func(b *testing.B) { benchInvoke(b, orig, env, helloHead()) })

	jsWasm, err := js.Combine([]byte(jsHello))
	if err != nil {
		b.Fatal(err)
	}
	jsSnap, _, err := e.Preinitialize(jsWasm, env)
	if err != nil {
		b.Fatal(err)
	}
	jsMod, err := e.Compile(jsSnap)
	if err != nil {
		b.Fatal(err)
	}
	defer jsMod.Release()
	b.Run("js-hello-snapshot", func(b *testing.B) { benchInvoke(b, jsMod, env, helloHead()) })

	// The path a JavaScript function takes from its deploy until its
	// snapshot is compiled whole: its memory image, then the engine's
	// shared code (runtime/split.go).
	se, err := runtime.NewEngine(runtime.Config{SplitOnly: true, PoolInstances: 64})
	if err != nil {
		b.Fatal(err)
	}
	defer se.Close()
	se.ShareCode(js.Engine())
	jsSplit, err := se.Compile(jsSnap)
	if err != nil {
		b.Fatal(err)
	}
	defer jsSplit.Release()
	if !jsSplit.Split() {
		b.Fatal("the JavaScript snapshot was not split")
	}
	b.Run("js-hello-split", func(b *testing.B) { benchInvoke(b, jsSplit, env, helloHead()) })
}

// jsHello is the JavaScript hello of the wedge-js series.
const jsHello = `export default {
  async fetch(request) {
    return new Response("hello, world\n");
  },
};
`
