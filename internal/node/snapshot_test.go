package node_test

import (
	"encoding/json"
	"fmt"
	"math/rand"
	"net/http"
	"strings"
	"testing"

	"github.com/wedge-run/wedge/client"
	"github.com/wedge-run/wedge/internal/testutil"
)

// TestSnapshotEquivalence serves the Go SDK echo and hello examples twice,
// pre-initialized and not, and checks that a randomized corpus of
// requests gets the same answers from both.
func TestSnapshotEquivalence(t *testing.T) {
	n := testutil.StartNode(t, "")
	cl := testutil.Client(n)
	echo := testutil.BuildGoWasm(t, "examples/go-echo", true)
	for _, v := range []struct {
		name   string
		noSnap bool
	}{{"snap", false}, {"orig", true}} {
		f, _, err := cl.Deploy(ctx, "echo-"+v.name, echo, client.DeployOptions{Routes: []string{"/" + v.name + "/..."}, NoSnapshot: v.noSnap})
		if err != nil {
			t.Fatal(err)
		}
		if (f.Snapshot != nil) == v.noSnap {
			t.Fatalf("%s: snapshot = %+v", v.name, f.Snapshot)
		}
	}
	rng := rand.New(rand.NewSource(1))
	word := func() string {
		const letters = "abcdefghijklmnopqrstuvwxyz0123456789-_"
		b := make([]byte, 1+rng.Intn(12))
		for i := range b {
			b[i] = letters[rng.Intn(len(letters))]
		}
		return string(b)
	}
	methods := []string{"GET", "POST", "PUT", "DELETE", "PATCH"}
	for i := 0; i < 60; i++ {
		method := methods[rng.Intn(len(methods))]
		path := "/echo/" + word() + "/" + word()
		switch rng.Intn(5) {
		case 0:
			path = "/echo/status"
		case 1:
			path = "/echo/stream"
			method = "GET"
		}
		query := fmt.Sprintf("?%s=%s&n=%d&code=%d", word(), word(), rng.Intn(5), 200+rng.Intn(300))
		body := strings.Repeat(word(), rng.Intn(200))
		hdr := map[string]string{"X-" + word(): word(), "Content-Type": "text/plain"}
		var got [2]testutil.Response
		for j, prefix := range []string{"/snap", "/orig"} {
			got[j] = testutil.Do(t, method, n.PublicURL()+prefix+path+query, strings.NewReader(body), hdr)
		}
		if got[0].Status != got[1].Status || normalize(t, got[0]) != normalize(t, got[1]) {
			t.Fatalf("request %d %s %s%s differs:\nsnapshot: %d %s\noriginal: %d %s", i, method, path, query,
				got[0].Status, got[0].Body, got[1].Status, got[1].Body)
		}
	}
}

// normalize removes what legitimately differs between two deployments:
// request ids, the route, and the path prefix.
func normalize(t *testing.T, r testutil.Response) string {
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		return strings.NewReplacer("/snap/", "/", "/orig/", "/").Replace(r.Body)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(r.Body), &m); err != nil {
		return r.Body
	}
	delete(m, "request_id")
	delete(m, "route")
	delete(m, "remote_addr")
	for _, k := range []string{"uri", "path"} {
		if s, ok := m[k].(string); ok {
			m[k] = strings.TrimPrefix(strings.TrimPrefix(s, "/snap"), "/orig")
		}
	}
	b, _ := json.Marshal(m)
	return string(b) + fmt.Sprint(r.Status) + r.Header.Get(http.CanonicalHeaderKey("Content-Type"))
}
