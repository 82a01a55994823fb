package node_test

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wedge-run/wedge/client"
	"github.com/wedge-run/wedge/internal/testutil"
	"github.com/wedge-run/wedge/manifest"
)

// TestScopedTokens drives the scope rules through a real node: each
// scope reaches what it may and gets a 403 naming the token elsewhere;
// a functions pattern restricts deploys; revocation ends a token; every
// request lands in the audit log with its token's name.
func TestScopedTokens(t *testing.T) {
	n := testutil.StartNode(t, "")
	admin := testutil.Client(n)
	mk := func(name, scope, pattern string) *client.Client {
		t.Helper()
		tok, err := admin.CreateToken(ctx, name, scope, pattern)
		if err != nil {
			t.Fatalf("create %s: %v", name, err)
		}
		if !strings.HasPrefix(tok.Secret, "wedge_") || tok.Scope != scope {
			t.Fatalf("create %s: %+v", name, tok)
		}
		return client.New(n.AdminURL(), tok.Secret)
	}
	reader := mk("ci-read", "read", "")
	kvTok := mk("ci-kv", "kv", "")
	deployer := mk("ci-deploy", "deploy", "chat-*")
	if _, err := admin.CreateToken(ctx, "ci-read", "read", ""); !client.IsStatus(err, http.StatusConflict) {
		t.Fatalf("duplicate name: want 409, got %v", err)
	}
	if _, err := admin.CreateToken(ctx, "x", "root", ""); !client.IsStatus(err, http.StatusBadRequest) {
		t.Fatalf("unknown scope: want 400, got %v", err)
	}
	wasm := text(t, "hi")
	forbidden := func(what string, err error, want ...string) {
		t.Helper()
		if !client.IsStatus(err, http.StatusForbidden) {
			t.Fatalf("%s: want 403, got %v", what, err)
		}
		testutil.Contains(t, err.Error(), want...)
	}

	// deploy, restricted to chat-*.
	if _, _, err := deployer.Deploy(ctx, "chat-post", wasm, client.DeployOptions{Routes: []string{"/post"}}); err != nil {
		t.Fatalf("deploy token deploying chat-post: %v", err)
	}
	_, _, err := deployer.Deploy(ctx, "billing", wasm, client.DeployOptions{Routes: []string{"/bill"}})
	forbidden("deploy outside the pattern", err, `"ci-deploy"`, `"chat-*"`, `"billing"`)
	if _, err := deployer.List(ctx); err != nil {
		t.Fatalf("deploy token reading: %v", err)
	}
	_, err = deployer.Tokens(ctx)
	forbidden("deploy token listing tokens", err, "admin scope")
	// An app whose name matches still has its functions checked.
	appDir := t.TempDir()
	os.WriteFile(filepath.Join(appDir, "m.wasm"), wasm, 0o644)
	appSpec := func(fn string) ([]byte, map[string][]byte) {
		os.WriteFile(filepath.Join(appDir, "wedge.toml"), []byte("[app]\nname = \"chat-app\"\n[functions."+fn+"]\nmodule = \"m.wasm\"\nroutes = [\"/"+fn+"\"]\n"), 0o644)
		app, err := manifest.Load(appDir)
		if err != nil {
			t.Fatal(err)
		}
		spec, err := app.Spec()
		if err != nil {
			t.Fatal(err)
		}
		return spec, map[string][]byte{fn: wasm}
	}
	spec, mods := appSpec("billing")
	_, err = deployer.DeployApp(ctx, "chat-app", spec, mods)
	forbidden("deploy token deploying an app with a function outside the pattern", err, `"billing"`)
	spec, mods = appSpec("chat-rooms")
	if _, err := deployer.DeployApp(ctx, "chat-app", spec, mods); err != nil {
		t.Fatalf("deploy token deploying an app within the pattern: %v", err)
	}
	_, err = deployer.KVPut(ctx, "ns", "k", []byte("v"), client.KVPutOptions{})
	forbidden("deploy token writing KV", err, "deploy scope")

	// read.
	if _, err := reader.List(ctx); err != nil {
		t.Fatalf("read token listing: %v", err)
	}
	forbidden("read token deleting", reader.Delete(ctx, "chat-post"), "read scope")
	_, err = reader.Audit(ctx, client.AuditQuery{})
	forbidden("read token reading the audit log", err, "admin scope")

	// kv.
	if _, err := kvTok.KVPut(ctx, "ns", "k", []byte("v"), client.KVPutOptions{}); err != nil {
		t.Fatalf("kv token writing: %v", err)
	}
	_, err = kvTok.List(ctx)
	forbidden("kv token listing functions", err, "kv scope")
	// Nobody reaches the reserved namespaces through the KV API.
	if _, _, err := admin.KVGet(ctx, "_wedge.tokens", "ci-read"); !client.IsStatus(err, http.StatusForbidden) {
		t.Fatalf("reading the tokens' namespace: want 403, got %v", err)
	}

	// Revocation ends the token at once on this node.
	if err := admin.RevokeToken(ctx, "ci-read"); err != nil {
		t.Fatal(err)
	}
	if _, err := reader.List(ctx); !client.IsStatus(err, http.StatusUnauthorized) {
		t.Fatalf("revoked token: want 401, got %v", err)
	}
	if err := admin.RevokeToken(ctx, "ci-read"); !client.IsStatus(err, http.StatusNotFound) {
		t.Fatalf("revoking twice: want 404, got %v", err)
	}

	// The audit log names every token, including refusals and the
	// revoked token's last, unauthenticated attempt.
	entries, err := admin.Audit(ctx, client.AuditQuery{Token: "ci-deploy"})
	if err != nil {
		t.Fatal(err)
	}
	var seen []string
	for _, e := range entries {
		seen = append(seen, e.Method+" "+e.Path+" "+http.StatusText(e.Status))
	}
	testutil.Contains(t, strings.Join(seen, "\n"), "PUT /v1/functions/chat-post Created", "PUT /v1/functions/billing Forbidden",
		"GET /v1/tokens Forbidden", "PUT /v1/kv/ns/k Forbidden")
	all, err := admin.Audit(ctx, client.AuditQuery{Limit: 3})
	if err != nil || len(all) != 3 {
		t.Fatalf("limit 3: %d entries, %v", len(all), err)
	}
	if last := all[len(all)-1]; last.Token != "admin" || last.Path != "/v1/audit" {
		t.Fatalf("the newest entry should be the previous audit query by admin: %+v", last)
	}
	toks, err := admin.Tokens(ctx)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]client.Token{}
	for _, tk := range toks {
		names[tk.Name] = tk
	}
	if _, ok := names["ci-read"]; ok || names["admin"].Scope != "admin" || names["ci-deploy"].LastUsed == nil ||
		names["ci-deploy"].CreatedBy != "admin" || names["ci-deploy"].Functions != "chat-*" {
		t.Fatalf("token list: %+v", toks)
	}
}

