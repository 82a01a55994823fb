package main

import (
	"strings"
	"testing"
	"time"
)

// TestPrinterStreams feeds the events of two packages running at once: the
// one that ends first prints first, a failed test's output shows as soon
// as it fails (with its package), a skipped test shows with its reason,
// passed tests and === lines stay quiet,
// and the summary names the failed package.
func TestPrinterStreams(t *testing.T) {
	var b strings.Builder
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	p := newPrinter(&b, func() time.Time { return now })
	lines := `{"Action":"start","Package":"slow"}
{"Action":"start","Package":"fast"}
{"Action":"output","Package":"slow","Test":"TestA","Output":"=== RUN   TestA\n"}
{"Action":"output","Package":"slow","Test":"TestA","Output":"    a_test.go:9: want 2, got 3\n"}
{"Action":"output","Package":"slow","Test":"TestA","Output":"--- FAIL: TestA (0.10s)\n"}
{"Action":"fail","Package":"slow","Test":"TestA"}
{"Action":"output","Package":"fast","Test":"TestB","Output":"    b_test.go:3: chatter\n"}
{"Action":"pass","Package":"fast","Test":"TestB"}
{"Action":"output","Package":"fast","Test":"TestC","Output":"=== RUN   TestC\n"}
{"Action":"output","Package":"fast","Test":"TestC","Output":"    c_test.go:5: chromium not found: install it or set WEDGE_CHROMIUM\n"}
{"Action":"output","Package":"fast","Test":"TestC","Output":"--- SKIP: TestC (0.00s)\n"}
{"Action":"skip","Package":"fast","Test":"TestC"}
{"Action":"output","Package":"fast","Output":"PASS\n"}
{"Action":"output","Package":"fast","Output":"ok  \tfast\t0.2s\n"}
{"Action":"pass","Package":"fast"}
not json: printed as it is
{"Action":"output","Package":"slow","Output":"FAIL\n"}
{"Action":"output","Package":"slow","Output":"FAIL\tslow\t3.0s\n"}
{"Action":"fail","Package":"slow"}
`
	p.read(strings.NewReader(lines))
	if !p.summary() {
		t.Error("summary says nothing failed")
	}
	want := "# slow\n    a_test.go:9: want 2, got 3\n--- FAIL: TestA (0.10s)\n" +
		"SKIP\tfast\tTestC: c_test.go:5: chromium not found: install it or set WEDGE_CHROMIUM\n" +
		"ok  \tfast\t0.2s\n" +
		"not json: printed as it is\n" +
		"FAIL\nFAIL\tslow\t3.0s\n" +
		"FAIL: 1 of 2 packages failed in 0s: slow\n"
	if b.String() != want {
		t.Errorf("printed:\n%s\nwant:\n%s", b.String(), want)
	}
}

// TestPrinterHeartbeat: a beat names the packages still running and for
// how long; nothing once every package ended.
func TestPrinterHeartbeat(t *testing.T) {
	var b strings.Builder
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	p := newPrinter(&b, func() time.Time { return now })
	p.read(strings.NewReader(`{"Action":"start","Package":"a"}` + "\n"))
	now = now.Add(90 * time.Second)
	p.beat()
	if want := "... 1m30s: still running a (1m30s)\n"; b.String() != want {
		t.Errorf("beat %q, want %q", b.String(), want)
	}
	p.read(strings.NewReader(`{"Action":"pass","Package":"a"}` + "\n"))
	b.Reset()
	p.beat()
	if b.String() != "" || p.summary() {
		t.Errorf("after the end: %q", b.String())
	}
}
