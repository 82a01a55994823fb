package snapshot

import (
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"sync"
	"testing"
	"time"

	"github.com/bytecodealliance/wasmtime-go/v39"
)

// The Go reactor in testdata/goreactor, built once per test binary.
var goReactor struct {
	once sync.Once
	wasm []byte
	err  error
	msg  []byte
}

func goReactorWasm(t testing.TB) []byte {
	t.Helper()
	goReactor.once.Do(func() {
		out := filepath.Join(t.TempDir(), "goreactor.wasm")
		cmd := exec.Command(filepath.Join(goruntime.GOROOT(), "bin", "go"), "build", "-buildmode=c-shared", "-trimpath", "-o", out, ".")
		cmd.Dir = filepath.Join("testdata", "goreactor")
		cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0", "GOWORK=off", "GOTOOLCHAIN=local", "GOFLAGS=-buildvcs=false")
		if goReactor.msg, goReactor.err = cmd.CombinedOutput(); goReactor.err == nil {
			goReactor.wasm, goReactor.err = os.ReadFile(out)
		}
	})
	if goReactor.err != nil {
		t.Fatalf("building testdata/goreactor: %v\n%s", goReactor.err, goReactor.msg)
	}
	return goReactor.wasm
}

// The reactor's snapshot with wasmtime's WASI, made once per test binary.
var goSnap struct {
	once  sync.Once
	wasm  []byte
	stats Stats
	err   error
}

func goReactorSnapshot(t testing.TB) ([]byte, Stats) {
	t.Helper()
	orig := goReactorWasm(t)
	goSnap.once.Do(func() {
		goSnap.wasm, goSnap.stats, goSnap.err = Snapshot(orig, wasiRunner(t, clock{}))
	})
	if goSnap.err != nil {
		t.Fatalf("Snapshot: %v", goSnap.err)
	}
	return goSnap.wasm, goSnap.stats
}

func TestGoReactorMatchesOriginal(t *testing.T) {
	orig := goReactorWasm(t)
	snap, stats := goReactorSnapshot(t)
	mustValidate(t, snap)
	t.Logf("stats %+v", stats)

	l := newLinker(t, clock{})
	om, sm := compile(t, orig), compile(t, snap)
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	for round := range 5 {
		o := instantiate(t, l, om, true)
		s := instantiate(t, l, sm, false)
		if s.hasExport(InitializeExport) {
			t.Fatal("the snapshot still exports _initialize")
		}
		inputs := []int32{0, 1, -1, 999, 1000, 1 << 30, -1 << 31}
		for range 40 {
			inputs = append(inputs, rng.Int32()-rng.Int32())
		}
		for _, x := range inputs {
			if w, g := o.call("compute", x), s.call("compute", x); w != g {
				t.Fatalf("round %d: compute(%d) = %v on the snapshot, %v on the original", round, x, g, w)
			}
		}
		if w, g := o.call("call_count"), s.call("call_count"); w != g || g != int32(len(inputs)) {
			t.Fatalf("round %d: call_count %v on the snapshot, %v on the original", round, g, w)
		}
	}
}

// TestGoReactorRuntimeAfterSnapshot exercises the Go runtime in fresh
// snapshot instances: allocation and a forced GC, goroutines and
// channels, timers and clocks, repeated calls.
func TestGoReactorRuntimeAfterSnapshot(t *testing.T) {
	snap, _ := goReactorSnapshot(t)
	l := newLinker(t, clock{})
	sm := compile(t, snap)
	ref := instantiate(t, l, compile(t, goReactorWasm(t)), true).call("compute", int32(12345))
	for i := range 4 {
		s := instantiate(t, l, sm, false)
		for range 3 {
			if v := s.call("churn", int32(20000)); v != int32(2500) {
				t.Fatalf("instance %d: churn = %v", i, v)
			}
			if v := s.call("fanout", int32(64)); v != int32(64*65/2) {
				t.Fatalf("instance %d: fanout = %v", i, v)
			}
			if v := s.call("compute", int32(12345)); v != ref {
				t.Fatalf("instance %d: compute after GC = %v, want %v", i, v, ref)
			}
		}
		if d := s.call("sleep_nanos", int64(2e6)).(int64); d < 2e6 || d > int64(5*time.Second) {
			t.Fatalf("instance %d: a 2ms sleep took %v", i, time.Duration(d))
		}
		now := s.call("now_unix").(int64)
		if skew := time.Since(time.Unix(0, now)); skew < -time.Minute || skew > time.Minute {
			t.Fatalf("instance %d: guest time.Now is %v off", i, skew)
		}
	}
}

