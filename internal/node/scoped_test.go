package node_test

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wedge-run/wedge/client"
	"github.com/wedge-run/wedge/internal/node"
	"github.com/wedge-run/wedge/internal/testutil"
	"github.com/wedge-run/wedge/internal/tracing"
	"github.com/wedge-run/wedge/model"
)

// TestScopedTokenSeesOnlyItsFunctions: a read token restricted to
// chat-* on a node serving chat-a and billing (one app, both called, so
// that they have logs, metrics, scheduler state and traces; both with a
// KV namespace; and billing-jobs, with a dead letter) sees chat-a and
// never billing: the function list and the app list are filtered,
// billing's record, versions, logs and KV are refused, and no admin GET
// endpoint answers it with a body naming billing, while the admin token
// sees billing in the same places, the console's API included.
func TestScopedTokenSeesOnlyItsFunctions(t *testing.T) {
	n := testutil.StartNode(t, "", fastRetries, func(c *node.Config) { c.Trace = tracing.Config{Sample: 1} })
	dir := t.TempDir()
	src := "[app]\nname = \"suite\"\n"
	for _, f := range []string{"chat-a", "billing"} {
		if err := os.WriteFile(filepath.Join(dir, f+".wasm"), text(t, "from "+f), 0o644); err != nil {
			t.Fatal(err)
		}
		src += "\n[functions." + f + "]\nmodule = \"" + f + ".wasm\"\nroutes = [\"/" + f + "\"]\n"
	}
	if err := os.WriteFile(filepath.Join(dir, "wedge.toml"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := deployManifest(t, n, dir); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"chat-a", "billing"} {
		if r := testutil.Get(t, n.PublicURL()+"/"+f); r.Body != "from "+f {
			t.Fatalf("GET /%s: %d %q", f, r.Status, r.Body)
		}
	}
	for _, ns := range []string{"chat-a", "billing"} {
		if _, err := testutil.Client(n).KVPut(ctx, ns, "k", []byte("v"), client.KVPutOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	deployEvents(t, n, "billing-jobs", map[string]string{"FAIL_UNTIL": "always-fails"}, model.Trigger{Kind: "queue", Queue: "jobs", MaxAttempts: 1})
	if _, err := n.Events.Publish("jobs", []byte("invoice")); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 10*time.Second, "billing-jobs' message dead-lettered", func() bool {
		d, _ := n.Events.DeadLetters("jobs", "")
		return len(d) == 1
	})
	tok, err := testutil.Client(n).CreateToken(ctx, "chat-reader", "read", "chat-*")
	if err != nil {
		t.Fatal(err)
	}
	get := func(secret, path string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", n.AdminURL()+path, nil)
		req.Header.Set("Authorization", "Bearer "+secret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	reader := func(path string) (int, string) { return get(tok.Secret, path) }
	admin := func(path string) (int, string) { return get(testutil.Token, path) }

	// The trace ring: one trace per public request above.
	var traces struct {
		Traces []struct {
			TraceID string `json:"trace_id"`
		} `json:"traces"`
	}
	testutil.Eventually(t, 5*time.Second, "both requests' traces in the ring", func() bool {
		_, body := admin("/v1/traces")
		return json.Unmarshal([]byte(body), &traces) == nil && len(traces.Traces) >= 2
	})
	var billingTrace, chatTrace string
	for _, tr := range traces.Traces {
		_, body := admin("/v1/traces/" + tr.TraceID)
		switch {
		case strings.Contains(body, `"billing"`):
			billingTrace = tr.TraceID
		case strings.Contains(body, `"chat-a"`):
			chatTrace = tr.TraceID
		}
	}
	if billingTrace == "" || chatTrace == "" {
		t.Fatalf("no trace naming billing (%q) or chat-a (%q) in the ring", billingTrace, chatTrace)
	}

	// Listings and reads: the admin sees billing, the reader sees chat-a
	// and nothing of billing.
	for _, path := range []string{"/v1/functions", "/v1/apps", "/metrics", "/v1/scheduler", "/v1/traces/" + billingTrace,
		"/v1/kv", "/v1/events/dead", "/v1/queues/jobs/dead"} {
		if code, body := admin(path); code != 200 || !strings.Contains(body, "billing") {
			t.Fatalf("admin GET %s: %d, billing not named:\n%.300s", path, code, body)
		}
	}
	for _, path := range []string{"/v1/functions", "/v1/apps", "/metrics", "/v1/scheduler",
		"/v1/traces", "/v1/traces/" + chatTrace, "/v1/functions/chat-a", "/v1/functions/chat-a/versions", "/v1/functions/chat-a/logs?limit=10",
		"/v1/kv", "/v1/kv/chat-a?values=1", "/v1/console/history/chat-a"} {
		code, body := reader(path)
		if code != 200 || !strings.Contains(body, "chat-a") && path != "/v1/traces" && !strings.Contains(path, "/logs") {
			t.Errorf("reader GET %s: %d, chat-a not named:\n%.300s", path, code, body)
		}
		if strings.Contains(body, "billing") {
			t.Errorf("reader GET %s names billing:\n%s", path, body)
		}
	}
	for _, path := range []string{"/v1/events", "/v1/events/dead", "/v1/queues/jobs/dead", "/v1/cluster/members", "/healthz",
		"/v1/console/events", "/v1/console/affinity"} {
		if code, body := reader(path); code != 200 || strings.Contains(body, "billing") {
			t.Errorf("reader GET %s: %d\n%.300s", path, code, body)
		}
	}
	var list struct {
		Functions []struct{ Name string } `json:"functions"`
	}
	if _, body := reader("/v1/functions"); json.Unmarshal([]byte(body), &list) != nil || len(list.Functions) != 1 || list.Functions[0].Name != "chat-a" {
		t.Errorf("reader's function list: %s", body)
	}
	for _, path := range []string{"/v1/functions/billing", "/v1/functions/billing/versions", "/v1/functions/billing/logs",
		"/v1/events/dead?function=billing-jobs", "/v1/kv/billing", "/v1/kv/billing/k", "/v1/console/history/billing"} {
		if code, body := reader(path); code != http.StatusForbidden {
			t.Errorf("reader GET %s: %d, want 403\n%.300s", path, code, body)
		}
	}
	if code, _ := reader("/v1/traces/" + billingTrace); code != http.StatusNotFound {
		t.Errorf("reader GET of billing's trace: %d, want 404", code)
	}
}
