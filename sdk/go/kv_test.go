package wedge

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/wedge-run/wedge/abi"
)

func TestKVRoundTrip(t *testing.T) {
	f := newFake()
	f.install(t)
	kv := KV("")
	if _, _, err := kv.Get("k"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get of an absent key: %v", err)
	}
	v1, err := kv.Put("k", []byte("one"))
	if err != nil || v1 == 0 {
		t.Fatalf("Put = %d, %v", v1, err)
	}
	val, ver, err := kv.Get("k")
	if err != nil || string(val) != "one" || ver != v1 {
		t.Fatalf("Get = %q, %d, %v; want one, %d", val, ver, err, v1)
	}
	if _, err := kv.Put("k", []byte("x"), IfAbsent()); !errors.Is(err, ErrConflict) {
		t.Errorf("IfAbsent on a present key: %v", err)
	}
	if _, err := kv.CompareAndSwap("k", v1+100, []byte("x")); !errors.Is(err, ErrConflict) {
		t.Errorf("CAS with a stale version: %v", err)
	}
	v2, err := kv.CompareAndSwap("k", v1, []byte("two"))
	if err != nil || v2 <= v1 {
		t.Fatalf("CAS = %d, %v", v2, err)
	}
	if err := kv.Delete("k", IfVersion(v1)); !errors.Is(err, ErrConflict) {
		t.Errorf("Delete with a stale version: %v", err)
	}
	if err := kv.Delete("k", IfVersion(v2)); err != nil {
		t.Errorf("Delete: %v", err)
	}
	if err := kv.Delete("k"); err != nil {
		t.Errorf("Delete of an absent key: %v", err)
	}
	if _, err := kv.Put("new", []byte("v"), IfAbsent(), WithTTL(1500*time.Microsecond)); err != nil {
		t.Errorf("IfAbsent on an absent key: %v", err)
	}
	if ttl := f.kv[""]["new"].ttl; ttl != 2 {
		t.Errorf("ttl_ms = %d, want 2 (rounded up)", ttl)
	}
	if _, err := kv.CompareAndSwap("fresh", 0, []byte("v")); err != nil {
		t.Errorf("CAS from version 0 (absent): %v", err)
	}
}

func TestKVEmptyValue(t *testing.T) {
	f := newFake()
	f.install(t)
	kv := KV("")
	if _, err := kv.Put("empty", nil); err != nil {
		t.Fatal(err)
	}
	val, _, err := kv.Get("empty")
	if err != nil || val == nil || len(val) != 0 {
		t.Errorf("Get = %#v, %v; want an empty non-nil slice", val, err)
	}
}

func TestKVGetLargeValue(t *testing.T) {
	f := newFake()
	f.install(t)
	kv := KV("")
	big := bytes.Repeat([]byte("v"), 100_000)
	kv.Put("big", big)
	small, _, _ := kv.Get("small")
	_ = small
	f.calls = nil
	got, _, err := kv.Get("big")
	if err != nil || !bytes.Equal(got, big) {
		t.Fatalf("Get big: %d bytes, %v", len(got), err)
	}
	if n := f.callsOf(abi.FnKVGet); n != 2 {
		t.Errorf("kv_get x%d, want 2 (size-needed)", n)
	}
	// A small value is one call, and returned slices do not alias the
	// reusable buffer.
	kv.Put("a", []byte("aaa"))
	kv.Put("b", []byte("bbb"))
	a, _, _ := kv.Get("a")
	b, _, _ := kv.Get("b")
	if string(a) != "aaa" || string(b) != "bbb" {
		t.Errorf("a = %q, b = %q", a, b)
	}
}

