package node_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wedge-run/wedge/internal/node"
	"github.com/wedge-run/wedge/internal/testutil"
	"github.com/wedge-run/wedge/model"
)

// TestAppBucketsReplicate: an app deployed on node 1 declares a bucket
// with a public upload route; node 2 learns the app's record and serves
// the route: an upload through node 2 is stored there and fires the
// app's trigger. Deleting the app removes the route on node 2 too.
func TestAppBucketsReplicate(t *testing.T) {
	n1 := clusterNode(t, "n1", nil, testKey)
	n2 := clusterNode(t, "n2", n1, testKey)
	testutil.Eventually(t, 5*time.Second, "2 alive members", func() bool { return alive(n1) == 2 && alive(n2) == 2 })

	dir := t.TempDir()
	write := func(name string, b []byte) { os.WriteFile(filepath.Join(dir, name), b, 0o644) }
	write("wedge.toml", []byte(appManifest))
	write("front.wasm", text(t, "shop v1"))
	write("thumbs.wasm", testutil.WAT(t, eventGuestWAT))
	if cs, err := deployManifest(t, n1, dir); err != nil || actions(cs) != "front:created thumbs:created" {
		t.Fatalf("%v %v", actions(cs), err)
	}
	testutil.Eventually(t, 15*time.Second, "the app's functions and its record on node 2", func() bool {
		_, ok := n2.Registry.Get("thumbs")
		return ok && len(n2.Registry.Apps()) == 1 && testutil.Get(t, n2.PublicURL()+"/shop/cart").Body == "shop v1"
	})
	if a := n2.Registry.Apps()[0]; a.Name != "shop" || len(a.Buckets) != 1 || a.Buckets[0].PublicUpload != "/upload/images/..." || a.Origin != "n1" {
		t.Fatalf("node 2 holds app %+v", a)
	}
	// Node 2's admin API shows the app's buckets.
	view := testutil.Do(t, "GET", n2.AdminURL()+"/v1/apps/shop", nil, map[string]string{"Authorization": "Bearer " + testutil.Token})
	var shown struct{ Buckets []model.Bucket }
	if err := json.Unmarshal([]byte(view.Body), &shown); err != nil || len(shown.Buckets) != 1 ||
		shown.Buckets[0] != (model.Bucket{Name: "images", PublicUpload: "/upload/images/...", MaxObjectMB: 1}) {
		t.Fatalf("node 2 shows the app as %s (%v)", view.Body, err)
	}
	r := testutil.Do(t, "PUT", n2.PublicURL()+"/upload/images/cat.jpg", strings.NewReader("JPEG"), map[string]string{"Content-Type": "image/jpeg"})
	if r.Status != 201 {
		t.Fatalf("upload through node 2: %d %s", r.Status, r.Body)
	}
	if _, body, err := n2.Events.GetObject("images", "cat.jpg"); err != nil || string(body) != "JPEG" {
		t.Fatalf("object on node 2: %q %v", body, err)
	}
	testutil.Eventually(t, 10*time.Second, "the upload trigger", func() bool { return count(n2, "thumbs") == 1 })
	// The bucket's size limit came along.
	if r := testutil.Do(t, "PUT", n2.PublicURL()+"/upload/images/huge", strings.NewReader(strings.Repeat("x", 2<<20)), nil); r.Status != 413 {
		t.Fatalf("oversized upload through node 2: %d", r.Status)
	}

	if _, err := testutil.Client(n1).DeleteApp(ctx, "shop"); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 15*time.Second, "the app gone from node 2", func() bool {
		return len(n2.Registry.Apps()) == 0 &&
			testutil.Do(t, "PUT", n2.PublicURL()+"/upload/images/late.jpg", strings.NewReader("x"), nil).Status == 404
	})
}

// TestReplicatedRecordsAreCached: the record list the cluster reads on
// every push/pull is built once per change, and holds every function,
// app and tombstone.
func TestReplicatedRecordsAreCached(t *testing.T) {
	n := clusterNode(t, "solo", nil, testKey)
	deploy(t, n, "a", text(t, "a"), "/a")
	r1, r2 := node.Records(n), node.Records(n)
	if len(r1) != 1 || r1[0].Name != "a" || &r1[0] != &r2[0] {
		t.Fatalf("records %+v, then %+v: want one list, built once", r1, r2)
	}
	deploy(t, n, "b", text(t, "b"), "/b")
	if err := testutil.Client(n).Delete(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "wedge.toml"), []byte(appManifest), 0o644)
	os.WriteFile(filepath.Join(dir, "front.wasm"), text(t, "shop"), 0o644)
	os.WriteFile(filepath.Join(dir, "thumbs.wasm"), testutil.WAT(t, eventGuestWAT), 0o644)
	if _, err := deployManifest(t, n, dir); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range node.Records(n) {
		s := r.Name
		if r.Deleted {
			s += "(deleted)"
		}
		got = append(got, s)
	}
	want := "b front thumbs app:shop a(deleted)"
	if strings.Join(got, " ") != want {
		t.Fatalf("records %q, want %q", strings.Join(got, " "), want)
	}
}
