package cluster

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/wedge-run/wedge/internal/hlc"
	"github.com/wedge-run/wedge/internal/kv"
)

var testSecret = DerivePeerSecret([]byte("test cluster secret"))

// eventually polls cond every 10ms until it holds, or fails the test
// after timeout.
func eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// testLogger discards unless WEDGE_CLUSTER_LOG is set (to a level:
// debug, info, warn).
func testLogger() *slog.Logger {
	lv := os.Getenv("WEDGE_CLUSTER_LOG")
	if lv == "" {
		return slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	var level slog.Level
	_ = level.UnmarshalText([]byte(lv))
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
}

// fakeRegistry is an in-memory Registry with last-writer-wins.
type fakeRegistry struct {
	mu      sync.Mutex
	recs    map[string]FunctionRecord
	arrived map[string]time.Time // when a record (by name+stamp) was applied
	fetch   func(rec FunctionRecord) error
	blobs   map[string][]byte
}

func newFakeRegistry() *fakeRegistry {
	return &fakeRegistry{recs: make(map[string]FunctionRecord), arrived: make(map[string]time.Time), blobs: make(map[string][]byte)}
}

func (r *fakeRegistry) Records() []FunctionRecord {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]FunctionRecord, 0, len(r.recs))
	for _, rec := range r.recs {
		out = append(out, rec)
	}
	return out
}

func (r *fakeRegistry) ApplyRemote(rec FunctionRecord) error {
	r.mu.Lock()
	old, ok := r.recs[rec.Name]
	_, have := r.blobs[rec.SHA256]
	fetch := r.fetch
	r.mu.Unlock()
	if ok && !rec.Newer(old) {
		return nil
	}
	if fetch != nil && !rec.Deleted && !have {
		if err := fetch(rec); err != nil {
			return err
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if old, ok := r.recs[rec.Name]; ok && !rec.Newer(old) {
		return nil
	}
	r.recs[rec.Name] = rec
	r.arrived[rec.Name+"@"+rec.Stamp.String()] = time.Now()
	return nil
}

func (r *fakeRegistry) setFetch(f func(FunctionRecord) error) {
	r.mu.Lock()
	r.fetch = f
	r.mu.Unlock()
}

// local applies a change made on this node.
func (r *fakeRegistry) local(rec FunctionRecord) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.recs[rec.Name] = rec
}

func (r *fakeRegistry) get(name string) (FunctionRecord, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	rec, ok := r.recs[name]
	return rec, ok
}

func (r *fakeRegistry) arrivedAt(rec FunctionRecord) (time.Time, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	t, ok := r.arrived[rec.Name+"@"+rec.Stamp.String()]
	return t, ok
}

func (r *fakeRegistry) blob(sha string) ([]byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	b, ok := r.blobs[sha]
	if !ok {
		return nil, fmt.Errorf("no blob %s", sha)
	}
	return b, nil
}

func (r *fakeRegistry) addBlob(b []byte) string {
	sum := sha256.Sum256(b)
	sha := hex.EncodeToString(sum[:])
	r.mu.Lock()
	r.blobs[sha] = b
	r.mu.Unlock()
	return sha
}

// fakeKV is an in-memory KVReplica with last-writer-wins and
// tombstones.
type fakeKV struct {
	node  string
	clock *hlc.Clock
	mu    sync.Mutex
	data  map[string]map[string]kv.Change
	// arrived records when a remote change was applied, by ns/key@stamp.
	arrived map[string]time.Time
	publish func(kv.Change)
}

func newFakeKV(node string) *fakeKV {
	return &fakeKV{node: node, clock: hlc.New(nil), data: make(map[string]map[string]kv.Change), arrived: make(map[string]time.Time)}
}

func (f *fakeKV) write(ns, key string, op kv.Op, value []byte) kv.Change {
	f.mu.Lock()
	m := f.data[ns]
	if m == nil {
		m = make(map[string]kv.Change)
		f.data[ns] = m
	}
	ch := kv.Change{Namespace: ns, Key: key, Op: op, Value: value, Stamp: f.clock.Now(), Node: f.node, NewVersion: m[key].NewVersion + 1}
	m[key] = ch
	pub := f.publish
	f.mu.Unlock()
	if pub != nil {
		pub(ch)
	}
	return ch
}

func (f *fakeKV) put(ns, key string, value []byte) kv.Change {
	return f.write(ns, key, kv.OpPut, value)
}
func (f *fakeKV) del(ns, key string) kv.Change { return f.write(ns, key, kv.OpDelete, nil) }

func (f *fakeKV) get(ns, key string) (kv.Change, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ch, ok := f.data[ns][key]
	return ch, ok
}

// has reports whether the node holds exactly the write want.
func (f *fakeKV) has(want kv.Change) bool {
	got, ok := f.get(want.Namespace, want.Key)
	return ok && got.Stamp == want.Stamp && got.Node == want.Node && got.Op == want.Op && bytes.Equal(got.Value, want.Value)
}

func (f *fakeKV) arrivedAt(ch kv.Change) (time.Time, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t, ok := f.arrived[ch.Namespace+"/"+ch.Key+"@"+ch.Stamp.String()]
	return t, ok
}

func (f *fakeKV) entriesLocked(ns string, horizon hlc.Timestamp) []EntryMeta {
	var out []EntryMeta
	for k, ch := range f.data[ns] {
		if ch.Op == kv.OpDelete && ch.Stamp.Less(horizon) {
			continue
		}
		out = append(out, EntryMeta{Key: k, Stamp: ch.Stamp, Node: ch.Node, Deleted: ch.Op == kv.OpDelete})
	}
	slices.SortFunc(out, func(a, b EntryMeta) int { return strings.Compare(a.Key, b.Key) })
	return out
}

func (f *fakeKV) Digests(horizon, cutoff hlc.Timestamp) (map[string]Digest, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[string]Digest)
	for ns := range f.data {
		var settled []EntryMeta
		for _, e := range f.entriesLocked(ns, horizon) {
			if cutoff.IsZero() || e.Stamp.Less(cutoff) {
				settled = append(settled, e)
			}
		}
		if d := DigestOf(settled); d.Count > 0 {
			out[ns] = d
		}
	}
	return out, nil
}

