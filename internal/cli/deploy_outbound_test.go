package cli_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wedge-run/wedge/internal/cli"
	"github.com/wedge-run/wedge/internal/testutil"
)

// TestDeployOutboundFlags: `wedge deploy` passes --allow-host and the
// outbound limits (named as the manifest's fields) to the node, which
// stores them; a negative value fails the command before any request.
func TestDeployOutboundFlags(t *testing.T) {
	n := testutil.StartNode(t, "")
	file := filepath.Join(t.TempDir(), "hello.wasm")
	if err := os.WriteFile(file, testutil.WAT(t, `(module (memory (export "memory") 1)
  (func (export "wedge_handle") (param i32 i32) (result i32) (i32.const 0)))`), 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) (int, string) {
		var out bytes.Buffer
		args = append(args, "--admin", n.AdminURL(), "--token", testutil.Token)
		code := cli.Run(args, strings.NewReader(""), &out, &out)
		return code, out.String()
	}
	code, out := run("deploy", "out", file, "--route", "/out", "--allow-host", "https://api.example.com",
		"--outbound-timeout", "1.5s", "--outbound-max-response-bytes", "65536", "--outbound-max-requests", "3")
	if code != 0 {
		t.Fatalf("deploy: exit %d\n%s", code, out)
	}
	f, err := testutil.Client(n).Get(context.Background(), "out")
	if err != nil {
		t.Fatal(err)
	}
	if l := f.Limits; l.OutboundTimeoutMS != 1500 || l.OutboundMaxResponseBytes != 65536 || l.OutboundMaxRequests != 3 ||
		len(f.AllowedHosts) != 1 || f.AllowedHosts[0] != "https://api.example.com" {
		t.Fatalf("stored %+v, allowed hosts %q", l, f.AllowedHosts)
	}
	if code, out := run("deploy", "neg", file, "--route", "/neg", "--outbound-max-requests", "-1"); code == 0 || !strings.Contains(out, "must not be negative") {
		t.Fatalf("negative flag: exit %d\n%s", code, out)
	}
	// Out of range on the node: the command fails with the node's reason.
	if code, out := run("deploy", "big", file, "--route", "/big", "--outbound-max-requests", "10001"); code == 0 || !strings.Contains(out, "outbound max requests") {
		t.Fatalf("out-of-range flag: exit %d\n%s", code, out)
	}
}
