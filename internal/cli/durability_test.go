package cli_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/wedge-run/wedge/client"
	"github.com/wedge-run/wedge/internal/testutil"
	bolt "go.etcd.io/bbolt"
)

// value is the deterministic content of a key, so that any value found can
// be checked for being whole.
func value(key string) []byte {
	return bytes.Repeat([]byte(key+";"), 40)
}

// TestKVSurvivesKill9 writes through the admin API from concurrent clients,
// kills the node with SIGKILL at random moments, and checks after each
// restart that every acknowledged write is there, that nothing
// unacknowledged is half-written, and that bbolt's consistency check
// passes.
func TestKVSurvivesKill9(t *testing.T) {
	data := t.TempDir()
	rng := rand.New(rand.NewSource(time.Now().UnixNano()))
	acked := map[string]bool{}
	var mu sync.Mutex
	const token = "durable"
	for cycle := 0; cycle < 3; cycle++ {
		d := serve(t, data, "--admin-token", token)
		cl := client.New(d.admin, token)
		cl.HTTP = &http.Client{Timeout: 5 * time.Second}
		// Everything acknowledged so far must be there after the restart.
		mu.Lock()
		for k := range acked {
			v, _, err := cl.KVGet(context.Background(), "durable", k)
			if err != nil || !bytes.Equal(v, value(k)) {
				mu.Unlock()
				t.Fatalf("cycle %d: acknowledged key %s: %v (len %d)", cycle, k, err, len(v))
			}
		}
		mu.Unlock()
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		for w := 0; w < 8; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				for i := 0; i < 5000 && ctx.Err() == nil; i++ {
					key := fmt.Sprintf("c%d-w%d-%d", cycle, w, i)
					if _, err := cl.KVPut(ctx, "durable", key, value(key), client.KVPutOptions{}); err != nil {
						return // the node is gone
					}
					mu.Lock()
					acked[key] = true
					mu.Unlock()
				}
			}(w)
		}
		time.Sleep(time.Duration(200+rng.Intn(500)) * time.Millisecond)
		d.cmd.Process.Signal(syscall.SIGKILL)
		d.cmd.Wait()
		cancel()
		wg.Wait()

		// bbolt's consistency check on the file the node left behind.
		db, err := bolt.Open(filepath.Join(data, "wedge.db"), 0o600, &bolt.Options{Timeout: 5 * time.Second, ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		err = db.View(func(tx *bolt.Tx) error {
			var errs []error
			for e := range tx.Check() {
				errs = append(errs, e)
			}
			return errors.Join(errs...)
		})
		db.Close()
		if err != nil {
			t.Fatalf("cycle %d: consistency check: %v", cycle, err)
		}
	}
	// Final restart: acknowledged writes present, everything present whole.
	d := serve(t, data, "--admin-token", token)
	cl := client.New(d.admin, token)
	missing := 0
	for k := range acked {
		v, _, err := cl.KVGet(context.Background(), "durable", k)
		if err != nil || !bytes.Equal(v, value(k)) {
			missing++
		}
	}
	if missing > 0 {
		t.Fatalf("%d of %d acknowledged writes lost", missing, len(acked))
	}
	cursor, present := "", 0
	for {
		keys, next, err := cl.KVList(context.Background(), "durable", "", cursor, 1000)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			present++
			v, _, err := cl.KVGet(context.Background(), "durable", k.Key)
			if err != nil || !bytes.Equal(v, value(k.Key)) || !strings.HasPrefix(k.Key, "c") {
				t.Fatalf("key %s is not whole: %v", k.Key, err)
			}
		}
		if next == "" {
			break
		}
		cursor = next
	}
	t.Logf("%d acknowledged writes over 3 kill -9 cycles, %d keys present", len(acked), present)
	if len(acked) == 0 {
		t.Fatal("no write was acknowledged")
	}
}

// TestEventsSurviveKill9 publishes queue messages and makes key-value
// writes that fire a trigger, kills the node with SIGKILL while the work
// is pending, restarts it, and checks that every acknowledged message and
// change was delivered (the Go SDK events example records each one).
func TestEventsSurviveKill9(t *testing.T) {
	data := t.TempDir()
	const token = "events"
	d := serve(t, data, "--admin-token", token)
	cl := client.New(d.admin, token)
	wasm := testutil.BuildGoWasm(t, "examples/go-events", true)
	_, _, err := cl.Deploy(context.Background(), "events", wasm, client.DeployOptions{Routes: []string{"/publish/..."},
		Triggers: []string{`{"kind":"kv","prefix":"watch/"}`, `{"kind":"queue","queue":"jobs","max_attempts":10}`}})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i := 0; i < 40; i++ {
		var out struct {
			ID string `json:"id"`
		}
		if _, err := cl.Do(context.Background(), "POST", "/v1/queues/jobs", nil, strings.NewReader(fmt.Sprintf("job-%d", i)), nil, &out); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, out.ID)
		if _, err := cl.KVPut(context.Background(), "events", fmt.Sprintf("watch/%d", i), []byte(fmt.Sprint(i)), client.KVPutOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	// Everything above was acknowledged; kill the node at once.
	d.cmd.Process.Signal(syscall.SIGKILL)
	d.cmd.Wait()
	d = serve(t, data, "--admin-token", token)
	cl = client.New(d.admin, token)
	testutil.Eventually(t, 60*time.Second, "every acknowledged event delivered", func() bool {
		for i, id := range ids {
			if v, _, err := cl.KVGet(context.Background(), "events", "msg/"+id); err != nil || string(v) != fmt.Sprintf("job-%d", i) {
				return false
			}
			if v, _, err := cl.KVGet(context.Background(), "events", fmt.Sprintf("seen/watch/%d", i)); err != nil || string(v) != fmt.Sprint(i) {
				return false
			}
		}
		return true
	})
}