func (f *fakeKV) Entries(ns, after string, limit int, horizon hlc.Timestamp) ([]EntryMeta, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []EntryMeta
	for _, e := range f.entriesLocked(ns, horizon) {
		if e.Key <= after {
			continue
		}
		if len(out) == limit {
			return out, true, nil
		}
		out = append(out, e)
	}
	return out, false, nil
}

func (f *fakeKV) Export(ns, key string) (kv.Change, error) {
	if ch, ok := f.get(ns, key); ok {
		return ch, nil
	}
	return kv.Change{}, fmt.Errorf("%w: %s/%s", kv.ErrNotFound, ns, key)
}

func (f *fakeKV) Apply(c kv.Change) (bool, error) {
	f.clock.Update(c.Stamp)
	f.mu.Lock()
	defer f.mu.Unlock()
	m := f.data[c.Namespace]
	if m == nil {
		m = make(map[string]kv.Change)
		f.data[c.Namespace] = m
	}
	if old, ok := m[c.Key]; ok && !Newer(c.Stamp, c.Node, old.Stamp, old.Node) {
		return false, nil
	}
	c.Remote = true
	m[c.Key] = c
	f.arrived[c.Namespace+"/"+c.Key+"@"+c.Stamp.String()] = time.Now()
	return true, nil
}

// testNode is a Cluster with fakes and a real fasthttp admin server on
// 127.0.0.1 serving its internal handlers.
type testNode struct {
	name string
	c    *Cluster
	reg  *fakeRegistry
	kv   *fakeKV
	srv  *fasthttp.Server
	ln   net.Listener
	cfg  Config
}

