package manifest_test

import (
	"strings"
	"testing"
	"time"

	"github.com/wedge-run/wedge/manifest"
)

func TestAllowedHostsAndOutboundLimits(t *testing.T) {
	app := mustParse(t, `
[app]
name = "shop"

[functions.api]
module = "api.wasm"
routes = ["/api/..."]
allowed_hosts = ["https://API.example.com/", "https://*.example.org:8443", "http://127.0.0.1:9000"]

[functions.api.limits]
outbound_timeout = "2s"
outbound_max_response_bytes = 1048576
outbound_max_requests = 10
`)
	f := app.Functions[0]
	want := []string{"https://api.example.com", "https://*.example.org:8443", "http://127.0.0.1:9000"}
	if strings.Join(f.AllowedHosts, ",") != strings.Join(want, ",") {
		t.Fatalf("allowed_hosts = %q", f.AllowedHosts)
	}
	if f.Limits.OutboundTimeout() != 2*time.Second || f.Limits.OutboundMaxResponseBytes != 1<<20 || f.Limits.OutboundMaxRequests != 10 {
		t.Fatalf("outbound limits = %+v", f.Limits)
	}
	// The spec carries them to the node.
	spec, err := app.Spec()
	if err != nil {
		t.Fatal(err)
	}
	back, err := manifest.ParseSpec(spec)
	if err != nil {
		t.Fatal(err)
	}
	if g := back.Functions[0]; strings.Join(g.AllowedHosts, ",") != strings.Join(want, ",") || g.Limits != f.Limits {
		t.Fatalf("spec round trip: %q %+v", g.AllowedHosts, g.Limits)
	}

	_, err = manifest.Parse("wedge.toml", []byte(`
[functions.api]
module = "api.wasm"
allowed_hosts = ["https://ok.example.com", "ftp://example.com", "https://ok.example.com:443"]

[functions.api.limits]
outbound_max_requests = 0
`))
	if err == nil {
		t.Fatal("bad allowed_hosts accepted")
	}
	for _, s := range []string{"functions.api.allowed_hosts[1]", "http://", "functions.api.allowed_hosts[2]", "already allowed", "outbound_max_requests"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error does not mention %q:\n%v", s, err)
		}
	}
}