// TestTokensReplicate: a token created on one node of a cluster works on
// the others, and a revocation reaches them too.
func TestTokensReplicate(t *testing.T) {
	n1 := clusterNode(t, "n1", nil, testKey)
	n2 := clusterNode(t, "n2", n1, testKey)
	testutil.Eventually(t, 5*time.Second, "2 alive members", func() bool { return alive(n1) == 2 && alive(n2) == 2 })
	tok, err := testutil.Client(n1).CreateToken(ctx, "ops", "read", "")
	if err != nil {
		t.Fatal(err)
	}
	on2 := client.New(n2.AdminURL(), tok.Secret)
	testutil.Eventually(t, 10*time.Second, "the token accepted by n2", func() bool {
		_, err := on2.List(ctx)
		return err == nil
	})
	if err := testutil.Client(n1).RevokeToken(ctx, "ops"); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 10*time.Second, "the revocation reaching n2", func() bool {
		_, err := on2.List(ctx)
		return client.IsStatus(err, http.StatusUnauthorized)
	})
}

// TestReservedNamespacesOutOfGuestsReach: a guest granted every
// namespace still cannot write the tokens' namespace (else it could give
// itself an admin token), and no function may own or be granted one.
func TestReservedNamespacesOutOfGuestsReach(t *testing.T) {
	n := testutil.StartNode(t, "")
	cl := testutil.Client(n)
	if _, _, err := cl.Deploy(ctx, "greedy", kvGuest(t, "_wedge.tokens"), client.DeployOptions{Routes: []string{"/greedy"}, KVGrants: []string{"*"}}); err != nil {
		t.Fatal(err)
	}
	if r := testutil.Get(t, n.PublicURL()+"/greedy"); r.Status != 200 || r.Body != "-3" {
		t.Fatalf("a guest writing _wedge.tokens: %d %q, want the denied code -3", r.Status, r.Body)
	}
	if _, err := n.KV.Get("_wedge.tokens", "key"); err == nil {
		t.Fatal("the guest's write reached the tokens' namespace")
	}
	for _, o := range []client.DeployOptions{{Routes: []string{"/x"}, KVNamespace: "_wedge.acme"}, {Routes: []string{"/x"}, KVGrants: []string{"_wedge.tokens"}}} {
		if _, _, err := cl.Deploy(ctx, "x", text(t, "x"), o); !client.IsStatus(err, http.StatusBadRequest) || !strings.Contains(err.Error(), "reserved") {
			t.Errorf("deploy with %+v: want 400 naming the reserved namespace, got %v", o, err)
		}
	}
}