func TestKVErrorMapping(t *testing.T) {
	sentinels := map[abi.Code]error{
		abi.ErrNotFound:    ErrNotFound,
		abi.ErrTooLarge:    ErrTooLarge,
		abi.ErrDenied:      ErrDenied,
		abi.ErrInvalid:     ErrInvalid,
		abi.ErrConflict:    ErrConflict,
		abi.ErrUnsupported: ErrUnsupported,
		abi.ErrInternal:    ErrInternal,
		abi.ErrNotCounter:  ErrNotCounter,
		abi.ErrBusy:        ErrBusy,
	}
	ops := map[string]func(*Store) error{
		abi.FnKVGet:       func(kv *Store) error { _, _, err := kv.Get("k"); return err },
		abi.FnKVPut:       func(kv *Store) error { _, err := kv.Put("k", nil); return err },
		abi.FnKVDelete:    func(kv *Store) error { return kv.Delete("k") },
		abi.FnKVIncrement: func(kv *Store) error { _, err := kv.Increment("k", 1); return err },
		abi.FnKVList: func(kv *Store) error {
			for _, err := range kv.List("") {
				return err
			}
			return nil
		},
	}
	for fn, op := range ops {
		for code, want := range sentinels {
			f := newFake()
			f.install(t)
			f.failWith[fn] = code
			err := op(KV("other"))
			if !errors.Is(err, want) {
				t.Errorf("%s failing with %d: err = %v, want %v", fn, code, err, want)
			}
			var oe *OpError
			if !errors.As(err, &oe) || oe.Code != int32(code) {
				t.Errorf("%s failing with %d: %#v", fn, code, err)
			}
			for other, s := range sentinels {
				if other != code && errors.Is(err, s) {
					t.Errorf("%s: %v also matches %v", fn, err, s)
				}
			}
		}
	}
}

func TestKVUnknownCode(t *testing.T) {
	f := newFake()
	f.install(t)
	f.failWith[abi.FnKVGet] = 77
	_, _, err := KV("").Get("k")
	var oe *OpError
	if !errors.As(err, &oe) || oe.Code != 77 || errors.Unwrap(err) != nil {
		t.Fatalf("err = %#v", err)
	}
	if err.Error() != `wedge: kv get "k": host error 77` {
		t.Errorf("message = %q", err.Error())
	}
}

func TestKVDenied(t *testing.T) {
	f := newFake()
	f.install(t)
	f.denied["secret"] = true
	_, err := KV("secret").Put("k", []byte("v"))
	if !errors.Is(err, ErrDenied) {
		t.Fatalf("err = %v", err)
	}
	if err.Error() != `wedge: kv put "k": denied` {
		t.Errorf("message = %q", err.Error())
	}
}

func TestKVLocalChecks(t *testing.T) {
	f := newFake()
	f.install(t)
	kv := KV("")
	if _, _, err := kv.Get(""); !errors.Is(err, ErrInvalid) {
		t.Errorf("empty key: %v", err)
	}
	if _, err := kv.Put(strings.Repeat("k", abi.MaxKeyLen+1), nil); !errors.Is(err, ErrTooLarge) {
		t.Errorf("long key: %v", err)
	}
	if _, err := kv.Put("k", make([]byte, abi.MaxValueLen+1)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("large value: %v", err)
	}
	if _, err := kv.Put(strings.Repeat("k", abi.MaxKeyLen), make([]byte, abi.MaxValueLen)); err != nil {
		t.Errorf("key and value at their limits: %v", err)
	}
	if len(f.calls) != 1 {
		t.Errorf("host calls %v; the local checks should have made none", f.calls)
	}
}

func TestKVIncrement(t *testing.T) {
	f := newFake()
	f.install(t)
	kv := KV("")
	for i, want := range []int64{5, 10, 3} {
		delta := []int64{5, 5, -7}[i]
		got, err := kv.Increment("n", delta)
		if err != nil || got != want {
			t.Fatalf("Increment #%d = %d, %v; want %d", i, got, err, want)
		}
	}
	v, _, _ := kv.Get("n")
	if string(v) != "3" {
		t.Errorf("stored %q", v)
	}
	kv.Put("s", []byte("text"))
	if _, err := kv.Increment("s", 1); !errors.Is(err, ErrNotCounter) {
		t.Errorf("Increment of text: %v", err)
	}
}

