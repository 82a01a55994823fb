package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	wedge "github.com/wedge-run/wedge/sdk/go"
)

// These tests run natively, where there is no wedge host: the handlers
// get an in-memory store and, for uploads, the object's bytes directly.
// The SDK's own tests cover decoding the events and reading objects
// through the host.

type memStore map[string]string

func (m memStore) Put(key string, value []byte, _ ...wedge.Option) (uint64, error) {
	m[key] = string(value)
	return uint64(len(m)), nil
}

func (m memStore) Delete(key string, _ ...wedge.Option) error {
	delete(m, key)
	return nil
}

func (m memStore) Increment(key string, delta int64) (int64, error) {
	n, _ := strconv.ParseInt(m[key], 10, 64)
	n += delta
	m[key] = strconv.FormatInt(n, 10)
	return n, nil
}

func useStore(t *testing.T) memStore {
	t.Helper()
	m := memStore{}
	old := store
	store = m
	t.Cleanup(func() { store = old })
	return m
}

var ctx = context.Background()

func TestKVChange(t *testing.T) {
	m := useStore(t)
	put := wedge.KVChange{Namespace: "events", Key: "watch/a", Op: wedge.OpPut, NewVersion: 2, Value: []byte("hello")}
	if err := onKVChange(ctx, put); err != nil {
		t.Fatal(err)
	}
	if err := onKVChange(ctx, put); err != nil { // a repeated delivery
		t.Fatal(err)
	}
	if got := m["seen/watch/a"]; got != "hello" || len(m) != 1 {
		t.Errorf("store %v", m)
	}
	// Our own markers are ignored.
	if err := onKVChange(ctx, wedge.KVChange{Key: "seen/watch/a", Op: wedge.OpPut, Value: []byte("x")}); err != nil || len(m) != 1 {
		t.Errorf("a marker event: %v, store %v", err, m)
	}
	if err := onKVChange(ctx, wedge.KVChange{Key: "watch/a", Op: wedge.OpDelete}); err != nil || len(m) != 0 {
		t.Errorf("a delete: %v, store %v", err, m)
	}
	// A value over 64 KiB is read from the store, which needs a host.
	big := wedge.KVChange{Key: "watch/big", Op: wedge.OpPut, ValueTooLarge: true}
	if err := onKVChange(ctx, big); !errors.Is(err, wedge.ErrUnsupported) {
		t.Errorf("a large value without a host: %v", err)
	}
}

func TestUpload(t *testing.T) {
	m := useStore(t)
	content := bytes.Repeat([]byte("0123456789"), 20_000) // 200 kB
	sum := sha256.Sum256(content)
	old := openObject
	openObject = func(u wedge.Upload) io.Reader {
		if u.Bucket != "files" || u.Object != "a/b.bin" {
			t.Errorf("opened %s/%s", u.Bucket, u.Object)
		}
		return bytes.NewReader(content)
	}
	t.Cleanup(func() { openObject = old })
	u := wedge.Upload{Bucket: "files", Object: "a/b.bin", Size: int64(len(content)), SHA256: hex.EncodeToString(sum[:])}
	if err := onUpload(ctx, u); err != nil {
		t.Fatal(err)
	}
	if got, want := m["upload/a/b.bin"], "200000 "+hex.EncodeToString(sum[:]); got != want {
		t.Errorf("upload/a/b.bin = %q, want %q", got, want)
	}
	// Natively there is no host to read from.
	openObject = wedge.Upload.Open
	if err := onUpload(ctx, u); !errors.Is(err, wedge.ErrUnsupported) {
		t.Errorf("reading without a host: %v", err)
	}
}

func TestTicks(t *testing.T) {
	m := useStore(t)
	for range 3 {
		if err := onTick(ctx, wedge.Tick{Cron: "*/5 * * * *", Scheduled: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	if m["ticks"] != "3" {
		t.Errorf("ticks = %q", m["ticks"])
	}
}

func TestQueue(t *testing.T) {
	m := useStore(t)
	batch := []wedge.Message{{ID: "1", Body: []byte("one")}, {ID: "2", Body: []byte("two")}}
	if err := onQueue(ctx, batch); err != nil {
		t.Fatal(err)
	}
	if m["msg/1"] != "one" || m["msg/2"] != "two" {
		t.Errorf("store %v", m)
	}
	batch = []wedge.Message{{ID: "3", Body: []byte("three")}, {ID: "4", Body: []byte("fail"), Attempts: 1}, {ID: "5", Body: []byte("five")}}
	err := onQueue(ctx, batch)
	if err == nil || !strings.Contains(err.Error(), "message 4 (attempt 2) asked to fail") {
		t.Errorf("a failing batch: %v", err)
	}
	if _, ok := m["msg/4"]; ok {
		t.Error("the failing message was stored")
	}
}

func TestPublishRoute(t *testing.T) {
	cases := []struct {
		method, target, body string
		status               int
		text                 string
	}{
		// No host here: publishing reports "unsupported".
		{"POST", "/publish/jobs", "hello", 503, "queue unavailable"},
		{"POST", "/publish/jobs", strings.Repeat("x", 1<<20+1), 413, "at most 1 MiB"},
		{"GET", "/publish/jobs", "", 405, "Method Not Allowed"},
		{"POST", "/elsewhere", "", 404, "404 page not found"},
	}
	for _, c := range cases {
		rec := httptest.NewRecorder()
		newMux().ServeHTTP(rec, httptest.NewRequest(c.method, c.target, strings.NewReader(c.body)))
		if rec.Code != c.status || !strings.Contains(rec.Body.String(), c.text) {
			t.Errorf("%s %s = %d %q", c.method, c.target, rec.Code, rec.Body.String())
		}
	}
}
