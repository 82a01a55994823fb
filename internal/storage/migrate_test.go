package storage

import (
	"errors"
	"reflect"
	"testing"

	"github.com/wedge-run/wedge/model"
	bolt "go.etcd.io/bbolt"
)

// TestOldFunctionRecordLoads reads a record as the version before
// package model wrote it (no "v", the stamp's fields capitalized).
func TestOldFunctionRecordLoads(t *testing.T) {
	dir := t.TempDir()
	db := open(t, dir)
	mod := []byte("module")
	old := `{"name":"hello","version":3,"sha256":"` + shaOf(mod) + `","size":6,"routes":["/hello"],` +
		`"entry":"wedge_handle","limits":{"timeout_ms":2000,"memory_bytes":16777216},` +
		`"triggers":[{"kind":"schedule","cron":"@hourly","timezone":"UTC","max_attempts":3}],` +
		`"kv_namespace":"hello","app":"demo","stamp":{"Wall":1700000000000,"Logical":7},"origin":"n1",` +
		`"created":"2024-01-02T03:04:05Z","updated":"2024-01-02T03:04:05Z"}`
	err := db.Bolt().Update(func(tx *bolt.Tx) error {
		if err := tx.Bucket(bucketBlobs).Put([]byte(shaOf(mod)), mod); err != nil {
			return err
		}
		return tx.Bucket(bucketFunctions).Put([]byte("hello"), []byte(old))
	})
	if err != nil {
		t.Fatal(err)
	}
	f, err := db.GetFunction("hello")
	if err != nil {
		t.Fatal(err)
	}
	if f.Stamp != (model.Stamp{Wall: 1700000000000, Logical: 7}) || f.Version != 3 || f.Limits.TimeoutMS != 2000 ||
		f.App != "demo" || len(f.Triggers) != 1 || f.Triggers[0].Cron != "@hourly" || f.Routes[0] != "/hello" {
		t.Fatalf("old record read as %+v", f)
	}
	// Rewritten, it takes the current form and keeps its history. (A
	// record that carries a version keeps it: a rollback; a new deploy
	// carries none and is numbered after the highest.)
	f.Version = 0
	f2, existed, err := db.PutFunction(f, mod)
	if err != nil || !existed || f2.Version != 4 || f2.V != model.FunctionVersion || !f2.Created.Equal(f.Created) {
		t.Fatalf("rewrite: %+v existed=%v err=%v", f2, existed, err)
	}
}

// TestLegacyAppBucketsMigrate turns the meta entries of the version
// before app records into app records, once.
func TestLegacyAppBucketsMigrate(t *testing.T) {
	db := open(t, t.TempDir())
	mod := []byte("m")
	if _, _, err := db.PutFunction(model.Function{FunctionSpec: model.FunctionSpec{Name: "api", App: "shop"}, SHA256: shaOf(mod)}, mod); err != nil {
		t.Fatal(err)
	}
	// What node.appChanged stored: []manifest.Bucket as JSON, no tags.
	err := db.Bolt().Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketMeta).Put([]byte("app-buckets/shop"),
			[]byte(`[{"Name":"photos","PublicUpload":"/up/...","MaxObjectMB":5},{"Name":"raw","PublicUpload":"","MaxObjectMB":0}]`))
	})
	if err != nil {
		t.Fatal(err)
	}
	stamp := model.Stamp{Wall: 99}
	n, err := db.MigrateLegacyApps(stamp, "n1")
	if err != nil || n != 1 {
		t.Fatalf("migrated %d, %v", n, err)
	}
	apps, err := db.ListApps()
	if err != nil {
		t.Fatal(err)
	}
	want := []model.App{{V: model.AppVersion, Name: "shop", Functions: []string{"api"}, Stamp: stamp, Origin: "n1",
		Buckets: []model.Bucket{{Name: "photos", PublicUpload: "/up/...", MaxObjectMB: 5}, {Name: "raw"}}}}
	if !reflect.DeepEqual(apps, want) {
		t.Fatalf("apps = %+v\nwant %+v", apps, want)
	}
	if m, _ := db.ListMeta("app-buckets/"); len(m) != 0 {
		t.Fatalf("old entries left: %v", m)
	}
	if n, err := db.MigrateLegacyApps(stamp, "n1"); n != 0 || err != nil {
		t.Fatalf("second migration: %d, %v", n, err)
	}
}

// TestCommitIsAtomic: a change whose function fails to store (a missing
// blob) leaves neither its other functions nor its app record.
func TestCommitIsAtomic(t *testing.T) {
	db := open(t, t.TempDir())
	mod := []byte("m")
	_, err := db.Commit(Change{
		Put: []Put{
			{Function: model.Function{FunctionSpec: model.FunctionSpec{Name: "a", App: "x"}, SHA256: shaOf(mod)}, Blobs: [][]byte{mod}},
			{Function: model.Function{FunctionSpec: model.FunctionSpec{Name: "b", App: "x"}, SHA256: shaOf([]byte("absent"))}},
		},
		App: &model.App{Name: "x", Functions: []string{"a", "b"}, Buckets: []model.Bucket{{Name: "up", PublicUpload: "/up/..."}}},
	})
	if err == nil {
		t.Fatal("commit with a missing blob succeeded")
	}
	if _, err := db.GetFunction("a"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("function a stored by a failed commit: %v", err)
	}
	if apps, _ := db.ListApps(); len(apps) != 0 {
		t.Fatalf("app stored by a failed commit: %+v", apps)
	}
	res, err := db.Commit(Change{
		Put: []Put{{Function: model.Function{FunctionSpec: model.FunctionSpec{Name: "a", App: "x"}, SHA256: shaOf(mod)}, Blobs: [][]byte{mod}}},
		App: &model.App{Name: "x", Functions: []string{"a"}},
	})
	if err != nil || len(res.Put) != 1 {
		t.Fatalf("commit: %+v %v", res, err)
	}
	tomb := Tombstone{Name: AppTombstone("x"), Stamp: model.Stamp{Wall: 5}, Origin: "n"}
	res, err = db.Commit(Change{Remove: []Tombstone{{Name: "a", Stamp: model.Stamp{Wall: 5}, Origin: "n"}}, RemoveApp: &tomb})
	if err != nil || len(res.Removed) != 1 {
		t.Fatalf("remove: %+v %v", res, err)
	}
	if apps, _ := db.ListApps(); len(apps) != 0 {
		t.Fatalf("app left: %+v", apps)
	}
	tombs, _ := db.Tombstones()
	if len(tombs) != 2 {
		t.Fatalf("tombstones %+v, want the function's and the app's", tombs)
	}
}