// serveRoutes starts a fasthttp server for routes on ln.
func serveRoutes(t testing.TB, ln net.Listener, routes []Route) *fasthttp.Server {
	srv := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) {
		for _, r := range routes {
			if strings.HasPrefix(string(ctx.Path()), r.Prefix) {
				r.Handler(ctx)
				return
			}
		}
		ctx.Error("not found", 404)
	}}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ln)
	}()
	t.Cleanup(func() {
		_ = srv.Shutdown()
		_ = ln.Close() // Shutdown misses a listener that Serve has not registered yet
		<-done
	})
	return srv
}

// startNode starts a node named name with the local preset, the fake
// registry and the fake KV replica.
func startNode(t testing.TB, name string, mod ...func(*Config)) *testNode {
	t.Helper()
	return startNodeKV(t, name, nil, mod...)
}

// startNodeKV is startNode replicating rep instead of the fake KV.
func startNodeKV(t testing.TB, name string, rep KVReplica, mod ...func(*Config)) *testNode {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	n := &testNode{name: name, reg: newFakeRegistry(), kv: newFakeKV(name), ln: ln}
	n.cfg = Config{
		NodeName:   name,
		BindAddr:   "127.0.0.1:0",
		Preset:     PresetLocal,
		Meta:       NodeMeta{AdminAddr: ln.Addr().String(), PublicAddr: "127.0.0.1:1", Version: "test"},
		PeerSecret: testSecret,
		Log:        testLogger(),
	}
	for _, m := range mod {
		m(&n.cfg)
	}
	if rep == nil {
		rep = n.kv
	}
	c, err := New(n.cfg, n.reg, rep)
	if err != nil {
		ln.Close()
		t.Fatalf("New(%s): %v", name, err)
	}
	n.c = c
	n.kv.mu.Lock()
	n.kv.publish = c.PublishKV
	n.kv.mu.Unlock()
	n.reg.setFetch(func(rec FunctionRecord) error {
		b, err := c.FetchBlob(c.ctx, rec.SHA256, []string{rec.Node})
		if err != nil {
			return err
		}
		n.reg.addBlob(b)
		return nil
	})
	n.srv = serveRoutes(t, ln, c.Handlers(n.reg.blob))
	t.Cleanup(func() { _ = c.Shutdown() })
	return n
}

// startCluster starts n nodes named node-0.. and joins them to node-0.
func startCluster(t testing.TB, n int, mod ...func(*Config)) []*testNode {
	t.Helper()
	nodes := make([]*testNode, n)
	for i := range nodes {
		nodes[i] = startNode(t, fmt.Sprintf("node-%d", i), mod...)
		if i > 0 {
			if _, err := nodes[i].c.Join([]string{nodes[0].c.Addr()}); err != nil {
				t.Fatalf("join: %v", err)
			}
		}
	}
	waitMembers(t, nodes, n)
	return nodes
}

// waitMembers waits until every node sees want alive members.
func waitMembers(t testing.TB, nodes []*testNode, want int) {
	t.Helper()
	eventually(t, 10*time.Second, fmt.Sprintf("%d alive members on every node", want), func() bool {
		for _, n := range nodes {
			if n.c.NumAlive() != want {
				return false
			}
		}
		return true
	})
}

// publishFunction makes a local change on n (deploying blob, or deleting
// the function if blob is nil) and publishes it.
func (n *testNode) publishFunction(name string, blob []byte, spec string) FunctionRecord {
	rec := FunctionRecord{Name: name, Spec: []byte(spec), Deleted: blob == nil, Stamp: n.kv.clock.Now(), Node: n.name}
	if blob != nil {
		rec.SHA256 = n.reg.addBlob(blob)
	}
	n.reg.local(rec)
	n.c.PublishFunction(rec)
	return rec
}

func hasRecord(n *testNode, want FunctionRecord) bool {
	got, ok := n.reg.get(want.Name)
	return ok && got.Stamp == want.Stamp && got.Node == want.Node && got.Deleted == want.Deleted && bytes.Equal(got.Spec, want.Spec)
}