func TestKVListPaging(t *testing.T) {
	f := newFake()
	f.install(t)
	kv := KV("")
	var want []string
	for i := range 600 {
		k := fmt.Sprintf("note/%04d", i)
		want = append(want, k)
		kv.Put(k, []byte("x"))
	}
	kv.Put("other", []byte("x"))
	var got []string
	for k, err := range kv.List("note/") {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, k)
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("listed %d keys, want %d", len(got), len(want))
	}
	if len(f.listCalls) != 3 {
		t.Fatalf("kv_list x%d, want 3 pages", len(f.listCalls))
	}
	if f.listCalls[0].cursor != "" || f.listCalls[1].cursor != want[listPageSize-1] || f.listCalls[2].cursor != want[2*listPageSize-1] {
		t.Errorf("cursors: %+v", f.listCalls)
	}
	for _, c := range f.listCalls {
		if c.limit < 1 || c.limit > 1000 || c.prefix != "note/" {
			t.Errorf("list call %+v", c)
		}
	}
}

func TestKVListStopsEarly(t *testing.T) {
	f := newFake()
	f.install(t)
	kv := KV("")
	for i := range 1000 {
		kv.Put(fmt.Sprintf("k%04d", i), nil)
	}
	n := 0
	for range kv.List("") {
		n++
		if n == 3 {
			break
		}
	}
	if len(f.listCalls) != 1 {
		t.Errorf("kv_list x%d after breaking out of the first page", len(f.listCalls))
	}
}

func TestKVListLongKeysGrowTheBuffer(t *testing.T) {
	f := newFake()
	f.install(t)
	kv := KV("")
	for i := range 300 {
		kv.Put(fmt.Sprintf("%03d", i)+strings.Repeat("k", 400), nil)
	}
	n := 0
	for _, err := range kv.List("") {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 300 {
		t.Errorf("listed %d", n)
	}
	// The first page (256 keys of ~400 bytes) does not fit the 16 KiB
	// scratch buffer: one retry with the size the host asked for.
	if len(f.listCalls) != 3 || f.listCalls[1].cap <= f.listCalls[0].cap || f.listCalls[1].cursor != "" {
		t.Errorf("list calls: %+v", f.listCalls)
	}
}

func TestKVListError(t *testing.T) {
	f := newFake()
	f.install(t)
	f.denied["x"] = true
	var errs []error
	for k, err := range KV("x").List("") {
		if k != "" {
			t.Errorf("key %q with an error", k)
		}
		errs = append(errs, err)
	}
	if len(errs) != 1 || !errors.Is(errs[0], ErrDenied) {
		t.Errorf("errors = %v", errs)
	}
}

// stuckList is a host whose kv_list always returns the same cursor.
type stuckList struct{ *fakeHost }

func (s stuckList) kvList(ns, prefix, cursor string, limit int32, buf []byte) int32 {
	page := abi.AppendU32(nil, 1)
	page = abi.AppendString(page, "k")
	page = abi.AppendString(page, "k")
	copy(buf, page)
	return int32(len(page))
}

func TestKVListHostThatNeverAdvances(t *testing.T) {
	old := sys
	sys = stuckList{newFake()}
	defer func() { sys = old }()
	var keys []string
	var last error
	for k, err := range KV("").List("") {
		keys = append(keys, k)
		last = err
	}
	if len(keys) != 3 || !errors.Is(last, ErrInternal) {
		t.Errorf("keys %q, last error %v", keys, last)
	}
}

func TestNoHostIsUnsupported(t *testing.T) {
	// Outside wasip1 the package host answers "unsupported".
	if _, err := KV("").Put("k", nil); !errors.Is(err, ErrUnsupported) {
		t.Errorf("Put without a host: %v", err)
	}
	if _, ok := Config("X"); ok {
		t.Error("Config without a host found a value")
	}
}
