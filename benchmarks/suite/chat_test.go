package suite

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wedge-run/wedge/benchmarks/report"
	"github.com/wedge-run/wedge/internal/testutil"
)

func TestChatPlan(t *testing.T) {
	plan := Plan{Profile: "t", ChatWriters: []int{2, 8}, ChatRepetitions: 2, ChatMessages: 5, ChatDuration: time.Second}
	env := newEnv(Options{NoPin: true, WedgeBinary: "w", SourceDir: testutil.RepoRoot(t)}, plan, t.TempDir())
	s := &chatScenario{}
	steps, err := s.Plan(env)
	if err != nil {
		t.Fatal(err)
	}
	var whats []string
	for _, st := range steps {
		whats = append(whats, st.What)
		if st.Scenario != ChatScenarioName || st.Estimate <= 0 || st.Estimate > 10*time.Second {
			t.Errorf("step %q: scenario %q, estimate %v", st.What, st.Scenario, st.Estimate)
		}
	}
	want := []string{
		"build examples/chat (auth, messages, notify, web; GOOS=wasip1 -buildmode=c-shared) and compile them",
		"start a 3-node cluster, deploy the app on node 1, wait for every node to serve it",
		"register alice on node 1 and bob on node 2",
		"2 writers, up to 5 messages each (1s at most), run 1/2", "8 writers, up to 5 messages each (1s at most), run 1/2",
		"8 writers, up to 5 messages each (1s at most), run 2/2", "2 writers, up to 5 messages each (1s at most), run 2/2",
		"memory of the nodes, stop the cluster",
	}
	if !slices.Equal(whats, want) {
		t.Fatalf("steps:\n%s\nwant:\n%s", strings.Join(whats, "\n"), strings.Join(want, "\n"))
	}
	// Steps after a failed build have nothing to work on.
	for _, st := range steps[1:] {
		if _, err := st.Run(t.Context()); err != ErrSkipped {
			t.Errorf("%q without a build: %v", st.What, err)
		}
	}

	// The quick profile stays within its share of a CI smoke run.
	q := QuickPlan()
	var run time.Duration
	for _, w := range q.ChatWriters {
		run += time.Duration(q.ChatRepetitions) * q.ChatDuration
		if est := chatRunEstimate(q, w); est > q.ChatDuration+time.Second {
			t.Errorf("quick run of %d writers estimated at %v", w, est)
		}
	}
	if run > 10*time.Second {
		t.Errorf("quick chat runs may take %v", run)
	}
}

func TestChatNotRun(t *testing.T) {
	// No writer counts: nothing planned, nothing reported.
	s := &chatScenario{}
	env := newEnv(Options{NoPin: true}, Plan{Profile: "none"}, t.TempDir())
	if steps, err := s.Plan(env); err != nil || len(steps) != 0 || s.Results() != nil {
		t.Errorf("plan without writers: %d steps, %v", len(steps), err)
	}
	plan := Plan{Profile: "t", ChatWriters: []int{1}, ChatRepetitions: 1, ChatMessages: 1, ChatDuration: time.Second}
	for _, c := range []struct {
		name string // what the note says
		opts Options
	}{
		{"--target", Options{Target: "http://127.0.0.1:1", NoPin: true}},
		{"not a wedge checkout", Options{SourceDir: t.TempDir(), NoPin: true}},
		{"no go command in PATH", Options{SourceDir: testutil.RepoRoot(t), NoPin: true}}, // PATH emptied below
	} {
		name, opts := c.name, c.opts
		if strings.HasPrefix(name, "no go") {
			t.Setenv("PATH", t.TempDir())
		}
		env := newEnv(opts, plan, t.TempDir())
		s := &chatScenario{}
		steps, err := s.Plan(env)
		if err != nil || len(steps) != 0 {
			t.Errorf("%s: %d steps, %v", name, len(steps), err)
		}
		notes := env.notesFor(ChatScenarioName)
		if len(notes) != 1 || !strings.Contains(notes[0], "not run") || !strings.Contains(notes[0], name) {
			t.Errorf("%s: notes %q", name, notes)
		}
		if rs := s.Results(); len(rs) != 1 || len(rs[0].Series) != 0 {
			t.Errorf("%s: results %+v", name, rs)
		}
	}
}

