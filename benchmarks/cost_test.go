package benchmarks

import (
	"fmt"
	"testing"

	"github.com/bytecodealliance/wasmtime-go/v39"
	"github.com/wedge-run/wedge/benchmarks/suite"
	"github.com/wedge-run/wedge/examples"
	"github.com/wedge-run/wedge/internal/testutil"
)

// BenchmarkRequestCost splits a node's CPU per request into HTTP,
// admission, instantiate, reset, guest code, host calls, logging, the Go
// runtime and the rest, for the WAT hello, a minimal WASI command, the Go
// SDK hello and the C, Rust and AssemblyScript SDK hellos (those skipped
// without their toolchains): a node in this process, b.N requests from one
// connection under the CPU profiler (suite.CostNode; the same code as the
// benchmark suite's "cost" scenario). Reported per request: node-µs and
// one metric per bucket; -v logs the table. Do not combine with
// -cpuprofile (one CPU profile per process). It samples at 1 kHz (the
// runtime warns once on stderr that it cannot set the rate: harmless). On
// one core:
//
//	cd benchmarks && taskset -c 1 go test -run '^$' -bench RequestCost -benchtime 20000x -v .
func BenchmarkRequestCost(b *testing.B) {
	cmd, err := wasmtime.Wat2Wasm(suite.WASICommandWAT)
	if err != nil {
		b.Fatal(err)
	}
	guests := []struct {
		g     suite.CostGuest
		build func(testing.TB) []byte
	}{
		{suite.CostGuest{Name: "wat-hello"}, func(t testing.TB) []byte { return testutil.WAT(t, examples.HelloWAT) }},
		{suite.CostGuest{Name: "wasi-command"}, func(testing.TB) []byte { return cmd }},
		{suite.CostGuest{Name: "go-hello"}, func(t testing.TB) []byte { return testutil.BuildGoWasm(t, "examples/go-hello", true) }},
		{suite.CostGuest{Name: "c-hello", Path: "/hello?name=bench"}, func(t testing.TB) []byte { return testutil.BuildC(t, "sdk/c/examples/hello") }},
		{suite.CostGuest{Name: "rust-hello", Path: "/hello?name=bench"}, func(t testing.TB) []byte { return testutil.BuildRust(t, "sdk/rust/examples/hello") }},
		{suite.CostGuest{Name: "as-hello", Path: "/hello?name=bench"}, func(t testing.TB) []byte { return testutil.BuildAS(t, "sdk/assemblyscript/examples/hello") }},
	}
	node, err := suite.StartCostNode(b.TempDir(), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer node.Close()
	node.ProfileHz = 1000
	var rows []suite.CostRow
	for _, x := range guests {
		b.Run(x.g.Name, func(b *testing.B) {
			g := x.g
			g.Wasm = x.build(b)
			if err := node.Deploy(g); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			row, err := node.Measure(b.Context(), g, 0, int64(b.N))
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(row.NodeMicros, "node-µs/req")
			for _, k := range suite.CostBuckets {
				b.ReportMetric(row.Buckets[k], fmt.Sprintf("%s-µs/req", metricName(k)))
			}
			b.ReportMetric(float64(row.Samples), "samples")
			if b.N > 1 { // not the first, one-request round
				rows = append(rows, row)
			}
		})
	}
	b.Logf("node CPU per request:\n%s", suite.CostTable(rows))
}

// metricName makes a bucket name a benchmark unit (no spaces).
func metricName(s string) string {
	out := []byte(s)
	for i, c := range out {
		if c == ' ' {
			out[i] = '-'
		}
	}
	return string(out)
}
