package model

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// TestFunctionJSON: the record's one JSON form is snake_case, carries
// "v", and embeds the spec's fields at the top level.
func TestFunctionJSON(t *testing.T) {
	f := Function{V: FunctionVersion, FunctionSpec: FunctionSpec{Name: "f", Routes: []string{"/f"}, Limits: Limits{TimeoutMS: 5},
		Triggers: []Trigger{{Kind: KindQueue, Queue: "q", BatchSize: 2}}}, Version: 3, Stamp: Stamp{Wall: 7, Logical: 1}}
	b, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"v":1`, `"name":"f"`, `"routes":["/f"]`, `"limits":{"timeout_ms":5}`, `"batch_size":2`,
		`"version":3`, `"stamp":{"wall":7,"logical":1}`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("%s lacks %s", b, want)
		}
	}
	for _, bad := range []string{"Wall", "Logical", "FunctionSpec", "Name"} {
		if strings.Contains(string(b), `"`+bad+`"`) {
			t.Errorf("%s has Go field name %s", b, bad)
		}
	}
	var back Function
	if err := json.Unmarshal(b, &back); err != nil || back.Stamp != f.Stamp || back.Name != "f" || back.Triggers[0] != f.Triggers[0] {
		t.Fatalf("round trip: %+v %v", back, err)
	}
	// The stamp of earlier records.
	var old Function
	if err := json.Unmarshal([]byte(`{"name":"f","stamp":{"Wall":9,"Logical":2}}`), &old); err != nil || old.Stamp != (Stamp{Wall: 9, Logical: 2}) {
		t.Fatalf("old stamp: %+v %v", old.Stamp, err)
	}
}

func TestValidators(t *testing.T) {
	if err := ValidateName("Bad Name"); !errors.Is(err, ErrInvalidName) {
		t.Errorf("name: %v", err)
	}
	if err := ValidateRoute("/a/../b"); !errors.Is(err, ErrInvalidRoute) {
		t.Errorf("route: %v", err)
	}
	for _, l := range []Limits{{TimeoutMS: -1}, {TimeoutMS: 16 * 60 * 1000}, {MemoryBytes: 2 << 30}, {OutboundMaxRequests: MaxOutboundRequests + 1}} {
		if err := l.Validate(); !errors.Is(err, ErrInvalidLimits) {
			t.Errorf("limits %+v: %v", l, err)
		}
	}
	if err := (Limits{TimeoutMS: 1000, MemoryBytes: 64 << 20}).Validate(); err != nil {
		t.Errorf("good limits: %v", err)
	}
	for _, b := range []Bucket{{Name: ".."}, {Name: "b", PublicUpload: "/up"}, {Name: "b", PublicUpload: "up/..."}, {Name: "b", PublicUpload: "example.com/up/..."}, {Name: "b", MaxObjectMB: -1}} {
		if err := b.Validate(); err == nil {
			t.Errorf("bucket %+v accepted", b)
		}
	}
	if err := (Bucket{Name: "b", PublicUpload: "/up/...", MaxObjectMB: 5}).Validate(); err != nil {
		t.Errorf("good bucket: %v", err)
	}
	spec := FunctionSpec{Name: "f", Routes: []string{"/rooms/..."}, Affinity: "/rooms/*", Triggers: []Trigger{{Kind: KindSchedule, Cron: "@hourly"}}}
	if err := spec.Validate(); err != nil {
		t.Errorf("good spec: %v", err)
	}
	spec.Affinity = "/other/*"
	if err := spec.Validate(); !errors.Is(err, ErrInvalidAffinity) {
		t.Errorf("affinity no route serves: %v", err)
	}
	app := AppSpec{Name: "a", Functions: []FunctionSpec{{Name: "f", App: "b", Routes: []string{"/f"}}}}
	if err := app.Validate(); err == nil {
		t.Error("a function of another app accepted")
	}
	if _, err := ParseHostRule("ftp://x"); !errors.Is(err, ErrInvalidHost) {
		t.Errorf("host rule: %v", err)
	}
	if r, err := ParseHostRule("HTTPS://API.example.com:443/"); err != nil || r.String() != "https://api.example.com" {
		t.Errorf("host rule: %v %v", r, err)
	}
}
