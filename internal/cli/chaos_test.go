//go:build linux

package cli_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/wedge-run/wedge/client"
	"github.com/wedge-run/wedge/internal/testutil"
	"github.com/wedge-run/wedge/internal/testutil/netns"
)

// The cluster chaos test: five `wedge serve` processes, each in its own
// network namespace, under a random schedule of kill -9, restarts and
// network partitions while clients write KV data and deploy functions.
// Once the network is healed and every node is running again, every
// node must hold every acknowledged write and serve the same functions.
//
// The schedule is drawn from a seed, logged at the start and in every
// failure; WEDGE_CHAOS_SEED=<seed> replays the same schedule (the same
// events at the same offsets, the same client choices; the interleaving
// of the clients with the events is timing and may differ).

const (
	chaosSeedEnv = "WEDGE_CHAOS_SEED"
	chaosNodes   = 5
	chaosEvents  = 13
	chaosNS      = "chaos" // the KV namespace the writers use
	chaosWriters = 4
	chaosMaxDown = 2 // nodes down at once, at most
)

// chaosEvent is one step of the schedule.
type chaosEvent struct {
	At     time.Duration // after the chaos started
	Kind   string        // "kill", "restart", "partition", "heal"
	Node   int           // kill and restart: the node's index
	Island []int         // partition: each node's bridge
}

func (e chaosEvent) String() string {
	at := e.At.Round(100 * time.Millisecond)
	switch e.Kind {
	case "kill", "restart":
		return fmt.Sprintf("%v %s n%d", at, e.Kind, e.Node+1)
	case "partition":
		return fmt.Sprintf("%v partition %s", at, groupsString(e.Island))
	}
	return fmt.Sprintf("%v %s", at, e.Kind)
}

// groupsString writes an island assignment as "{n1 n3} {n2 n4 n5}".
func groupsString(island []int) string {
	groups := map[int][]string{}
	var order []int
	for i, g := range island {
		if groups[g] == nil {
			order = append(order, g)
		}
		groups[g] = append(groups[g], fmt.Sprintf("n%d", i+1))
	}
	var out []string
	for _, g := range order {
		out = append(out, "{"+strings.Join(groups[g], " ")+"}")
	}
	return strings.Join(out, " ")
}

// chaosSchedule draws events from rng: 2 to 4.5 s apart; a kill while
// fewer than chaosMaxDown nodes are down, a restart while one is, a
// partition (into 2 or 3 groups, possibly replacing another) at any
// time, a heal while partitioned. Every schedule holds at least one
// kill and one partition.
func chaosSchedule(rng *rand.Rand, nodes, events int) []chaosEvent {
	for {
		var out []chaosEvent
		down := map[int]bool{}
		split := false
		at := time.Second
		kinds := map[string]int{}
		for len(out) < events {
			at += time.Duration(2000+rng.IntN(2500)) * time.Millisecond
			var choices []string
			if len(down) < chaosMaxDown {
				choices = append(choices, "kill", "kill")
			}
			if len(down) > 0 {
				choices = append(choices, "restart", "restart")
			}
			choices = append(choices, "partition")
			if split {
				choices = append(choices, "heal")
			}
			e := chaosEvent{At: at, Kind: choices[rng.IntN(len(choices))]}
			switch e.Kind {
			case "kill":
				var up []int
				for i := range nodes {
					if !down[i] {
						up = append(up, i)
					}
				}
				e.Node = up[rng.IntN(len(up))]
				down[e.Node] = true
			case "restart":
				var ds []int
				for i := range nodes {
					if down[i] {
						ds = append(ds, i)
					}
				}
				e.Node = ds[rng.IntN(len(ds))]
				delete(down, e.Node)
			case "partition":
				groups := 2 + rng.IntN(2)
				for {
					e.Island = make([]int, nodes)
					used := map[int]bool{}
					for i := range e.Island {
						e.Island[i] = rng.IntN(groups)
						used[e.Island[i]] = true
					}
					if len(used) == groups {
						break
					}
				}
				split = true
			case "heal":
				split = false
			}
			kinds[e.Kind]++
			out = append(out, e)
		}
		if kinds["kill"] > 0 && kinds["partition"] > 0 {
			return out
		}
	}
}

