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
	// Load on the survivors while c is killed.
	stop := make(chan struct{})
	var ok, failed atomic.Int64
	var wg sync.WaitGroup
	for _, d := range ds[:2] {
		wg.Add(1)
		go func(url string) {
			defer wg.Done()
			for i := 0; i < 100000; i++ {
				select {
				case <-stop:
					return
				default:
				}
				r := testutil.Get(t, url)
				if r.Status == 200 {
					ok.Add(1)
				} else if r.Status != 503 {
					failed.Add(1)
				}
			}
		}(ds[0].public + "/ping")
		_ = d
	}
	time.Sleep(200 * time.Millisecond)
	killed := time.Now()
	ds[2].cmd.Process.Signal(syscall.SIGKILL)
	ds[2].cmd.Wait()
	testutil.Eventually(t, 15*time.Second, "c marked failed", func() bool { return members(cls[0])["c"] == "dead" })
	t.Logf("dead node detected after %v", time.Since(killed).Round(time.Millisecond))
	// A write while c is down reaches it when it comes back.
	cls[1].KVPut(context.Background(), "cfg", "mode", []byte("while-c-was-down"), client.KVPutOptions{})
	time.Sleep(300 * time.Millisecond)
	close(stop)
	wg.Wait()
	if failed.Load() > 0 || ok.Load() == 0 {
		t.Fatalf("survivors: %d ok, %d failed", ok.Load(), failed.Load())
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
