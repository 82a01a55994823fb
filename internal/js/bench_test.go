package js_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/wedge-run/wedge/internal/runtime"
	"github.com/wedge-run/wedge/internal/testutil"
)

// script10KB is a 10 KB worker: a router over 100 small handlers. i
// makes each one distinct, so no deploy is served from a cache.
func script10KB(i int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "// deploy %d\nconst routes = {\n", i)
	for r := 0; b.Len() < 9*1024; r++ {
		fmt.Fprintf(&b, "  \"r%d\": (req, env) => Response.json({ route: %d, method: req.method, note: \"handler number %d of the router\" }),\n", r, r, r)
	}
	b.WriteString("};\nexport default {\n  async fetch(request, env) {\n    const path = new globalThis.Request(request).url.replace(/^https?:\\/\\/[^/]+/, \"\").split(\"?\")[0].split(\"/\").pop();\n    const h = routes[path];\n    return h ? h(request, env) : new Response(\"not found\", { status: 404 });\n  },\n};\n")
	return b.String()
}

// BenchmarkDeployScript10KB times the admin API's deploy of a 10 KB
// script on a real node: combine, validate, compile, snapshot, compile
// the snapshot, store.
func BenchmarkDeployScript10KB(b *testing.B) {
	n := testutil.StartNode(b, "")
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
	if got := testutil.Get(b, n.PublicURL()+"/r0/r7"); got.Status != 200 || !strings.Contains(got.Body, `"route":7`) {
		b.Fatalf("router: %d %q", got.Status, got.Body)
	}
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
