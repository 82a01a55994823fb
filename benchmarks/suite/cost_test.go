package suite

import (
	"bytes"
	"runtime/pprof"
	"strings"
	"testing"
	"time"
)

func TestCostBucket(t *testing.T) {
	for _, c := range []struct {
		stack []string
		want  string
	}{
		{[]string{"runtime.memmove", "github.com/bytecodealliance/wasmtime-go/v39.(*Store).Close", "github.com/wedge-run/wedge/internal/runtime.(*Module).Invoke", "github.com/valyala/fasthttp.(*Server).serveConn"}, CostReset},
		{[]string{"github.com/wedge-run/wedge/internal/logs.(*Store).Append", "github.com/wedge-run/wedge/internal/runtime.logLine", "github.com/wedge-run/wedge/internal/wasmpool.wasmpoolHostCall", "github.com/wedge-run/wedge/internal/wasmpool.CallI32"}, CostLogging},
		{[]string{"github.com/wedge-run/wedge/internal/runtime.requestHead", "github.com/wedge-run/wedge/internal/wasmpool.wasmpoolHostCall", "github.com/wedge-run/wedge/internal/wasmpool.fastCall"}, CostHostCalls},
		{[]string{"github.com/wedge-run/wedge/internal/wasmpool.fastCall", "github.com/wedge-run/wedge/internal/wasmpool.CallI32", "github.com/wedge-run/wedge/internal/runtime.(*Module).Invoke"}, CostGuestCode},
		{[]string{"github.com/wedge-run/wedge/internal/wasmpool.(*InstancePre).Instantiate", "github.com/wedge-run/wedge/internal/runtime.(*Module).Invoke"}, CostInstantiate},
		{[]string{"sync.(*Mutex).Lock", "github.com/wedge-run/wedge/internal/gateway.(*Scheduler).Acquire", "github.com/valyala/fasthttp.(*Server).serveConn"}, CostAdmission},
		{[]string{"syscall.Syscall", "internal/poll.(*FD).Write", "net.(*conn).Write", "github.com/valyala/fasthttp.(*Server).serveConn"}, CostHTTP},
		{[]string{"syscall.Syscall", "net.(*conn).Write", "github.com/valyala/fasthttp.(*HostClient).Do", "github.com/wedge-run/wedge/benchmarks/suite.costDrive.func1"}, costClient},
		{[]string{"runtime.scanobject", "runtime.gcDrain", "runtime.gcBgMarkWorker"}, CostGoRuntime},
		{[]string{"internal/runtime/syscall/linux.EpollWait", "runtime.netpoll", "runtime.findRunnable"}, CostGoRuntime},
		{[]string{"", "runtime._ExternalCode"}, CostNative},
		{[]string{"github.com/wedge-run/wedge/internal/runtime.(*Module).Invoke"}, CostOther},
	} {
		if got := costBucket(c.stack); got != c.want {
			t.Errorf("%s: %s, want %s", strings.Join(c.stack, " < "), got, c.want)
		}
	}
}

//go:noinline
func spinForProfile(d time.Duration) int {
	n := 0
	for end := time.Now().Add(d); time.Now().Before(end); n++ {
	}
	return n
}

// TestReadProfile reads a real CPU profile of this process: the busy
// function is on the stacks of most samples, and the values are CPU time.
func TestReadProfile(t *testing.T) {
	var buf bytes.Buffer
	if err := pprof.StartCPUProfile(&buf); err != nil {
		t.Skipf("another CPU profile runs: %v", err)
	}
	spinForProfile(300 * time.Millisecond)
	pprof.StopCPUProfile()
	samples, err := readProfile(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	var in, total int64
	for _, s := range samples {
		total += s.value
		if strings.Contains(strings.Join(s.stack, " "), "suite.spinForProfile") {
			in += s.value
			if s.stack[len(s.stack)-1] != "testing.tRunner" && s.stack[len(s.stack)-1] != "runtime.goexit" {
				t.Errorf("stack not leaf first: %v", s.stack)
			}
		}
	}
	if in == 0 || in < total/2 || total > int64(time.Second) {
		t.Fatalf("%d samples, %v of %v in the busy function", len(samples), time.Duration(in), time.Duration(total))
	}
	if _, err := readProfile([]byte("not gzip")); err == nil {
		t.Error("garbage read as a profile")
	}
}

// TestRunCost runs the cost scenario with a short window, without the Go
// guest: the WAT hello and the WASI command in a node in this process,
// their CPU split into buckets in the report's table.
func TestRunCost(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a node")
	}
	wedge, _ := buildBinaries(t)
	plan := Plan{Profile: "cost", CostDuration: 300 * time.Millisecond}
	run, err := Run(t.Context(), Options{Plan: &plan, WedgeBinary: wedge, SkipGoHello: true, NoPin: true,
		Scenarios: []string{"cost"}, OutDir: t.TempDir(), PeersDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if len(run.Scenarios) != 1 || run.Scenarios[0].Name != CostScenarioName {
		t.Fatalf("scenarios %+v", run.Scenarios)
	}
	d := run.Scenarios[0].Description
	for _, want := range []string{"| guest | requests | node CPU/request | HTTP | admission | instantiate | reset | guest code |", "| wat-hello |", "| wasi-command |"} {
		if !strings.Contains(d, want) {
			t.Errorf("description lacks %q:\n%s", want, d)
		}
	}
	if strings.Contains(d, "| 0 | 0.0 µs |") {
		t.Errorf("a guest measured nothing:\n%s", d)
	}
}
