package devloop_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wedge-run/wedge/internal/devloop"
	"github.com/wedge-run/wedge/internal/testutil"
)

const shopManifest = `[app]
name = "shop"

[functions.cart]
module = "cart/cart.wasm"
build = "cp cart/cart.src cart/cart.wasm"
routes = ["/cart"]

[functions.stock]
module = "stock/stock.wasm"
routes = ["/stock"]
`

// TestDevApp: an app is built and deployed as `wedge deploy DIR` does
// it; a change under one function's directory rebuilds and redeploys
// that function only; a change of wedge.toml reloads the app; a
// manifest that does not load changes nothing.
func TestDevApp(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "shop")
	write(t, filepath.Join(dir, "wedge.toml"), shopManifest)
	write(t, filepath.Join(dir, "cart", "cart.src"), string(testutil.WAT(t, watText("cart 1\n"))))
	write(t, filepath.Join(dir, "stock", "stock.wasm"), string(testutil.WAT(t, watText("stock 1\n"))))
	d := startDev(t, devloop.Options{Dir: dir})
	waitAnswer(t, time.Minute, d.public+"/cart", "cart 1\n", time.Now())
	waitAnswer(t, time.Minute, d.public+"/stock", "stock 1\n", time.Now())
	d.waitOutput(t, time.Minute, "watching", 1)
	cl := adminClient(t, d, filepath.Join(dir, devloop.DataDirName))
	version := func(name string) int64 {
		t.Helper()
		f, err := cl.Get(context.Background(), name)
		if err != nil {
			t.Fatal(err)
		}
		return f.Version
	}

	// The build step's source changes: cart alone is rebuilt and redeployed.
	saved := save(t, filepath.Join(dir, "cart", "cart.src"), string(testutil.WAT(t, watText("cart 2\n"))))
	waitAnswer(t, time.Minute, d.public+"/cart", "cart 2\n", saved)
	d.waitOutput(t, time.Minute, "redeployed cart in", 1)
	if v := version("stock"); v != 1 {
		t.Fatalf("stock is at version %d after a change to cart alone", v)
	}
	if strings.Contains(d.out.String(), "redeployed stock") {
		t.Fatalf("stock redeployed after a change to cart alone:\n%s", d.out)
	}

	// A module without a build step is its own source.
	saved = save(t, filepath.Join(dir, "stock", "stock.wasm"), string(testutil.WAT(t, watText("stock 2\n"))))
	waitAnswer(t, time.Minute, d.public+"/stock", "stock 2\n", saved)
	if v := version("cart"); v != 2 {
		t.Fatalf("cart is at version %d after a change to stock alone, want 2", v)
	}

	// A broken manifest is reported and changes nothing.
	save(t, filepath.Join(dir, "wedge.toml"), strings.Replace(shopManifest, `routes = ["/cart"]`, `routes = ["cart"]`, 1))
	d.waitOutput(t, time.Minute, "wedge.toml changed but does not load", 1)
	testutil.Contains(t, d.out.String(), "functions.cart.routes")
	if _, got := body(d.public + "/cart"); got != "cart 2\n" {
		t.Fatalf("after a broken manifest /cart answers %q", got)
	}

	// A new route in the manifest: the app is deployed again.
	save(t, filepath.Join(dir, "wedge.toml"), strings.Replace(shopManifest, `routes = ["/cart"]`, `routes = ["/cart", "/basket"]`, 1))
	waitAnswer(t, time.Minute, d.public+"/basket", "cart 2\n", time.Now())
	testutil.Contains(t, d.out.String(), "wedge.toml changed: rebuilding the app")
}
