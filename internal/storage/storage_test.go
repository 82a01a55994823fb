package storage

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/wedge-run/wedge/model"
)

func shaOf(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func open(t *testing.T, dir string) *DB {
	t.Helper()
	db, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Check(); err != nil {
			t.Errorf("consistency check: %v", err)
		}
		db.Close()
	})
	return db
}

func TestPutFunctionVersionsAndKeepsCreated(t *testing.T) {
	db := open(t, t.TempDir())
	mod := []byte("module-1")
	f1, existed, err := db.PutFunction(model.Function{FunctionSpec: model.FunctionSpec{Name: "a", Routes: []string{"/a"}}, SHA256: shaOf(mod)}, mod)
	if err != nil || existed || f1.Version != 1 {
		t.Fatalf("first put: version %d existed %v err %v", f1.Version, existed, err)
	}
	mod2 := []byte("module-2")
	f2, existed, err := db.PutFunction(model.Function{FunctionSpec: model.FunctionSpec{Name: "a"}, SHA256: shaOf(mod2)}, mod2)
	if err != nil || !existed || f2.Version != 2 {
		t.Fatalf("second put: version %d existed %v err %v", f2.Version, existed, err)
	}
	if !f2.Created.Equal(f1.Created) {
		t.Errorf("Created changed on update: %v -> %v", f1.Created, f2.Created)
	}
	got, err := db.GetFunction("a")
	if err != nil || got.SHA256 != shaOf(mod2) || got.Version != 2 {
		t.Fatalf("get: %+v %v", got, err)
	}
}

func TestPutFunctionRefusesMissingBlob(t *testing.T) {
	db := open(t, t.TempDir())
	_, _, err := db.PutFunction(model.Function{FunctionSpec: model.FunctionSpec{Name: "a"}, SHA256: shaOf([]byte("absent"))})
	if err == nil || !strings.Contains(err.Error(), "missing") {
		t.Fatalf("want a missing-blob error, got %v", err)
	}
	if _, err := db.GetFunction("a"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a failed put left a record: %v", err)
	}
	// The snapshot's blob must be present too.
	mod := []byte("orig")
	_, _, err = db.PutFunction(model.Function{FunctionSpec: model.FunctionSpec{Name: "a"}, SHA256: shaOf(mod), Snapshot: &model.Snapshot{SHA256: shaOf([]byte("snap"))}}, mod)
	if err == nil {
		t.Fatal("a record whose snapshot blob is missing was stored")
	}
	if db.HasBlob(shaOf(mod)) {
		t.Fatal("the failed transaction left its blob behind")
	}
}

func TestDeleteCollectsOnlyUnsharedBlobs(t *testing.T) {
	db := open(t, t.TempDir())
	shared, own, snap := []byte("shared"), []byte("own"), []byte("snapshot")
	if _, _, err := db.PutFunction(model.Function{FunctionSpec: model.FunctionSpec{Name: "a"}, SHA256: shaOf(shared)}, shared); err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.PutFunction(model.Function{FunctionSpec: model.FunctionSpec{Name: "b"}, SHA256: shaOf(shared)}, shared); err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.PutFunction(model.Function{FunctionSpec: model.FunctionSpec{Name: "c"}, SHA256: shaOf(own), Snapshot: &model.Snapshot{SHA256: shaOf(snap)}}, own, snap); err != nil {
		t.Fatal(err)
	}
	if _, err := db.DeleteFunction("a"); err != nil {
		t.Fatal(err)
	}
	if !db.HasBlob(shaOf(shared)) {
		t.Fatal("deleting a removed a blob that b still uses")
	}
	removed, err := db.DeleteFunction("c")
	if err != nil || removed.Name != "c" {
		t.Fatalf("delete c: %+v %v", removed, err)
	}
	if db.HasBlob(shaOf(own)) || db.HasBlob(shaOf(snap)) {
		t.Fatal("deleting c left its module or snapshot blob")
	}
	if _, err := db.DeleteFunction("c"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second delete: want ErrNotFound, got %v", err)
	}
	if _, err := db.Blob(shaOf(own)); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Blob of a collected module: %v", err)
	}
	b, err := db.Blob(shaOf(shared))
	if err != nil || string(b) != "shared" {
		t.Fatalf("Blob: %q %v", b, err)
	}
	// ReleaseBlob keeps a referenced blob.
	if err := db.ReleaseBlob(shaOf(shared)); err != nil || !db.HasBlob(shaOf(shared)) {
		t.Fatalf("ReleaseBlob removed a referenced blob (err %v)", err)
	}
}

