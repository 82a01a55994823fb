package access

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestAuthorize(t *testing.T) {
	read := Token{Name: "r", Scope: ScopeRead}
	kvs := Token{Name: "k", Scope: ScopeKV}
	dep := Token{Name: "d", Scope: ScopeDeploy, Functions: "chat-*"}
	adm := Token{Name: "a", Scope: ScopeAdmin}
	for _, c := range []struct {
		tok          Token
		method, path string
		ok           bool
	}{
		{read, "GET", "/v1/functions", true},
		{read, "GET", "/v1/kv/ns/k", true},
		{read, "PUT", "/v1/kv/ns/k", false},
		{read, "GET", "/v1/tokens", false},
		{read, "GET", "/v1/audit", false},
		{read, "GET", "/v1/cluster/keys", false},
		{kvs, "PUT", "/v1/kv/ns/k", true},
		{kvs, "GET", "/v1/kv", true},
		{kvs, "GET", "/v1/functions", false},
		{kvs, "GET", "/v1/kvx", false},
		{dep, "PUT", "/v1/functions/chat-post", true},
		{dep, "DELETE", "/v1/apps/chat-app", true},
		{dep, "PUT", "/v1/functions/billing", false},
		{dep, "GET", "/v1/functions/billing/logs", false},
		{dep, "GET", "/v1/functions", true},
		{dep, "POST", "/v1/queues/q", false},
		{dep, "POST", "/v1/tokens", false},
		{adm, "POST", "/v1/tokens", true},
		{adm, "DELETE", "/v1/functions/billing", true},
	} {
		err := Authorize(c.tok, c.method, c.path)
		if (err == nil) != c.ok || err != nil && !errors.Is(err, ErrForbidden) {
			t.Errorf("%s %s %s: got %v, want ok=%v", c.tok.Scope, c.method, c.path, err, c.ok)
		}
	}
}

func TestValidate(t *testing.T) {
	for _, tok := range []Token{{Name: "admin", Scope: ScopeRead}, {Name: "Bad", Scope: ScopeRead}, {Name: "x", Scope: "root"},
		{Name: "x", Scope: ScopeRead, Functions: "[a"}, {Name: "x", Scope: ScopeRead, Functions: "a/b"}} {
		if err := tok.Validate(); !errors.Is(err, ErrInvalid) {
			t.Errorf("%+v: want ErrInvalid, got %v", tok, err)
		}
	}
	if err := (Token{Name: "ci", Scope: ScopeDeploy, Functions: "chat-*"}).Validate(); err != nil {
		t.Fatal(err)
	}
	if a, b := NewSecret(), NewSecret(); a == b || len(a) != len(SecretPrefix)+43 || Hash(a) == Hash(b) || len(Hash(a)) != 64 {
		t.Fatalf("secrets %q %q", a, b)
	}
}

// TestAuditRotatesAndRemembers: the log stays within two bounds, a query
// spans the rotated file and the current one, and last use survives a
// reopen (a restart).
func TestAuditRotatesAndRemembers(t *testing.T) {
	dir := t.TempDir()
	a, err := OpenAudit(dir, 2000)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 100 {
		tok := "ci"
		if i%2 == 1 {
			tok = "ops"
		}
		a.Record(Entry{Time: t0.Add(time.Duration(i) * time.Second), Token: tok, Method: "GET", Path: fmt.Sprintf("/v1/functions/f%d", i), Status: 200})
	}
	if err := a.Err(); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"audit.log", "audit.log.1"} {
		st, err := os.Stat(filepath.Join(dir, p))
		if err != nil || st.Size() > 2000 {
			t.Fatalf("%s: %v, %d bytes", p, err, st.Size())
		}
	}
	got, err := a.Query(Query{Token: "ci", Limit: 3})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0].Path != "/v1/functions/f94" || got[2].Path != "/v1/functions/f98" {
		t.Fatalf("last 3 of ci: %+v", got)
	}
	all, _ := a.Query(Query{Limit: 10000})
	if len(all) < 20 || all[len(all)-1].Path != "/v1/functions/f99" || len(all) >= 100 {
		t.Fatalf("the rotated log should keep a bounded tail: %d entries", len(all))
	}
	for i := 1; i < len(all); i++ {
		if all[i].Time.Before(all[i-1].Time) {
			t.Fatalf("entries out of order at %d", i)
		}
	}
	since, _ := a.Query(Query{Since: t0.Add(97 * time.Second)})
	if len(since) != 3 {
		t.Fatalf("since: %d entries", len(since))
	}
	a.Close()
	b, err := OpenAudit(dir, 2000)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if lu := b.LastUse("ops"); !lu.Equal(t0.Add(99 * time.Second)) {
		t.Fatalf("last use after reopen: %v", lu)
	}
}
