// Command go is the Go SDK's guest of the cross-language conformance
// suite (sdk/conformance): the same routes as sdk/c/examples/hello and
// sdk/rust/examples/hello, chosen by the last segment of the path.
package main

import (
	"context"
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

// freshCalls and freshHeap are the state of the "fresh" route.
var (
	freshCalls int
	freshHeap  *int
)

func init() {
	wedge.HandleFunc(handle)
	// The event entries, one per kind: each records what it received
	// under a "seen-<kind>" key, and the traceparent of the event's cause
	// under "trace-<kind>" first.
	wedge.OnKVChange(func(ctx context.Context, c wedge.KVChange) error {
		if err := putTrace(ctx, "trace-kv"); err != nil {
			return err
		}
		return put("seen-kv", fmt.Sprintf("%s %s %d %d %s", c.Op, c.Key, c.OldVersion, c.NewVersion, c.Value))
	})
	wedge.OnUpload(func(ctx context.Context, u wedge.Upload) error {
		if err := putTrace(ctx, "trace-upload"); err != nil {
			return err
		}
		b, err := u.ReadAll()
		if err != nil {
			return err
		}
		if err := put("upload-body", string(b)); err != nil {
			return err
		}
		return put("seen-upload", fmt.Sprintf("%s %s %d %s %s", u.Bucket, u.Object, u.Size, u.ContentType, u.SHA256))
	})
	wedge.OnSchedule(func(ctx context.Context, t wedge.Tick) error {
		wedge.KV("").Increment("ticks", 1)
		return put("seen-schedule", t.Cron+"|"+t.Timezone+"|"+t.Scheduled.Format(time.RFC3339))
	})
	wedge.OnQueue(func(ctx context.Context, msgs []wedge.Message) error {
		if err := putTrace(ctx, "trace-queue"); err != nil {
			return err
		}
		for _, m := range msgs {
			if err := put("seen-queue", fmt.Sprintf("%s %s %d", m.Queue, m.Body, m.Attempts)); err != nil {
				return err
			}
		}
		return nil
	})
}

func main() {}

// putTrace records the traceparent of the event being handled.
func putTrace(ctx context.Context, key string) error {
	e, _ := wedge.EventFromContext(ctx)
	return put(key, e.TraceParent)
}

func put(key, value string) error {
	_, err := wedge.KV("").Put(key, []byte(value))
	return err
}

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
	case "fresh":
		// A request runs in a fresh instance of the deploy-time snapshot:
		// a global and a heap value every request increments read 1.
		freshCalls++
		if freshHeap == nil {
			freshHeap = new(int)
		}
		*freshHeap++
		fmt.Fprintf(w, "global=%d heap=%d\n", freshCalls, *freshHeap)
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
