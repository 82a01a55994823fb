package cli_test

import (
	"context"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/wedge-run/wedge/client"
	"github.com/wedge-run/wedge/internal/testutil"
)

func freePort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestClusterSurvivesKill9 runs three wedge processes as a cluster, kills
// one with SIGKILL under load, and checks that the survivors keep
// answering, mark it failed, and that it converges when it restarts.
func TestClusterSurvivesKill9(t *testing.T) {
	const token, key = "cluster-token", "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
	gossip := []string{freePort(t), freePort(t), freePort(t)}
	data := []string{t.TempDir(), t.TempDir(), t.TempDir()}
	start := func(i int) *daemon {
		args := []string{"--admin-token", token, "--cluster-key", key, "--cluster-preset", "local",
			"--gossip", gossip[i], "--node-name", []string{"a", "b", "c"}[i]}
		if i > 0 {
			args = append(args, "--join", gossip[0])
		} else {
			args = append(args, "--join", gossip[1]) // a restarted first node rejoins through b
		}
		return serve(t, data[i], args...)
	}
	ds := []*daemon{start(0), start(1), start(2)}
	cls := make([]*client.Client, 3)
	for i, d := range ds {
		cls[i] = client.New(d.admin, token)
	}
	members := func(cl *client.Client) map[string]string {
		var out struct {
			Members []struct{ Name, State string } `json:"members"`
		}
		m := map[string]string{}
		if _, err := cl.Do(context.Background(), "GET", "/v1/cluster/members", nil, nil, nil, &out); err == nil {
			for _, x := range out.Members {
				m[x.Name] = x.State
			}
		}
		return m
	}
	testutil.Eventually(t, 10*time.Second, "three members", func() bool {
		m := members(cls[2])
		return m["a"] == "alive" && m["b"] == "alive" && m["c"] == "alive"
	})
	hello := testutil.WAT(t, `(module
	  (import "wedge_v1" "response_write" (func $w (param i32 i32) (result i32)))
	  (memory (export "memory") 1) (data (i32.const 0) "ok")
	  (func (export "wedge_handle") (param i32 i32) (result i32) (drop (call $w (i32.const 0) (i32.const 2))) (i32.const 0)))`)
	if _, _, err := cls[0].Deploy(context.Background(), "ping", hello, client.DeployOptions{Routes: []string{"/ping"}}); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 5*time.Second, "ping on every node", func() bool {
		for _, d := range ds {
			if testutil.Get(t, d.public+"/ping").Body != "ok" {
				return false
			}
		}
		return true
	})
	// Load on both survivors while c is killed: each one is counted apart,
	// so a survivor that stopped answering cannot hide behind the other.
	stop := make(chan struct{})
	var ok [2]atomic.Int64
	var failed atomic.Int64
	var wg sync.WaitGroup
	for i, d := range ds[:2] {
		wg.Add(1)
		go func(url string) {
			defer wg.Done()
			for n := 0; n < 100000; n++ {
				select {
				case <-stop:
					return
				default:
				}
				r := testutil.Get(t, url)
				if r.Status == 200 {
					ok[i].Add(1)
				} else if r.Status != 503 {
					failed.Add(1)
				}
			}
		}(d.public + "/ping")
	}
	served := func() [2]int64 { return [2]int64{ok[0].Load(), ok[1].Load()} }
	// servedMore waits until each survivor answered more than it had by before.
	servedMore := func(what string, before [2]int64) {
		testutil.Eventually(t, 10*time.Second, what, func() bool {
			now := served()
			return now[0] > before[0] && now[1] > before[1]
		})
	}
	servedMore("load on both survivors", [2]int64{})
	killed := time.Now()
	ds[2].cmd.Process.Signal(syscall.SIGKILL)
	ds[2].cmd.Wait()
	testutil.Eventually(t, 15*time.Second, "c marked failed", func() bool { return members(cls[0])["c"] == "dead" })
	t.Logf("dead node detected after %v", time.Since(killed).Round(time.Millisecond))
	// A write while c is down reaches it when it comes back.
	cls[1].KVPut(context.Background(), "cfg", "mode", []byte("while-c-was-down"), client.KVPutOptions{})
	servedMore("both survivors answering after c was marked failed", served())
	close(stop)
	wg.Wait()
	if failed.Load() > 0 {
		t.Fatalf("survivors: %d and %d ok, %d failed", ok[0].Load(), ok[1].Load(), failed.Load())
	}
	ds[2] = start(2)
	cls[2] = client.New(ds[2].admin, token)
	testutil.Eventually(t, 15*time.Second, "c to rejoin and converge", func() bool {
		v, _, err := cls[2].KVGet(context.Background(), "cfg", "mode")
		return err == nil && string(v) == "while-c-was-down" && members(cls[0])["c"] == "alive"
	})
	out, err := wedge(t, ds[2], token, "nodes")
	if err != nil || !strings.Contains(out, "alive") || !strings.Contains(out, "c *") {
		t.Fatalf("wedge nodes: %v\n%s", err, out)
	}
}
