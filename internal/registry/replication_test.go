package registry

import (
	"encoding/json"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/wedge-run/wedge/internal/cluster"
	"github.com/wedge-run/wedge/internal/storage"
	"github.com/wedge-run/wedge/model"
)

// TestWireSpecRoundTrip: a function's replicated spec decodes to the
// spec it was made from, with the secrets sealed on the way and opened
// on arrival; so do the kept versions it carries, each with its own
// secrets.
func TestWireSpecRoundTrip(t *testing.T) {
	db, err := storage.Open(filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	seal := func(plain, aad []byte) ([]byte, error) { return append(append([]byte{}, aad...), plain...), nil }
	open := func(sealed, aad []byte) ([]byte, error) { return sealed[len(aad):], nil }
	p := New(Options{DB: db}).Replication(ReplicationConfig{Seal: seal, Open: open})
	spec := model.FunctionSpec{Name: "f", Routes: []string{"/f"}, Limits: model.Limits{TimeoutMS: 100},
		Secrets: map[string]string{"K": "v"}, Triggers: []model.Trigger{{Kind: "queue", Queue: "q"}}, App: "a"}
	blob := []byte("module")
	old := model.Function{FunctionSpec: spec, SHA256: SHA(blob), Stamp: model.Stamp{Wall: 1}, Origin: "n1"}
	old.Secrets = map[string]string{"K": "old"}
	if _, _, err := db.PutFunction(old, blob); err != nil {
		t.Fatal(err)
	}
	fr, err := p.Record(model.Function{FunctionSpec: spec, SHA256: "x", Stamp: model.Stamp{Wall: 2}, Origin: "n1", Version: 2}, false)
	if err != nil {
		t.Fatal(err)
	}
	if w := string(fr.Spec); !json.Valid(fr.Spec) || strings.Contains(w, `"secrets"`) || !strings.Contains(w, `"sealed_secrets"`) || !strings.Contains(w, `"v":1`) {
		t.Fatalf("replicated spec %s: want version 1, the secrets sealed only", w)
	}
	sp, got, err := p.openSpec(fr)
	if err != nil || !reflect.DeepEqual(got, spec) {
		t.Fatalf("opened %+v, %v; want %+v", got, err, spec)
	}
	kept := p.keptVersions("f", sp.Kept)
	if len(kept) != 1 || kept[0].Version != 1 || kept[0].SHA256 != old.SHA256 || kept[0].Secrets["K"] != "old" {
		t.Fatalf("kept versions on arrival: %+v", kept)
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
