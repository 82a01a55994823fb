//go:build linux

package cli_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/wedge-run/wedge/client"
	"github.com/wedge-run/wedge/internal/testutil"
	"github.com/wedge-run/wedge/internal/testutil/netns"
)

// pnode is a wedge process in its own network namespace.
type pnode struct {
	name string
	side byte // 'a' or 'b'
	host *netns.Host
	d    *daemon
	cl   *client.Client // admin API, dialing from inside the namespace
	http *http.Client
	logs *testutil.SyncBuffer // the node's stderr
}

// serveIn starts `wedge serve` in h's namespace, as serve does on the
// host, with its stderr in logs.
func serveIn(t *testing.T, h *netns.Host, logs io.Writer, args ...string) *daemon {
	t.Helper()
	cmd := h.Command(wedgeBinary(t), append([]string{"serve"}, args...)...)
	cmd.Env = append(os.Environ(), "WEDGE_ADMIN_TOKEN=", "WEDGE_CLUSTER_KEY=")
	cmd.Stderr = logs
	// ip netns exec execs the program: the process is wedge itself.
	return startDaemon(t, cmd)
}

// get requests path on n's public gateway; status -1 is a failed request.
func (n *pnode) get(path string) (int, string) {
	resp, err := n.http.Get(n.d.public + path)
	if err != nil {
		return -1, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// members returns n's view of the membership: name -> state.
func (n *pnode) members() map[string]string {
	var out struct {
		Members []struct{ Name, State string } `json:"members"`
	}
	m := map[string]string{}
	if _, err := n.cl.Do(context.Background(), "GET", "/v1/cluster/members", nil, nil, nil, &out); err == nil {
		for _, x := range out.Members {
			m[x.Name] = x.State
		}
	}
	return m
}

// kv returns the value of cfg/key on n, "<not found>", or the error.
func (n *pnode) kv(key string) string {
	v, _, err := n.cl.KVGet(context.Background(), "cfg", key)
	switch {
	case client.IsStatus(err, http.StatusNotFound):
		return "<not found>"
	case err != nil:
		return "<" + err.Error() + ">"
	}
	return string(v)
}

// okModule is a function that answers body.
func okModule(t *testing.T, body string) []byte {
	return testutil.WAT(t, fmt.Sprintf(`(module
	  (import "wedge_v1" "response_write" (func $w (param i32 i32) (result i32)))
	  (memory (export "memory") 1) (data (i32.const 0) %q)
	  (func (export "wedge_handle") (param i32 i32) (result i32) (drop (call $w (i32.const 0) (i32.const %d))) (i32.const 0)))`,
		body, len(body)))
}

// waitFor polls check (which returns "" once its condition holds, else
// what is missing) every 50ms for up to timeout, and fails the test
// with the last answer if it never holds. It returns how long it took.
func waitFor(t *testing.T, timeout time.Duration, what string, check func() string) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		missing := check()
		if missing == "" {
			return time.Since(start)
		}
		if time.Since(start) > timeout {
			t.Fatalf("timed out after %v waiting for %s: %s", timeout, what, missing)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// partitionHold is how long the partition lasts once both sides have
// declared the other dead: longer than the local preset's
// GossipToTheDeadTime (5 s), after which memberlist no longer gossips
// to the dead nodes and drops them from its node table, so the heal
// has to come from the nodes reaching out to them again.
const partitionHold = 7 * time.Second

// TestClusterPartitionHeals cuts a four-node cluster into two halves
// with a real network partition (Linux network namespaces: each node
// in its own, side A's two on one bridge, side B's on another, the
// bridges joined by a veth link that is set down and up), checks that
// both halves keep serving and accept writes, then heals the partition
// and checks that membership, functions and KV data converge.
func TestClusterPartitionHeals(t *testing.T) {
	const token, key = "partition-token", "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
	nw := netns.New(t)
	wedgeBinary(t) // build before anything is timed
	nw.Bridge("brA")
	nw.Bridge("brB")
	trunk := nw.Link("trunk", "brA", "brB")

	var nodes, sideA, sideB []*pnode
	for i, name := range []string{"a1", "a2", "b1", "b2"} {
		n := &pnode{name: name, side: name[0], logs: &testutil.SyncBuffer{}}
		n.host = nw.Host(name, "br"+strings.ToUpper(name[:1]), fmt.Sprintf("127.20.0.%d/24", i+1))
		n.http = n.host.HTTPClient(5 * time.Second)
		nodes = append(nodes, n)
		if n.side == 'a' {
			sideA = append(sideA, n)
		} else {
			sideB = append(sideB, n)
		}
	}
	t.Cleanup(func() {
		if t.Failed() {
			for _, n := range nodes {
				t.Logf("--- log of %s:\n%s", n.name, tail(n.logs.String(), 60))
			}
		}
	})
	started := time.Now()
	for _, n := range nodes {
		args := []string{"--http", n.host.Addr(8080), "--admin", n.host.Addr(9090), "--gossip", n.host.Addr(7946),
			"--data", t.TempDir(), "--admin-token", token, "--cluster-key", key, "--cluster-preset", "local",
			"--node-name", n.name}
		if n != nodes[0] {
			args = append(args, "--join", nodes[0].host.Addr(7946))
		}
		n.d = serveIn(t, n.host, n.logs, args...)
		n.cl = client.New(n.d.admin, token)
		n.cl.HTTP = n.http
	}
	ctx := context.Background()

	// state reports the nodes whose view of the members on sides does
	// not satisfy ok.
	state := func(viewers []*pnode, sides string, ok func(string) bool) string {
		var bad []string
		for _, v := range viewers {
			m := v.members()
			for _, n := range nodes {
				if strings.IndexByte(sides, n.side) >= 0 && !ok(m[n.name]) {
					bad = append(bad, fmt.Sprintf("%s sees %s %q", v.name, n.name, m[n.name]))
				}
			}
		}
		return strings.Join(bad, ", ")
	}
	alive := func(s string) bool { return s == "alive" }
	notAlive := func(s string) bool { return s != "alive" }
	// serves reports the nodes where path does not answer status (and
	// body, if not empty).
	serves := func(ns []*pnode, path string, status int, body string) string {
		var bad []string
		for _, n := range ns {
			if st, b := n.get(path); st != status || (body != "" && b != body) {
				bad = append(bad, fmt.Sprintf("%s %s: %d %q", n.name, path, st, b))
			}
		}
		return strings.Join(bad, ", ")
	}
	// has reports the nodes where cfg/key is not value.
	has := func(ns []*pnode, key, value string) string {
		var bad []string
		for _, n := range ns {
			if v := n.kv(key); v != value {
				bad = append(bad, fmt.Sprintf("%s cfg/%s=%q", n.name, key, v))
			}
		}
		return strings.Join(bad, ", ")
	}
	all := func(checks ...string) string {
		var out []string
		for _, c := range checks {
			if c != "" {
				out = append(out, c)
			}
		}
		return strings.Join(out, "; ")
	}

	// 1. Four alive members everywhere.
	waitFor(t, 15*time.Second, "four alive members on every node", func() string { return state(nodes, "ab", alive) })
	t.Logf("cluster of 4 formed %v after the first start", time.Since(started).Round(time.Millisecond))

	// 2. Data before the partition reaches every node.
	if _, _, err := sideA[0].cl.Deploy(ctx, "ping", okModule(t, "ok"), client.DeployOptions{Routes: []string{"/ping"}}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := sideA[1].cl.Deploy(ctx, "doomed", okModule(t, "doomed"), client.DeployOptions{Routes: []string{"/doomed"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := sideB[0].cl.KVPut(ctx, "cfg", "before", []byte("v0"), client.KVPutOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the first functions and key on every node", func() string {
		return all(serves(nodes, "/ping", 200, "ok"), serves(nodes, "/doomed", 200, "doomed"), has(nodes, "before", "v0"))
	})

	// 3. Partition: each side declares the other dead.
	trunk.Down()
	cut := time.Now()
	waitFor(t, 15*time.Second, "each side to declare the other dead", func() string {
		return all(state(sideA, "b", notAlive), state(sideB, "a", notAlive))
	})
	detected := time.Now()
	t.Logf("partition detected on both sides after %v", detected.Sub(cut).Round(time.Millisecond))
	waitFor(t, 5*time.Second, "each side to see its own members alive", func() string {
		return all(state(sideA, "a", alive), state(sideB, "b", alive))
	})

	// 4. Both sides keep serving and take writes.
	for range 20 {
		if bad := serves(nodes, "/ping", 200, "ok"); bad != "" {
			t.Fatalf("during the partition: %s", bad)
		}
	}
	put := func(n *pnode, key, value string) {
		t.Helper()
		if _, err := n.cl.KVPut(ctx, "cfg", key, []byte(value), client.KVPutOptions{}); err != nil {
			t.Fatalf("put cfg/%s on %s: %v", key, n.name, err)
		}
	}
	put(sideA[0], "a-only", "A")
	put(sideB[0], "b-only", "B")
	put(sideA[1], "conflict", "from-A")
	time.Sleep(100 * time.Millisecond) // B's write is stamped later: it must win
	put(sideB[1], "conflict", "from-B")
	if _, _, err := sideB[0].cl.Deploy(ctx, "bonly", okModule(t, "deployed on B"), client.DeployOptions{Routes: []string{"/bonly"}}); err != nil {
		t.Fatal(err)
	}
	if err := sideA[0].cl.Delete(ctx, "doomed"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the writes to spread within each side", func() string {
		return all(has(sideA, "a-only", "A"), has(sideA, "conflict", "from-A"), serves(sideA, "/doomed", 404, ""),
			has(sideB, "b-only", "B"), has(sideB, "conflict", "from-B"), serves(sideB, "/bonly", 200, "deployed on B"))
	})
	// ... and not across: the partition is real.
	if bad := all(serves(sideA, "/bonly", 404, ""), serves(sideB, "/doomed", 200, "doomed"),
		has(sideA, "b-only", "<not found>"), has(sideB, "a-only", "<not found>")); bad != "" {
		t.Fatalf("a write crossed the partition: %s", bad)
	}
	time.Sleep(time.Until(detected.Add(partitionHold)))

	// 5. Heal: everything converges.
	trunk.Up()
	healed := time.Now()
	t.Logf("healing after a partition of %v", healed.Sub(cut).Round(time.Millisecond))
	members := waitFor(t, 30*time.Second, "four alive members on every node after the heal", func() string {
		return state(nodes, "ab", alive)
	})
	t.Logf("membership converged %v after the heal", members.Round(time.Millisecond))
	waitFor(t, 30*time.Second-members, "the data to converge after the heal", func() string {
		return all(has(nodes, "a-only", "A"), has(nodes, "b-only", "B"), has(nodes, "conflict", "from-B"),
			has(nodes, "before", "v0"), serves(nodes, "/bonly", 200, "deployed on B"), serves(nodes, "/doomed", 404, ""),
			serves(nodes, "/ping", 200, "ok"))
	})
	t.Logf("everything converged %v after the heal", time.Since(healed).Round(time.Millisecond))
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
