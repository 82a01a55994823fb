// Command go is the Go SDK's guest of the cross-language conformance
// suite (sdk/conformance): the same routes as sdk/c/examples/hello and
// sdk/rust/examples/hello, chosen by the last segment of the path.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	wedge "github.com/wedge-run/wedge/sdk/go"
)

func init() {
	wedge.HandleFunc(handle)
	wedge.HandleEvent(func(ctx context.Context, e wedge.Event) error {
		b, err := json.Marshal(e)
		if err != nil {
			return err
		}
		_, err = wedge.KV("").Put("last-event", b)
		return err
	})
}

func main() {}

func handle(w http.ResponseWriter, r *http.Request) {
	switch path.Base(r.URL.Path) {
	case "hello":
		name := r.URL.Query().Get("name")
		if name == "" {
			name = "world"
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("X-Wedge-Sdk", "go")
		fmt.Fprintf(w, "hello, %s\n", name)
	case "head":
		fmt.Fprintf(w, "%s %s %s %d\n", r.Method, r.URL.Path, r.URL.RawQuery, r.ContentLength)
	case "echo":
		status := 200
		if s := r.URL.Query().Get("status"); s != "" {
			status, _ = strconv.Atoi(s)
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		if v := r.Header.Get("X-Echo"); v != "" {
			w.Header().Set("X-Echo", v)
		}
		w.WriteHeader(status)
		io.Copy(w, r.Body)
	case "count":
		n, err := wedge.KV("").Increment("counter", 1)
		if err != nil {
			panic(err)
		}
		fmt.Fprintf(w, "%d\n", n)
	case "kv":
		kv(w)
	case "log":
		wedge.Logger().Info("log: " + r.URL.Query().Get("msg"))
		io.WriteString(w, "logged\n")
	case "config":
		v, ok := wedge.Config(r.URL.Query().Get("key"))
		if !ok {
			http.Error(w, "not set", http.StatusNotFound)
			return
		}
		fmt.Fprintf(w, "%s\n", v)
	case "publish":
		body, _ := io.ReadAll(r.Body)
		if err := wedge.Publish(r.URL.Query().Get("queue"), body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusAccepted)
		io.WriteString(w, "published\n")
	case "trap":
		panic("boom from go")
	default:
		http.Error(w, "not found", http.StatusNotFound)
	}
}

// word names an outcome as the ABI's error table does.
func word(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, wedge.ErrConflict):
		return "version conflict"
	case errors.Is(err, wedge.ErrNotFound):
		return "not found"
	}
	return err.Error()
}

func kv(w http.ResponseWriter) {
	kv := wedge.KV("")
	v1, err1 := kv.Put("kv/a", []byte("one"))
	v2, err2 := kv.Put("kv/a", []byte("two"), wedge.IfVersion(v1))
	_, stale := kv.CompareAndSwap("kv/a", v1, []byte("three"))
	_, absent := kv.Put("kv/a", []byte("four"), wedge.IfAbsent())
	kv.Put("kv/b", []byte("ttl"), wedge.WithTTL(time.Minute))
	val, ver, _ := kv.Get("kv/a")
	versionOK := "wrong"
	if ver == v2 {
		versionOK = "ok"
	}
	var list strings.Builder
	for k, err := range kv.List("kv/") {
		if err != nil {
			fmt.Fprintf(&list, "(%s)", word(err))
			break
		}
		list.WriteString(k + ",")
	}
	del := kv.Delete("kv/a")
	_, _, gone := kv.Get("kv/a")
	kv.Delete("kv/b")
	fmt.Fprintf(w, "put:%s cas:%s stale:%s absent:%s get:%s version:%s list:%s delete:%s gone:%s\n",
		word(err1), word(err2), word(stale), word(absent), val, versionOK, list.String(), word(del), word(gone))
}
