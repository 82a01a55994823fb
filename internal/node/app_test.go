package node_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wedge-run/wedge/client"
	"github.com/wedge-run/wedge/internal/testutil"
	"github.com/wedge-run/wedge/manifest"
)

const appManifest = `
[app]
name = "shop"

[functions.front]
module = "front.wasm"
routes = ["/shop/..."]

[functions.thumbs]
module = "thumbs.wasm"
[[functions.thumbs.triggers]]
kind = "upload"
bucket = "images"

[buckets.images]
public_upload = "/upload/images/..."
max_object_mb = 1
`

func deployManifest(t *testing.T, n interface{ AdminURL() string }, dir string) ([]client.AppChange, error) {
	t.Helper()
	app, err := manifest.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	spec, err := app.Spec()
	if err != nil {
		t.Fatal(err)
	}
	mods := map[string][]byte{}
	for i := range app.Functions {
		b, err := os.ReadFile(app.ModulePath(&app.Functions[i]))
		if err != nil {
			t.Fatal(err)
		}
		mods[app.Functions[i].Name] = b
	}
	return client.New(n.AdminURL(), testutil.Token).DeployApp(ctx, app.Name, spec, mods)
}

func actions(cs []client.AppChange) string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Function+":"+c.Action)
	}
	return strings.Join(out, " ")
}

func TestAppDeploy(t *testing.T) {
	n := testutil.StartNode(t, "", fastRetries)
	dir := t.TempDir()
	write := func(name string, b []byte) { os.WriteFile(filepath.Join(dir, name), b, 0o644) }
	write("wedge.toml", []byte(appManifest))
	write("front.wasm", text(t, "shop v1"))
	write("thumbs.wasm", testutil.WAT(t, eventGuestWAT))

	cs, err := deployManifest(t, n, dir)
	if err != nil || actions(cs) != "front:created thumbs:created" {
		t.Fatalf("%v %v", actions(cs), err)
	}
	if r := testutil.Get(t, n.PublicURL()+"/shop/cart"); r.Body != "shop v1" {
		t.Fatalf("%+v", r)
	}
	// A public upload lands in the bucket and fires the app's trigger.
	r := testutil.Do(t, "PUT", n.PublicURL()+"/upload/images/dog.jpg", strings.NewReader("JPEG"), map[string]string{"Content-Type": "image/jpeg"})
	if r.Status != 201 {
		t.Fatalf("upload: %d %s", r.Status, r.Body)
	}
	testutil.Eventually(t, 5*time.Second, "the upload trigger", func() bool { return count(n, "thumbs") == 1 })
	if r := testutil.Do(t, "PUT", n.PublicURL()+"/upload/images/huge", strings.NewReader(strings.Repeat("x", 2<<20)), nil); r.Status != 413 {
		t.Fatalf("oversized upload: %d", r.Status)
	}

	// The same manifest again changes nothing.
	if cs, err := deployManifest(t, n, dir); err != nil || actions(cs) != "front:unchanged thumbs:unchanged" {
		t.Fatalf("%v %v", actions(cs), err)
	}
	// A bad module fails the whole app: nothing changes.
	write("front.wasm", []byte("not wasm"))
	if _, err := deployManifest(t, n, dir); !client.IsStatus(err, 400) {
		t.Fatalf("bad module: %v", err)
	}
	if r := testutil.Get(t, n.PublicURL()+"/shop/cart"); r.Body != "shop v1" {
		t.Fatalf("a failed app deploy changed the node: %+v", r)
	}
	// Change one function, drop the other.
	write("front.wasm", text(t, "shop v2"))
	write("wedge.toml", []byte(strings.Split(appManifest, "[functions.thumbs]")[0]))
	cs, err = deployManifest(t, n, dir)
	if err != nil || actions(cs) != "front:updated thumbs:removed" {
		t.Fatalf("%v %v", actions(cs), err)
	}
	if r := testutil.Get(t, n.PublicURL()+"/shop/cart"); r.Body != "shop v2" {
		t.Fatalf("%+v", r)
	}
	if _, ok := n.Registry.Get("thumbs"); ok {
		t.Fatal("removed function still served")
	}
	// A spec that does not validate is refused with the reason.
	_, err = client.New(n.AdminURL(), testutil.Token).DeployApp(ctx, "shop", []byte(`{"spec_version":1,"app":{"name":"shop"}}`), nil)
	if !client.IsStatus(err, 400) {
		t.Fatalf("bad spec: %v", err)
	}
}
