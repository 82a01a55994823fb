package registry

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/wedge-run/wedge/internal/cluster"
	"github.com/wedge-run/wedge/model"
)

// TestWireSpecRoundTrip: a function's replicated spec decodes to the
// spec it was made from, with the secrets sealed on the way and opened
// on arrival.
func TestWireSpecRoundTrip(t *testing.T) {
	seal := func(plain, aad []byte) ([]byte, error) { return append(append([]byte{}, aad...), plain...), nil }
	open := func(sealed, aad []byte) ([]byte, error) { return sealed[len(aad):], nil }
	p := &Replication{cfg: ReplicationConfig{Seal: seal, Open: open}}
	spec := model.FunctionSpec{Name: "f", Routes: []string{"/f"}, Limits: model.Limits{TimeoutMS: 100},
		Secrets: map[string]string{"K": "v"}, Triggers: []model.Trigger{{Kind: "queue", Queue: "q"}}, App: "a"}
	fr, err := p.Record(model.Function{FunctionSpec: spec, SHA256: "x", Stamp: model.Stamp{Wall: 1}, Origin: "n1"}, false)
	if err != nil {
		t.Fatal(err)
	}
	if w := string(fr.Spec); !json.Valid(fr.Spec) || strings.Contains(w, `"secrets"`) || !strings.Contains(w, `"sealed_secrets"`) || !strings.Contains(w, `"v":1`) {
		t.Fatalf("replicated spec %s: want version 1, the secrets sealed only", w)
	}
	_, got, err := p.openSpec(fr)
	if err != nil || !reflect.DeepEqual(got, spec) {
		t.Fatalf("opened %+v, %v; want %+v", got, err, spec)
	}
}

// TestLegacyWireSpec reads the spec as nodes before package model sent
// it: the deploy request under "req", with Go field names.
func TestLegacyWireSpec(t *testing.T) {
	old := `{"req":{"Name":"f","Wasm":null,"Routes":["/f"],"Limits":{"timeout_ms":100},"Config":{"A":"1"},` +
		`"KVNamespace":"ns","KVGrants":["g"],"AllowedHosts":null,"Secrets":null,"Triggers":[{"kind":"queue","queue":"q"}],` +
		`"App":"a","NoSnapshot":true,"Affinity":""},"size":3,"entry":"wedge_handle"}`
	p := &Replication{}
	sp, got, err := p.openSpec(cluster.FunctionRecord{Name: "f", Spec: []byte(old)})
	if err != nil {
		t.Fatal(err)
	}
	want := model.FunctionSpec{Name: "f", Routes: []string{"/f"}, Limits: model.Limits{TimeoutMS: 100}, Config: map[string]string{"A": "1"},
		KVNamespace: "ns", KVGrants: []string{"g"}, Triggers: []model.Trigger{{Kind: "queue", Queue: "q"}}, App: "a", NoSnapshot: true}
	if !reflect.DeepEqual(got, want) || sp.Size != 3 || sp.Entry != "wedge_handle" {
		t.Fatalf("legacy spec read as %+v (%+v), want %+v", got, sp, want)
	}
}
