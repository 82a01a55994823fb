package manifest_test

import (
	"strings"
	"testing"

	"github.com/wedge-run/wedge/manifest"
)

// TestTraffic: [functions.x] traffic and traffic_key are read, carried
// through the deploy document, and refused when out of range or not of
// the form header:NAME / cookie:NAME.
func TestTraffic(t *testing.T) {
	src := `[app]
name = "shop"

[functions.api]
module = "api.wasm"
routes = ["/api/..."]
traffic = 10
traffic_key = "header:X-User"
`
	app, err := manifest.Parse("wedge.toml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	f := app.Functions[0]
	if f.Traffic != 10 || f.TrafficKey != "header:X-User" || f.Spec("").TrafficKey != "header:X-User" {
		t.Fatalf("parsed %+v", f)
	}
	spec, err := app.Spec()
	if err != nil {
		t.Fatal(err)
	}
	back, err := manifest.ParseSpec(spec)
	if err != nil || back.Functions[0].Traffic != 10 || back.Functions[0].TrafficKey != "header:X-User" {
		t.Fatalf("through the deploy document: %+v %v", back, err)
	}
	for _, bad := range []string{"traffic = 101", "traffic = -1", `traffic_key = "query:u"`, `traffic_key = "header:"`} {
		_, err := manifest.Parse("wedge.toml", []byte("[app]\nname = \"shop\"\n[functions.api]\nmodule = \"api.wasm\"\nroutes = [\"/a\"]\n"+bad+"\n"))
		if err == nil || !strings.Contains(err.Error(), strings.Fields(bad)[0]) {
			t.Errorf("%s: %v", bad, err)
		}
	}
}