func TestChatResults(t *testing.T) {
	plan := Plan{Profile: "t", ChatWriters: []int{4, 16}, ChatRepetitions: 2, ChatMessages: 30, ChatDuration: 3 * time.Second}
	env := newEnv(Options{NoPin: true, SourceDir: testutil.RepoRoot(t)}, plan, t.TempDir())
	s := &chatScenario{}
	if _, err := s.Plan(env); err != nil {
		t.Fatal(err)
	}
	s.built, s.cached, s.started, s.deploy, s.replicate = 2*time.Second, true, 80*time.Millisecond, 1100*time.Millisecond, 600*time.Millisecond
	s.rss = []int64{300 << 20, 170 << 20, 90 << 20}
	s.registerTimes, s.loginTimes = []time.Duration{420 * time.Millisecond, 380 * time.Millisecond}, []time.Duration{400 * time.Millisecond, 390 * time.Millisecond}
	for _, tp := range []float64{50, 54} {
		s.sc.Add(SeriesChat, "4", 4, report.Sample{Throughput: tp, P50: 51000, P99: 114000, P999: 285000})
		pt := s.points[4]
		pt.runs++
		pt.posted = append(pt.posted, 120)
		pt.throughput = append(pt.throughput, tp)
		pt.p50, pt.p99 = append(pt.p50, 51000), append(pt.p99, 114000)
		pt.slowest, pt.inboxLag = append(pt.slowest, 285000), append(pt.inboxLag, 800)
	}
	pt := s.points[16]
	pt.runs, pt.cut, pt.failed, pt.lost, pt.statuses = 2, 1, 3, 2, map[int]int{503: 3}
	pt.forwardedPosts, pt.shortRuns, pt.uncounted = 9, 1, 4
	rs := s.Results()
	if len(rs) != 1 || rs[0].Name != ChatScenarioName || rs[0].XLabel != "writers" || len(rs[0].Series) != 1 {
		t.Fatalf("results %+v", rs)
	}
	d := rs[0].Description
	for _, want := range []string{
		"posted 30 messages or 3s passed", "2 runs per writer count",
		"| 2s (cached) | 80ms | 1.1s | 600ms | 300.0 MiB, 170.0 MiB, 90.0 MiB |",
		"| 4 | 2 | 120 | 52 | 51.00 ms | 114.00 ms | 285.00 ms | 800 µs |",
		"registering alice and bob took 420ms, 380ms, logging them in 400ms, 390ms.",
	} {
		if !strings.Contains(d, want) {
			t.Errorf("description lacks %q:\n%s", want, d)
		}
	}
	if strings.Contains(d, "| 16 |") {
		t.Errorf("a writer count without a measurement has a row:\n%s", d)
	}
	// A writer count whose runs all ended with short unread counts has no
	// time for them.
	pt.throughput, pt.posted, pt.p50, pt.p99, pt.slowest = []float64{30}, []float64{450}, []float64{4e5}, []float64{1e6}, []float64{1.2e6}
	if d := s.Results()[0].Description; !strings.Contains(d, "| 16 | 1 | 450 | 30 | 400.00 ms | 1000.00 ms | 1200.00 ms | — |") {
		t.Errorf("description:\n%s", d)
	}
	notes := strings.Join(env.notesFor(ChatScenarioName), "\n")
	for _, want := range []string{"16 writers: 3 posts and 0 reads failed in 2 runs (HTTP 503 ×3)",
		"16 writers: 2 messages were not seen on node 2", "16 writers: the deadline ended 1 of 2 runs",
		"16 writers: node 1, saturated, forwarded 9 requests (posts)", "16 writers: in 1 of 2 runs bob's unread counts on node 2 stayed short of the messages posted (by 4 in all)"} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes lack %q:\n%s", want, notes)
		}
	}
}

func TestChatQuantile(t *testing.T) {
	var xs []time.Duration
	for i := 1; i <= 200; i++ {
		xs = append(xs, time.Duration(i)*time.Millisecond)
	}
	for q, want := range map[float64]time.Duration{0.5: 100 * time.Millisecond, 0.99: 198 * time.Millisecond,
		0.999: 200 * time.Millisecond, 0: time.Millisecond} {
		if got := durationQuantile(xs, q); got != want {
			t.Errorf("durationQuantile(%v) = %v, want %v", q, got, want)
		}
	}
	if durationQuantile(nil, 0.5) != 0 || durationQuantile(xs[:1], 0.99) != time.Millisecond {
		t.Error("short inputs")
	}
}

