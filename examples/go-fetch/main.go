// Command go-fetch is a wedge function that calls another service:
// GET /fetch?url=https://api.example.com/thing fetches the URL with
// http.Get (the SDK routes it through the host) and answers with the
// status, the content type and the body it got.
//
// The destination must be on the function's allow-list:
//
//	wedge deploy fetch go-fetch.wasm --route /fetch --allow-host https://api.example.com
package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	wedge "github.com/wedge-run/wedge/sdk/go"
)

func init() {
	wedge.HandleFunc(fetch)
}

func fetch(w http.ResponseWriter, r *http.Request) {
	target := r.URL.Query().Get("url")
	if target == "" {
		http.Error(w, "usage: /fetch?url=https://...", http.StatusBadRequest)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		http.Error(w, "fetch failed: "+err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintf(w, "status: %d\ncontent-type: %s\n\n", resp.StatusCode, resp.Header.Get("Content-Type"))
	io.Copy(w, resp.Body)
}

func main() {}