// TestGoReactorBakedInState documents what every snapshot instance
// shares: values the runtime or the program derived at init from the
// clock or from random_get. crypto/rand asks the host on every call.
func TestGoReactorBakedInState(t *testing.T) {
	orig := goReactorWasm(t)
	snap, _ := goReactorSnapshot(t)
	l := newLinker(t, clock{})
	om, sm := compile(t, orig), compile(t, snap)
	collect := func(m *wasmtime.Module, init bool) map[string][]any {
		out := map[string][]any{}
		for range 3 {
			in := instantiate(t, l, m, init)
			for _, fn := range []string{"init_wall", "math_rand", "map_order", "crypto_rand"} {
				out[fn] = append(out[fn], in.call(fn))
			}
		}
		return out
	}
	o, s := collect(om, true), collect(sm, false)
	for _, fn := range []string{"init_wall", "math_rand", "map_order", "crypto_rand"} {
		t.Logf("%-12s original %v", fn, o[fn])
		t.Logf("%-12s snapshot %v", fn, s[fn])
	}
	if !allEqual(s["init_wall"]) {
		t.Errorf("init-time wall clock differs between snapshot instances: %v", s["init_wall"])
	}
	if allEqual(o["init_wall"]) {
		t.Errorf("init-time wall clock is equal between original instances: %v", o["init_wall"])
	}
	if !allDistinct(s["crypto_rand"]) {
		t.Errorf("crypto/rand repeats across snapshot instances: %v", s["crypto_rand"])
	}
}

func allEqual(v []any) bool {
	for _, x := range v[1:] {
		if x != v[0] {
			return false
		}
	}
	return true
}

func allDistinct(v []any) bool {
	seen := map[any]bool{}
	for _, x := range v {
		if seen[x] {
			return false
		}
		seen[x] = true
	}
	return true
}

// TestGoReactorClockSkew: the snapshot is served by a host whose monotonic
// clock differs from the one the initializer saw, by 30 days either way
// (a snapshot made on a long-running node, served after a restart, and the
// reverse).
func TestGoReactorClockSkew(t *testing.T) {
	const month = int64(30 * 24 * time.Hour)
	for _, c := range []struct {
		name        string
		init, serve clock
	}{
		{"backwards", clock{offset: month}, clock{offset: 1}},
		{"forwards", clock{offset: 1}, clock{offset: month}},
	} {
		t.Run(c.name, func(t *testing.T) {
			snap, _, err := Snapshot(goReactorWasm(t), wasiRunner(t, c.init))
			if err != nil {
				t.Fatal(err)
			}
			sm := compile(t, snap)
			l := newLinker(t, c.serve)
			for i := range 3 {
				s := instantiate(t, l, sm, false)
				if v := s.call("churn", int32(20000)); v != int32(2500) {
					t.Fatalf("instance %d: churn = %v", i, v)
				}
				if v := s.call("fanout", int32(16)); v != int32(16*17/2) {
					t.Fatalf("instance %d: fanout = %v", i, v)
				}
				d := s.call("sleep_nanos", int64(1e6)).(int64)
				if d < 1e6 || d > int64(5*time.Second) {
					t.Fatalf("instance %d: a 1ms sleep took %v", i, time.Duration(d))
				}
				t.Logf("instance %d: 1ms sleep took %v; time.Since(init-time time.Now()) = %v",
					i, time.Duration(d), time.Duration(s.call("since_init").(int64)))
			}
		})
	}
}