// TestChatEndToEnd runs the chat scenario for real with a tiny plan: the
// four modules built from the checkout, three `wedge serve` processes,
// two writers of five messages. It uses the suite's usual cache of
// compiled guests (<user cache dir>/wedge-bench/artifacts) like `wedge
// bench` does: compiling the four Go modules (three times each: module,
// instrumented copy, snapshot) takes about a minute on two cores, once
// per machine and version of the app; with the cache the test takes
// about 15 s.
func TestChatEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds wedge and the chat app and starts a cluster")
	}
	wedge, _ := buildBinaries(t)
	out := filepath.Join(t.TempDir(), "report")
	plan := Plan{Profile: "chat-e2e", ChatWriters: []int{2}, ChatRepetitions: 1, ChatMessages: 5, ChatDuration: 10 * time.Second}
	var progress bytes.Buffer
	began := time.Now()
	run, err := Run(t.Context(), Options{Plan: &plan, WedgeBinary: wedge, Scenarios: []string{"chat"}, OutDir: out,
		Progress: &progress, SourceDir: testutil.RepoRoot(t)})
	t.Logf("progress (%v):\n%s", time.Since(began).Round(time.Millisecond), progress.String())
	if err != nil {
		t.Fatal(err)
	}
	if len(run.Scenarios) != 1 {
		t.Fatalf("scenarios %+v", run.Scenarios)
	}
	sc := run.Scenarios[0]
	if sc.Name != ChatScenarioName || len(sc.Series) != 1 || sc.Series[0].Name != SeriesChat {
		t.Fatalf("scenario %+v", sc)
	}
	p, ok := sc.Series[0].Lookup("2")
	if !ok || len(p.Samples.Throughput) != 1 || p.Samples.Throughput[0] <= 0 || p.Samples.P50[0] <= 0 ||
		p.Samples.P99[0] < p.Samples.P50[0] {
		t.Fatalf("point %+v", sc.Series[0].Points)
	}
	// Ten messages delivered and counted, no post failed. A read poll the
	// node shed with 503 (three nodes share one CPU here) is only polled
	// again, so a note of such reads alone is allowed.
	if !strings.Contains(sc.Description, "| 2 | 1 | 10 |") || strings.Contains(sc.Description, "not seen") ||
		strings.Contains(sc.Description, "not run") || !onlyShedReads(sc.Description) {
		t.Errorf("description:\n%s", sc.Description)
	}
	md, err := os.ReadFile(filepath.Join(out, report.ReportFile))
	if err != nil || !bytes.Contains(md, []byte("## "+ChatScenarioName)) || !bytes.Contains(md, []byte("| "+SeriesChat+" | 2 | 1 |")) {
		t.Errorf("report.md: %v\n%s", err, md)
	}
}

// onlyShedReads reports whether every "failed" note in a chat scenario's
// description is about read polls answered 503 alone: no failed post, no
// other kind of error.
func onlyShedReads(desc string) bool {
	re := regexp.MustCompile(`^- \d+ writers: 0 posts and (\d+) reads failed in \d+ runs? \(HTTP 503 ×(\d+)\)$`)
	for _, line := range strings.Split(desc, "\n") {
		if !strings.Contains(line, "failed") {
			continue
		}
		m := re.FindStringSubmatch(line)
		if m == nil || m[1] != m[2] {
			return false
		}
	}
	return true
}

func TestOnlyShedReads(t *testing.T) {
	for desc, want := range map[string]bool{
		"no notes": true,
		"- 2 writers: 0 posts and 1 reads failed in 1 run (HTTP 503 ×1)":  true,
		"- 2 writers: 1 posts and 0 reads failed in 1 run (HTTP 503 ×1)":  false,
		"- 2 writers: 0 posts and 2 reads failed in 1 run (HTTP 503 ×1)":  false,
		"- 2 writers: 0 posts and 1 reads failed in 1 run (HTTP 500 ×1)":  false,
		"- 2 writers: 0 posts and 1 reads failed in 2 runs (HTTP 503 ×1)": true,
	} {
		if got := onlyShedReads(desc); got != want {
			t.Errorf("onlyShedReads(%q) = %v, want %v", desc, got, want)
		}
	}
}
