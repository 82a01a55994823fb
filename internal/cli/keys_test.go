package cli_test

import (
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wedge-run/wedge/client"
	"github.com/wedge-run/wedge/internal/cluster"
	"github.com/wedge-run/wedge/internal/testutil"
)

// TestKeyRotationThroughCLI rotates the gossip key of a running
// two-process cluster with `wedge keys`, then restarts a node with its
// old --cluster-key: it comes back with the saved keyring, rejoins, and
// still fetches modules from its peer.
func TestKeyRotationThroughCLI(t *testing.T) {
	const token = "keys-token"
	oldKey := base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
	newKey := base64.StdEncoding.EncodeToString([]byte("fedcba9876543210fedcba9876543210"))
	oldFP, newFP := fingerprint(t, oldKey), fingerprint(t, newKey)
	gossip := []string{freePort(t), freePort(t)}
	data := []string{t.TempDir(), t.TempDir()}
	start := func(i int) *daemon {
		return serve(t, data[i], "--admin-token", token, "--cluster-key", oldKey, "--cluster-preset", "local",
			"--gossip", gossip[i], "--node-name", []string{"a", "b"}[i], "--join", gossip[1-i])
	}
	a, b := start(0), start(1)
	run := func(d *daemon, args ...string) string {
		t.Helper()
		out, err := wedge(t, d, token, args...)
		if err != nil {
			t.Fatalf("wedge %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return out
	}
	testutil.Eventually(t, 10*time.Second, "both nodes listed with the old key", func() bool {
		out, _ := wedge(t, a, token, "keys")
		return strings.Count(out, oldFP) == 4 // PRIMARY and KEYS columns of a and b
	})
	run(a, "keys", "install", newKey)
	out := run(b, "keys", "use", newKey)
	if strings.Count(out, newFP+" ") != 2 {
		t.Fatalf("after use, both primaries should be the new key:\n%s", out)
	}
	out = run(a, "keys", "remove", oldKey)
	if strings.Contains(out, oldFP) {
		t.Fatalf("the old key is still listed:\n%s", out)
	}
	saved, err := os.ReadFile(filepath.Join(data[1], "cluster-keys"))
	if err != nil || !strings.Contains(string(saved), newKey) || strings.Contains(string(saved), oldKey) {
		t.Fatalf("b's saved keyring: %v\n%s", err, saved)
	}
	if out, err := wedge(t, a, token, "keys", "use", base64.StdEncoding.EncodeToString(make([]byte, 32))); err == nil {
		t.Fatalf("using a key no node has succeeded:\n%s", out)
	}

	// b restarts with the flag it was first given: the saved keyring
	// wins, so it rejoins; a deploy on a reaches it (module fetched over
	// the peer API, signed under the new key).
	b.stop(t)
	b = start(1)
	testutil.Eventually(t, 15*time.Second, "b back with the new primary key", func() bool {
		out, _ := wedge(t, b, token, "keys")
		return strings.Count(out, newFP) >= 4 && !strings.Contains(out, "dead")
	})
	hello := testutil.WAT(t, `(module
	  (import "wedge_v1" "response_write" (func $w (param i32 i32) (result i32)))
	  (memory (export "memory") 1) (data (i32.const 0) "rotated")
	  (func (export "wedge_handle") (param i32 i32) (result i32) (drop (call $w (i32.const 0) (i32.const 7))) (i32.const 0)))`)
	if _, _, err := client.New(a.admin, token).Deploy(context.Background(), "after", hello, client.DeployOptions{Routes: []string{"/after"}}); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 10*time.Second, "the function on b", func() bool {
		return testutil.Get(t, b.public+"/after").Body == "rotated"
	})
}

func fingerprint(t *testing.T, b64 string) string {
	k, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatal(err)
	}
	return cluster.KeyFingerprint(k)
}
