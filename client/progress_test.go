package client_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/wedge-run/wedge/client"
)

// TestDeployProgressOutlivesTimeout: a streamed deploy is not cut by the
// client's overall timeout (an app of Go functions compiling for minutes
// was), and its phases arrive in order with the upload first.
func TestDeployProgressOutlivesTimeout(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Accept") != "application/x-ndjson" {
			http.Error(w, "want the stream", 400)
			return
		}
		w.Header().Set("Content-Type", "application/x-ndjson")
		for i, phase := range []string{"compiling", "snapshotting", "compiling snapshot", "ready"} {
			fmt.Fprintf(w, `{"phase":%q,"function":"f","elapsed_ms":%d}`+"\n", phase, i*100)
			w.(http.Flusher).Flush()
			time.Sleep(100 * time.Millisecond)
		}
		fmt.Fprintln(w, `{"phase":"done","status":201,"result":{"name":"f","version":1}}`)
	}))
	defer srv.Close()
	c := client.New(srv.URL, "t")
	c.HTTP.Timeout = 150 * time.Millisecond // shorter than the whole answer
	var phases []string
	f, created, err := c.Deploy(context.Background(), "f", []byte("module bytes"), client.DeployOptions{
		Progress: func(p client.Progress) { phases = append(phases, p.Phase) }})
	if err != nil || !created || f.Name != "f" || f.Version != 1 {
		t.Fatalf("deploy: %v, created %v, %+v", err, created, f)
	}
	if got := strings.Join(phases, ","); got != "uploaded,compiling,snapshotting,compiling snapshot,ready" {
		t.Fatalf("phases %s", got)
	}
}
