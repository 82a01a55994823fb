// Command guest uses every part of the SDK, so that a wasip1 build links
// every host import; wasm_test.go builds it and checks the module's
// imports and exports against the ABI.
package main

import (
	"context"
	"io"
	"net/http"

	wedge "github.com/wedge-run/wedge/sdk/go"
)

func init() {
	wedge.HandleFunc(func(w http.ResponseWriter, r *http.Request) {
		kv := wedge.KV("")
		v, ver, _ := kv.Get("k")
		kv.Put("k", v, wedge.IfVersion(ver), wedge.WithTTL(1))
		kv.Delete("k")
		kv.Increment("n", 1)
		for key := range kv.List("") {
			io.WriteString(w, key)
		}
		greeting, _ := wedge.Config("GREETING")
		wedge.Logger().Info(greeting)
		wedge.Publish("q", []byte(greeting))
		io.Copy(w, r.Body)
		if resp, err := http.Get("https://api.example.com/"); err == nil {
			io.Copy(w, resp.Body)
			resp.Body.Close()
		}
	})
	wedge.OnUpload(func(ctx context.Context, u wedge.Upload) error {
		_, err := io.Copy(io.Discard, u.Open())
		return err
	})
	wedge.HandleEvent(func(ctx context.Context, e wedge.Event) error {
		return wedge.Publish("q", e.Data)
	})
}

func main() {}