// chaosSeed returns the seed from WEDGE_CHAOS_SEED, or a new one.
func chaosSeed(t *testing.T) uint64 {
	if s := os.Getenv(chaosSeedEnv); s != "" {
		seed, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("%s=%q: not an unsigned integer", chaosSeedEnv, s)
		}
		return seed
	}
	return rand.Uint64() >> 1 // readable, and fits an int64 too
}

// outcome is what a client learned of a write.
type outcome int

const (
	notApplied outcome = iota // refused before it reached the node, or a 4xx: nothing was written
	acked                     // 2xx: written and durable on the node
	uncertain                 // no answer, or a 5xx: may or may not have been written
)

func (o outcome) String() string { return [...]string{"not applied", "acked", "uncertain"}[o] }

// classify turns a client error into an outcome.
func classify(err error) outcome {
	if err == nil {
		return acked
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Op == "dial" {
		return notApplied
	}
	var ae *client.APIError
	if errors.As(err, &ae) && ae.Status >= 400 && ae.Status < 500 {
		return notApplied
	}
	return uncertain
}

// step is one write of a key (or function) by its single writer: the
// state it sets ("" = deleted) and what the writer learned of it.
type step struct {
	state   string
	outcome outcome
	node    string        // where it was sent
	at      time.Duration // when it returned, after the clients started
}

func (s step) String() string {
	st := strconv.Quote(s.state)
	if s.state == "" {
		st = "delete"
	}
	return fmt.Sprintf("%s %s on %s at %v", st, s.outcome, s.node, s.at.Round(100*time.Millisecond))
}

// lastSteps shows the end of a history: a failure needs only that.
func lastSteps(steps []step) string {
	const keep = 4
	var parts []string
	if len(steps) > keep {
		parts = append(parts, fmt.Sprintf("... %d before", len(steps)-keep))
		steps = steps[len(steps)-keep:]
	}
	for _, s := range steps {
		parts = append(parts, s.String())
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// finalStates returns the states a key written by steps (in order, by
// one writer, never two at once, and never after an uncertain one) may
// end in on every node: that of the last acknowledged step or of any
// later one (the last step may be uncertain); with none acknowledged,
// also absent.
func finalStates(steps []step) []string {
	last := -1
	for i, s := range steps {
		if s.outcome == acked {
			last = i
		}
	}
	var out []string
	if last < 0 {
		out = append(out, "")
		last = 0
	}
	for _, s := range steps[last:] {
		if !slices.Contains(out, s.state) {
			out = append(out, s.state)
		}
	}
	return out
}

// ledger records every write the clients made.
type ledger struct {
	mu        sync.Mutex
	unique    map[string]outcome   // keys written once: acked or uncertain
	single    map[string][]step    // keys with one writer, overwritten and deleted
	shared    map[string][]step    // keys every writer puts, concurrently
	functions map[string][]step    // function name -> module body ("" = deleted)
	counts    map[string]int       // "kv acked", "kv uncertain", ...
	rejected  []string             // 4xx answers to valid requests (logged)
	modules   map[string][]byte    // body -> module
	sha       map[string]string    // body -> sha256 of the module
	lastDone  map[string]time.Time // key or function -> when its last write returned
	began     time.Time            // when the clients started
}

func (l *ledger) count(what string, o outcome, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.counts[what+" "+o.String()]++
	var ae *client.APIError
	if errors.As(err, &ae) && ae.Status < 500 && len(l.rejected) < 10 {
		l.rejected = append(l.rejected, fmt.Sprintf("%s: %d %s", what, ae.Status, ae.Message))
	}
}

// chaosValue is the value of a key written once.
func chaosValue(key string) string { return "value of " + key }

// spaced waits until the wall clock's millisecond is past the one in
// which the previous write of the same key returned. Last-writer-wins
// compares hybrid logical clock stamps read in milliseconds from the
// machine's one wall clock: a write sent in a later millisecond than the
// previous one's acknowledgement is stamped later wherever it lands, so
// one writer's writes are ordered as it sent them (within one
// millisecond two nodes' logical counters could order them either way).
func spaced(prev time.Time) {
	for !prev.IsZero() && time.Now().UnixMilli() <= prev.UnixMilli()+1 {
		time.Sleep(time.Millisecond)
	}
}

// kvWriter writes until ctx ends or it made max writes, through a node
// chosen at random for each write: mostly keys written once
// (w<i>/u/<n>); keys it alone overwrites and deletes
// (w<i>/s/<slot>.<gen>), never writing again a key whose last write is
// uncertain (it moves to the slot's next generation); and a few keys
// every writer puts (shared/<n>).
func kvWriter(ctx context.Context, w int, seed uint64, nodes []*pnode, l *ledger, max int) {
	rng := rand.New(rand.NewPCG(seed, uint64(w)+1))
	const slots = 12
	gen := make([]int, slots)
	writes := make([]int, slots)
	for i := 0; i < max && ctx.Err() == nil; i++ {
		n := nodes[rng.IntN(len(nodes))]
		opCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
		switch r := rng.IntN(10); {
		case r < 6:
			key := fmt.Sprintf("w%d/u/%05d", w, i)
			_, err := n.cl.KVPut(opCtx, chaosNS, key, []byte(chaosValue(key)), client.KVPutOptions{})
			cancel()
			o := classify(err)
			l.count("kv", o, err)
			if o != notApplied {
				l.mu.Lock()
				l.unique[key] = o
				l.mu.Unlock()
			}
			continue
		case r < 7:
			key := fmt.Sprintf("shared/%d", rng.IntN(4))
			value := fmt.Sprintf("%s by w%d at %d", key, w, i)
			_, err := n.cl.KVPut(opCtx, chaosNS, key, []byte(value), client.KVPutOptions{})
			cancel()
			o := classify(err)
			l.count("kv", o, err)
			if o != notApplied {
				l.mu.Lock()
				l.shared[key] = append(l.shared[key], step{value, o, n.name, time.Since(l.began)})
				l.mu.Unlock()
			}
			continue
		}
		slot := rng.IntN(slots)
		key := fmt.Sprintf("w%d/s/%02d.%d", w, slot, gen[slot])
		l.mu.Lock()
		prev := l.lastDone[key]
		l.mu.Unlock()
		spaced(prev)
		var err error
		state := ""
		if writes[slot] > 0 && rng.IntN(5) == 0 {
			err = n.cl.KVDelete(opCtx, chaosNS, key, nil)
		} else {
			state = fmt.Sprintf("%s#%d", key, writes[slot])
			_, err = n.cl.KVPut(opCtx, chaosNS, key, []byte(state), client.KVPutOptions{})
		}
		cancel()
		o := classify(err)
		l.count("kv", o, err)
		if o == notApplied {
			continue
		}
		writes[slot]++
		l.mu.Lock()
		l.single[key] = append(l.single[key], step{state, o, n.name, time.Since(l.began)})
		l.lastDone[key] = time.Now()
		l.mu.Unlock()
		if o == uncertain {
			gen[slot]++
			writes[slot] = 0
		}
	}
}

// deployer deploys, redeploys and deletes functions named f<n> (route
// /f<n>, answering the module's body) through random nodes, one
// operation every 200-600 ms, keeping up to 6 functions; a function
// whose last operation is uncertain is left alone from then on.
func deployer(ctx context.Context, seed uint64, nodes []*pnode, l *ledger, bodies []string, max int) {
	rng := rand.New(rand.NewPCG(seed, 1000))
	var live []string // functions it may still change
	current := map[string]string{}
	next := 0
	for i := 0; i < max && ctx.Err() == nil; i++ {
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Duration(200+rng.IntN(400)) * time.Millisecond):
		}
		n := nodes[rng.IntN(len(nodes))]
		var name, state string
		switch r := rng.IntN(10); {
		case len(live) == 0 || (r < 3 && len(live) < 6):
			name = fmt.Sprintf("f%d", next)
			next++
			live = append(live, name)
			state = bodies[rng.IntN(len(bodies))]
		case r < 8:
			name = live[rng.IntN(len(live))]
			for state = current[name]; state == current[name]; {
				state = bodies[rng.IntN(len(bodies))]
			}
		default:
			name = live[rng.IntN(len(live))]
		}
		l.mu.Lock()
		prev := l.lastDone[name]
		l.mu.Unlock()
		spaced(prev)
		opCtx, cancel := context.WithTimeout(ctx, 20*time.Second)
		var err error
		if state == "" {
			err = n.cl.Delete(opCtx, name)
		} else {
			_, _, err = n.cl.Deploy(opCtx, name, l.modules[state], client.DeployOptions{Routes: []string{"/" + name}})
		}
		cancel()
		o := classify(err)
		l.count("function", o, err)
		if o == notApplied {
			l.mu.Lock()
			never := len(l.functions[name]) == 0
			l.mu.Unlock()
			if never {
				live = slices.DeleteFunc(live, func(s string) bool { return s == name })
			}
			continue
		}
		l.mu.Lock()
		l.functions[name] = append(l.functions[name], step{state, o, n.name, time.Since(l.began)})
		l.lastDone[name] = time.Now()
		l.mu.Unlock()
		current[name] = state
		if o == uncertain || state == "" {
			live = slices.DeleteFunc(live, func(s string) bool { return s == name })
		}
	}
}

// kvDump returns every key of the chaos namespace on n with its value.
func kvDump(ctx context.Context, n *pnode) (map[string]string, error) {
	out := map[string]string{}
	cursor := ""
	for {
		var page struct {
			Keys []struct{ Key, Value string } `json:"keys"`
			Next string                        `json:"next_cursor"`
		}
		q := url.Values{"values": {"1"}, "limit": {"1000"}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		if _, err := n.cl.Do(ctx, "GET", "/v1/kv/"+chaosNS, q, nil, nil, &page); err != nil {
			if client.IsStatus(err, 404) && cursor == "" {
				return out, nil // no namespace yet
			}
			return nil, err
		}
		for _, k := range page.Keys {
			out[k.Key] = k.Value
		}
		if page.Next == "" {
			return out, nil
		}
		cursor = page.Next
	}
}

// problems collects at most a few lines per kind.
type problems struct {
	lines []string
	per   map[string]int
}

func (p *problems) add(kind, format string, args ...any) {
	if p.per == nil {
		p.per = map[string]int{}
	}
	p.per[kind]++
	if p.per[kind] <= 4 {
		p.lines = append(p.lines, kind+": "+fmt.Sprintf(format, args...))
	}
}

func (p *problems) String() string {
	if len(p.lines) == 0 {
		return ""
	}
	var more []string
	for k, n := range p.per {
		if n > 4 {
			more = append(more, fmt.Sprintf("%d more %s", n-4, k))
		}
	}
	sort.Strings(more)
	return strings.Join(append(p.lines, more...), "\n  ")
}

// show prints a state for a message.
func show(s string, present bool) string {
	if !present {
		return "<absent>"
	}
	return strconv.Quote(s)
}

// checkConverged reports what differs from the converged state: each
// node's KV namespace and function list identical to the others', every
// acknowledged write there, every key and function in a state its
// writer allows, and every function answering on every node.
func checkConverged(ctx context.Context, nodes []*pnode, l *ledger) string {
	var p problems
	dumps := make([]map[string]string, len(nodes))
	fns := make([]map[string]string, len(nodes)) // name -> sha256
	for i, n := range nodes {
		d, err := kvDump(ctx, n)
		if err != nil {
			p.add("unreachable", "%s: listing keys: %v", n.name, err)
			continue
		}
		dumps[i] = d
		list, err := n.cl.List(ctx)
		if err != nil {
			p.add("unreachable", "%s: listing functions: %v", n.name, err)
			continue
		}
		fns[i] = map[string]string{}
		for _, f := range list {
			fns[i][f.Name] = f.SHA256
		}
	}
	if len(p.lines) > 0 {
		return p.String()
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, n := range nodes {
		d := dumps[i]
		for key, o := range l.unique {
			v, ok := d[key]
			if ok && v != chaosValue(key) {
				p.add("wrong value", "%s holds %s=%q", n.name, key, v)
			} else if !ok && o == acked {
				p.add("acknowledged write missing", "%s lacks %s", n.name, key)
			}
		}
		for key, steps := range l.single {
			v, ok := d[key]
			if allowed := finalStates(steps); !slices.Contains(allowed, v) || (v == "" && ok) {
				p.add("overwritten key in a wrong state", "%s holds %s=%s, allowed %q (writes %s)", n.name, key, show(v, ok), allowed, lastSteps(steps))
			}
		}
		// Keys written concurrently hold one of the values written (the
		// agreement check below makes it the same one everywhere).
		for key, steps := range l.shared {
			v, ok := d[key]
			var tried []string
			wasAcked := false
			for _, s := range steps {
				tried = append(tried, s.state)
				wasAcked = wasAcked || s.outcome == acked
			}
			if (!ok && wasAcked) || (ok && !slices.Contains(tried, v)) {
				p.add("shared key in a wrong state", "%s holds %s=%s, written %d times (last %s)", n.name, key, show(v, ok), len(steps), lastSteps(steps))
			}
		}
		for key, v := range d {
			if _, ok := l.unique[key]; !ok && l.single[key] == nil && l.shared[key] == nil {
				p.add("key nobody wrote", "%s holds %s=%q", n.name, key, v)
			}
		}
		for name, steps := range l.functions {
			sha, ok := fns[i][name]
			allowed := finalStates(steps)
			var want []string
			for _, s := range allowed {
				want = append(want, l.sha[s])
			}
			if !slices.Contains(want, sha) || (sha == "" && ok) {
				p.add("function in a wrong state", "%s has %s at %s, allowed %q (operations %s)", n.name, name, show(sha, ok), allowed, lastSteps(steps))
			}
		}
		for name := range fns[i] {
			if l.functions[name] == nil {
				p.add("function nobody deployed", "%s has %s", n.name, name)
			}
		}
	}
	// Agreement: every node as the first.
	for i := 1; i < len(nodes); i++ {
		for key, v := range dumps[0] {
			if w, ok := dumps[i][key]; !ok || w != v {
				p.add("nodes disagree", "%s=%q on %s, %s on %s", key, v, nodes[0].name, show(w, ok), nodes[i].name)
			}
		}
		for key, w := range dumps[i] {
			if _, ok := dumps[0][key]; !ok {
				p.add("nodes disagree", "%s=%q on %s, absent on %s", key, w, nodes[i].name, nodes[0].name)
			}
		}
		for name, sha := range fns[0] {
			if s, ok := fns[i][name]; !ok || s != sha {
				p.add("nodes disagree on functions", "%s at %s on %s, %s on %s", name, sha, nodes[0].name, show(s, ok), nodes[i].name)
			}
		}
		for name := range fns[i] {
			if _, ok := fns[0][name]; !ok {
				p.add("nodes disagree on functions", "%s on %s, absent on %s", name, nodes[i].name, nodes[0].name)
			}
		}
	}
	if len(p.lines) > 0 {
		return p.String()
	}
	// Every node serves what it lists.
	body := map[string]string{}
	for b, s := range l.sha {
		body[s] = b
	}
	for name := range l.functions {
		sha, listed := fns[0][name]
		for _, n := range nodes {
			st, got := n.get("/" + name)
			if listed && (st != 200 || got != body[sha]) {
				p.add("function not served", "%s /%s: %d %q, want 200 %q", n.name, name, st, got, body[sha])
			} else if !listed && st != 404 {
				p.add("deleted function served", "%s /%s: %d %q, want 404", n.name, name, st, got)
			}
		}
	}
	return p.String()
}

// TestClusterChaos runs five nodes, each in its own network namespace,
// through a random schedule of kill -9, restarts and partitions (nodes
// moved onto separate bridges) while four clients write KV data and one
// deploys functions through random nodes; then heals the network,
// restarts the nodes that are down, and checks that the cluster
// converges: every node holds every acknowledged write, the same data
// and the same functions, and serves them.
func TestClusterChaos(t *testing.T) {
	if testing.Short() {
		t.Skip("the chaos test takes one to two minutes; not with -short")
	}
	const token, key = "chaos-token", "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
	seed := chaosSeed(t)
	schedule := chaosSchedule(rand.New(rand.NewPCG(seed, 0)), chaosNodes, chaosEvents)
	var lines []string
	for _, e := range schedule {
		lines = append(lines, e.String())
	}
	t.Logf("chaos seed %d (replay with %s=%d); schedule:\n  %s", seed, chaosSeedEnv, seed, strings.Join(lines, "\n  "))

	nw := netns.New(t)
	wedgeBinary(t)
	islands := []string{"isl0", "isl1", "isl2"}
	for _, b := range islands {
		nw.Bridge(b)
	}
	nodes := make([]*pnode, chaosNodes)
	for i := range nodes {
		n := &pnode{name: fmt.Sprintf("n%d", i+1), logs: &testutil.SyncBuffer{}}
		n.host = nw.Host(n.name, islands[0], fmt.Sprintf("127.30.0.%d/24", i+1))
		n.http = n.host.HTTPClient(30 * time.Second)
		n.cl = client.New("http://"+n.host.Addr(9090), token)
		n.cl.HTTP = n.http
		nodes[i] = n
	}
	failed := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("chaos seed %d (replay with %s=%d): %s", seed, chaosSeedEnv, seed, fmt.Sprintf(format, args...))
	}
	t.Cleanup(func() {
		if t.Failed() {
			// The whole logs go to files that outlive the test.
			dir, err := os.MkdirTemp("", fmt.Sprintf("wedge-chaos-%d-", seed))
			for _, n := range nodes {
				t.Logf("--- log of %s:\n%s", n.name, tail(n.logs.String(), 40))
				if err == nil {
					err = os.WriteFile(filepath.Join(dir, n.name+".log"), []byte(n.logs.String()), 0o644)
				}
			}
			if err == nil {
				t.Logf("the nodes' whole logs are in %s", dir)
			}
			t.Logf("chaos seed %d (replay with %s=%d)", seed, chaosSeedEnv, seed)
		}
	})
	dataDirs := make([]string, chaosNodes)
	for i := range dataDirs {
		dataDirs[i] = t.TempDir()
	}
	others := func(i int) []string {
		var seeds []string
		for j, n := range nodes {
			if j != i {
				seeds = append(seeds, n.host.Addr(7946))
			}
		}
		return seeds
	}
	down := make([]bool, chaosNodes)
	start := func(i int, join []string) {
		n := nodes[i]
		args := []string{"--http", n.host.Addr(8080), "--admin", n.host.Addr(9090), "--gossip", n.host.Addr(7946),
			"--data", dataDirs[i], "--admin-token", token, "--cluster-key", key, "--cluster-preset", "local",
			"--node-name", n.name}
		if len(join) > 0 {
			args = append(args, "--join", strings.Join(join, ","))
		}
		n.d = serveIn(t, n.host, n.logs, args...)
		down[i] = false
	}
	kill := func(i int) {
		nodes[i].d.cmd.Process.Signal(syscall.SIGKILL)
		nodes[i].d.cmd.Wait()
		fmt.Fprintf(nodes[i].logs, "--- killed (SIGKILL) ---\n")
		down[i] = true
	}
	allAlive := func() string {
		var bad []string
		for _, v := range nodes {
			m := v.members()
			for _, n := range nodes {
				if m[n.name] != "alive" {
					bad = append(bad, fmt.Sprintf("%s sees %s %q", v.name, n.name, m[n.name]))
				}
			}
		}
		return strings.Join(bad, ", ")
	}

	// The cluster, formed before the chaos.
	started := time.Now()
	start(0, nil)
	for i := 1; i < chaosNodes; i++ {
		start(i, []string{nodes[0].host.Addr(7946)})
	}
	waitFor(t, 30*time.Second, fmt.Sprintf("five alive members on every node (chaos seed %d)", seed), allAlive)
	t.Logf("cluster of %d formed in %v", chaosNodes, time.Since(started).Round(time.Millisecond))

	l := &ledger{unique: map[string]outcome{}, single: map[string][]step{}, shared: map[string][]step{}, functions: map[string][]step{},
		counts: map[string]int{}, modules: map[string][]byte{}, sha: map[string]string{"": ""}, lastDone: map[string]time.Time{}}
	var bodies []string
	for i := range 12 {
		b := fmt.Sprintf("module %02d", i)
		bodies = append(bodies, b)
		l.modules[b] = okModule(t, b)
		l.sha[b] = fmt.Sprintf("%x", sha256.Sum256(l.modules[b]))
	}

	// The chaos: clients write while the schedule runs.
	l.began = time.Now()
	ctx, stopClients := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for w := range chaosWriters {
		wg.Add(1)
		go func() { defer wg.Done(); kvWriter(ctx, w, seed, nodes, l, 5000) }()
	}
	wg.Add(1)
	go func() { defer wg.Done(); deployer(ctx, seed, nodes, l, bodies, 300) }()
	defer func() { stopClients(); wg.Wait() }() // on a failure below
	began := l.began
	for _, e := range schedule {
		time.Sleep(time.Until(began.Add(e.At)))
		switch e.Kind {
		case "kill":
			kill(e.Node)
		case "restart":
			t0 := time.Now()
			start(e.Node, others(e.Node))
			t.Logf("n%d serving %v after its start", e.Node+1, time.Since(t0).Round(100*time.Millisecond))
		case "partition":
			for i, n := range nodes {
				nw.Move(n.host, islands[e.Island[i]])
			}
		case "heal":
			for _, n := range nodes {
				nw.Move(n.host, islands[0])
			}
		}
		t.Logf("%v (scheduled at %v): %s", time.Since(began).Round(100*time.Millisecond), e.At, e)
	}
	time.Sleep(2 * time.Second) // writes after the last event
	stopClients()
	wg.Wait()

	// Heal: one network, every node running.
	for i, n := range nodes {
		nw.Move(n.host, islands[0])
		if down[i] {
			start(i, others(i))
		}
	}
	healed := time.Now()
	l.mu.Lock()
	var counts []string
	for k, v := range l.counts {
		counts = append(counts, fmt.Sprintf("%s %d", k, v))
	}
	sort.Strings(counts)
	t.Logf("healed %v after the chaos began; writes: %s; keys written once %d, by one writer %d, by all %d; functions %d",
		healed.Sub(began).Round(100*time.Millisecond), strings.Join(counts, ", "), len(l.unique), len(l.single), len(l.shared), len(l.functions))
	if len(l.rejected) > 0 {
		t.Logf("requests refused with a 4xx: %s", strings.Join(l.rejected, "; "))
	}
	if l.counts["kv acked"] < 100 || l.counts["function acked"] < 5 {
		l.mu.Unlock()
		failed("too few writes acknowledged to test anything: %s", strings.Join(counts, ", "))
	}
	l.mu.Unlock()

	members := waitFor(t, 60*time.Second, fmt.Sprintf("five alive members on every node after healing (chaos seed %d)", seed), allAlive)
	t.Logf("membership converged %v after healing", members.Round(time.Millisecond))
	var last string
	for deadline, report := time.Now().Add(90*time.Second), time.Now().Add(5*time.Second); ; {
		if last = checkConverged(context.Background(), nodes, l); last == "" {
			break
		}
		if time.Now().After(deadline) {
			failed("not converged 90s after the membership did:\n  %s", last)
		}
		if time.Now().After(report) {
			t.Logf("%v after healing, still:\n  %s", time.Since(healed).Round(time.Second), last)
			report = report.Add(5 * time.Second)
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Logf("data and functions converged %v after healing", time.Since(healed).Round(time.Millisecond))

	// Read back through the single-key path too: a sample of the
	// acknowledged keys written once, on every node.
	l.mu.Lock()
	defer l.mu.Unlock()
	var sample []string
	for key, o := range l.unique {
		if o == acked {
			sample = append(sample, key)
		}
	}
	sort.Strings(sample)
	rand.New(rand.NewPCG(seed, 2000)).Shuffle(len(sample), func(i, j int) { sample[i], sample[j] = sample[j], sample[i] })
	var p problems
	for _, key := range sample[:min(len(sample), 200)] {
		for _, n := range nodes {
			v, _, err := n.cl.KVGet(context.Background(), chaosNS, key)
			if err != nil || string(v) != chaosValue(key) {
				p.add("read", "%s GET %s: %q, %v", n.name, key, v, err)
			}
		}
	}
	if s := p.String(); s != "" {
		failed("acknowledged writes not readable after convergence:\n  %s", s)
	}
}