func TestRecordsSurviveReopen(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	mod := []byte("m")
	if _, _, err := db.PutFunction(model.Function{FunctionSpec: model.FunctionSpec{Name: "x", Secrets: map[string]string{"k": "v"}}, SHA256: shaOf(mod)}, mod); err != nil {
		t.Fatal(err)
	}
	if err := db.PutMeta("node", map[string]string{"name": "n1"}); err != nil {
		t.Fatal(err)
	}
	ts := Tombstone{Name: "gone", Stamp: model.Stamp{Wall: 42, Logical: 1}, Origin: "n1"}
	if err := db.PutTombstone(ts); err != nil {
		t.Fatal(err)
	}
	db.Close()

	db = open(t, dir)
	f, err := db.GetFunction("x")
	if err != nil || f.Secrets["k"] != "v" {
		t.Fatalf("after reopen: %+v %v", f, err)
	}
	var meta map[string]string
	if found, err := db.GetMeta("node", &meta); !found || err != nil || meta["name"] != "n1" {
		t.Fatalf("meta after reopen: %v %v %v", meta, found, err)
	}
	tombs, err := db.Tombstones()
	if err != nil || len(tombs) != 1 || tombs[0] != ts {
		t.Fatalf("tombstones after reopen: %+v %v", tombs, err)
	}
	// A new deploy of the same name clears its tombstone.
	if err := db.PutTombstone(Tombstone{Name: "x"}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.PutFunction(model.Function{FunctionSpec: model.FunctionSpec{Name: "x"}, SHA256: shaOf(mod)}, mod); err != nil {
		t.Fatal(err)
	}
	tombs, _ = db.Tombstones()
	for _, tb := range tombs {
		if tb.Name == "x" {
			t.Fatal("deploying x kept x's tombstone")
		}
	}
}

func TestMetaListAndDelete(t *testing.T) {
	db := open(t, t.TempDir())
	for _, k := range []string{"key/1", "key/2", "other"} {
		if err := db.PutMeta(k, k); err != nil {
			t.Fatal(err)
		}
	}
	m, err := db.ListMeta("key/")
	if err != nil || len(m) != 2 || string(m["key/1"]) != `"key/1"` {
		t.Fatalf("ListMeta: %q %v", m, err)
	}
	if err := db.DeleteMeta("key/1"); err != nil {
		t.Fatal(err)
	}
	var v string
	if found, _ := db.GetMeta("key/1", &v); found {
		t.Fatal("deleted meta key still found")
	}
}

func TestListFunctionsSorted(t *testing.T) {
	db := open(t, t.TempDir())
	mod := []byte("m")
	for _, n := range []string{"c", "a", "b"} {
		if _, _, err := db.PutFunction(model.Function{FunctionSpec: model.FunctionSpec{Name: n}, SHA256: shaOf(mod)}, mod); err != nil {
			t.Fatal(err)
		}
	}
	fs, err := db.ListFunctions()
	if err != nil || len(fs) != 3 || fs[0].Name != "a" || fs[2].Name != "c" {
		t.Fatalf("ListFunctions: %+v %v", fs, err)
	}
}

func TestSecondOpenOfALockedDirectoryFailsClearly(t *testing.T) {
	dir := t.TempDir()
	_ = open(t, dir)
	_, err := Open(dir)
	if err == nil {
		t.Fatal("a second Open of a locked data directory succeeded")
	}
	if !strings.Contains(err.Error(), "locked") || !strings.Contains(err.Error(), "another wedge node") {
		t.Fatalf("unclear error: %v", err)
	}
}
