package console

import (
	"context"
	"io/fs"
	"math"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wedge-run/wedge/internal/access"
	"github.com/wedge-run/wedge/internal/gateway"
	"github.com/wedge-run/wedge/internal/kv"
	"go.etcd.io/bbolt"
)

// testClock is a settable clock for the sessions and their KV store.
type testClock struct{ t time.Time }

func (c *testClock) Now() time.Time { return c.t }

// testSessions are sessions kept in a KV store of their own (bbolt
// without fsync: the bound test writes a thousand), standing for the
// tokens in toks (secret hash -> token).
func testSessions(t *testing.T, clock *testClock, toks map[string]access.Token) *sessions {
	t.Helper()
	db, err := bbolt.Open(filepath.Join(t.TempDir(), "kv.db"), 0o600, &bbolt.Options{Timeout: 5 * time.Second, NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	st, err := kv.Open(db, kv.Options{NodeID: "n1", Clock: clock, PurgeInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close(); db.Close() })
	return &sessions{kv: st, ttl: time.Hour, now: clock.Now, node: "n1", byHash: func(h string) (access.Token, bool) {
		tok, ok := toks[h]
		return tok, ok
	}}
}

func TestSessionsExpireAndRevoke(t *testing.T) {
	ctx := context.Background()
	clock := &testClock{time.Unix(1_000_000, 0)}
	ops := access.Token{Name: "ops", Scope: access.ScopeRead, Functions: "chat-*"}
	toks := map[string]access.Token{access.Hash("s1"): ops}
	s := testSessions(t, clock, toks)
	id, exp, err := s.create(ctx, ops, access.Hash("s1"))
	if err != nil || len(id) != 64 || !exp.Equal(clock.t.Add(time.Hour)) {
		t.Fatalf("id %q (want 64 hex), expiry %v, %v", id, exp, err)
	}
	if tok, _, ok := s.valid(id); !ok || tok != ops {
		t.Fatalf("a new session: %+v, %v; want the token it was signed in with", tok, ok)
	}
	// The id itself is stored nowhere: only its hash is a key.
	if p, _ := s.kv.List(SessionsNamespace, kv.ListOptions{}); len(p.Entries) != 1 || p.Entries[0].Key != access.Hash(id) ||
		strings.Contains(string(p.Entries[0].Value), id) {
		t.Fatalf("stored sessions %+v; want one, under the id's hash, without the id", p.Entries)
	}
	other, _, _ := s.create(ctx, ops, access.Hash("s1"))
	if other == id {
		t.Fatal("two sessions share an id")
	}
	for _, bad := range []string{"", "x", id[:63], strings.ToUpper(id), access.Hash(id)} {
		if _, _, ok := s.valid(bad); ok {
			t.Errorf("%q is a valid session", bad)
		}
	}
	if err := s.revoke(ctx, id); err != nil {
		t.Fatal(err)
	}
	if _, _, ok := s.valid(id); ok {
		t.Fatal("a revoked session is still valid")
	}
	// The token revoked: its sessions end with it.
	delete(toks, access.Hash("s1"))
	if _, _, ok := s.valid(other); ok {
		t.Fatal("a session of a revoked token is still valid")
	}
	toks[access.Hash("s1")] = ops
	if _, _, ok := s.valid(other); !ok {
		t.Fatal("the session is not valid with its token back")
	}
	// A token of the same name with another secret is another token.
	toks[access.Hash("s1")] = access.Token{Name: "someone-else", Scope: access.ScopeAdmin}
	if _, _, ok := s.valid(other); ok {
		t.Fatal("a session stands for a token of another name")
	}
	toks[access.Hash("s1")] = ops
	clock.t = clock.t.Add(time.Hour)
	if _, _, ok := s.valid(other); ok {
		t.Fatal("a session past its expiry is still valid")
	}
}

func TestSessionsAreBounded(t *testing.T) {
	ctx := context.Background()
	clock := &testClock{time.Unix(1_000_000, 0)}
	admin := access.Token{Name: access.AdminName, Scope: access.ScopeAdmin}
	s := testSessions(t, clock, map[string]access.Token{"h": admin})
	first, _, err := s.create(ctx, admin, "h")
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < maxSessions+10; i++ {
		clock.t = clock.t.Add(time.Millisecond)
		if _, _, err := s.create(ctx, admin, "h"); err != nil {
			t.Fatal(err)
		}
	}
	if p, _ := s.kv.List(SessionsNamespace, kv.ListOptions{Limit: kv.MaxListLimit}); len(p.Entries) > maxSessions || p.NextCursor != "" {
		t.Fatalf("%d sessions kept (more: %v); the bound is %d", len(p.Entries), p.NextCursor != "", maxSessions)
	}
	if _, _, ok := s.valid(first); ok {
		t.Fatal("the oldest session survived past the bound")
	}
}

func TestQuantileInterpolatesInsideTheBucket(t *testing.T) {
	bounds := []float64{0.001, 0.01, 0.1}
	cases := []struct {
		counts  []int64
		q, want float64 // want in ms
	}{
		{[]int64{100, 0, 0, 0}, 0.5, 0.5},   // half-way through (0, 1ms]
		{[]int64{0, 100, 0, 0}, 0.5, 5.5},   // half-way through (1, 10] ms
		{[]int64{50, 50, 0, 0}, 0.99, 9.82}, // 49 of the 50 in (1, 10]
		{[]int64{0, 0, 0, 10}, 0.5, 100},    // above every bound: the highest bound
		{[]int64{90, 0, 10, 0}, 0.99, 91},   // 9 of the 10 in (10, 100] ms
		{[]int64{0, 0, 0, 0}, 0.99, 0},      // nothing: 0
	}
	for _, c := range cases {
		if got := quantile(c.counts, bounds, c.q); math.Abs(got-c.want) > 0.01 {
			t.Errorf("quantile(%v, %v) = %v ms, want %v", c.counts, c.q, got, c.want)
		}
	}
}

func TestHistoryIsBoundedAndRates(t *testing.T) {
	bounds := []float64{0.001, 0.01}
	h := newHistory(10*time.Second, 5, bounds)
	t0 := time.Unix(1_000_000, 0)
	cur := gateway.FunctionCounters{Buckets: make([]int64, 3)}
	h.record(t0, map[string]gateway.FunctionCounters{"f": cur})
	for i := 1; i <= 8; i++ {
		// 100 requests every 10 s, 10 of them 5xx, all under 1 ms.
		cur = gateway.FunctionCounters{Requests: cur.Requests + 100, Errors: cur.Errors + 10,
			Buckets: []int64{cur.Buckets[0] + 100, 0, 0}}
		h.record(t0.Add(time.Duration(i)*10*time.Second), map[string]gateway.FunctionCounters{"f": cur, "idle": {Buckets: make([]int64, 3)}})
	}
	got := h.samples("f", t0.Add(80*time.Second), cur, true)
	if len(got) != 5 {
		t.Fatalf("%d samples kept; the ring holds 5", len(got))
	}
	for i, s := range got {
		if s.T != t0.Add(time.Duration(40+10*i)*time.Second).Unix() {
			t.Errorf("sample %d at %d: not oldest first", i, s.T)
		}
		if s.RPS != 10 || s.ErrorRate != 0.1 || s.P50 != 0.5 {
			t.Errorf("sample %d: %+v, want 10 req/s, 10%% errors, p50 0.5 ms", i, s)
		}
	}
	if s := h.samples("idle", t0, gateway.FunctionCounters{}, false); len(s) != 0 {
		t.Errorf("a function with no request has %d samples", len(s))
	}
	// A partial sample from the last one to now.
	live := h.samples("f", t0.Add(85*time.Second), gateway.FunctionCounters{Requests: cur.Requests + 50, Buckets: []int64{cur.Buckets[0] + 50, 0, 0}}, true)
	if n := len(live); n != 6 || live[5].RPS != 10 {
		t.Fatalf("with the live sample: %d samples, last %+v; want 6, 10 req/s", n, live[n-1])
	}
	// Idle a whole window: the series gives its place back.
	for i := 9; i <= 15; i++ {
		h.record(t0.Add(time.Duration(i)*10*time.Second), map[string]gateway.FunctionCounters{"f": cur})
	}
	if _, ok := h.series["f"]; ok {
		t.Fatal("a function idle for a whole window still has a series")
	}
}

// TestAssetsHaveNoInlineScript: the CSP forbids inline script and inline
// handlers; the page must not need them (they would silently not run).
func TestAssetsHaveNoInlineScript(t *testing.T) {
	html, err := fs.ReadFile(static, "static/index.html")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range regexp.MustCompile(`<script[^>]*>`).FindAll(html, -1) {
		if !strings.Contains(string(m), `src="/console/`) {
			t.Errorf("inline or foreign script: %s", m)
		}
	}
	if m := regexp.MustCompile(`(?i)\son[a-z]+\s*=`).Find(html); m != nil {
		t.Errorf("inline event handler: %s", m)
	}
	if m := regexp.MustCompile(`(?i)\sstyle\s*=`).Find(html); m != nil {
		t.Errorf("inline style: %s", m)
	}
	if m := regexp.MustCompile(`(?i)(src|href)="(https?:)?//`).Find(html); m != nil {
		t.Errorf("external resource: %s", m)
	}
	js, _ := fs.ReadFile(static, "static/console.js")
	for _, bad := range []string{"innerHTML", "eval(", "new Function", "document.write", "localStorage", "sessionStorage"} {
		if strings.Contains(string(js), bad) {
			t.Errorf("console.js uses %s", bad)
		}
	}
}
