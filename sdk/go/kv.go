package wedge

import (
	"iter"
	"sync"
	"time"

	"github.com/wedge-run/wedge/abi"
)

// Store is a handle on one key-value namespace, returned by KV. Values
// are versioned: every successful write returns the key's new version (a
// number > 0), which conditional writes compare against. Methods never
// panic; failures are *OpError values wrapping one of the Err* sentinels.
type Store struct {
	ns string
}

// KV returns a handle on namespace; "" is the function's own namespace
// (its kv_namespace, by default the function's name). Any other namespace
// must be granted to the function, or its operations fail with ErrDenied.
// Handles are cheap and hold no state beyond the name.
func KV(namespace string) *Store { return &Store{ns: namespace} }

// Namespace returns the namespace this handle names ("" for the
// function's own).
func (kv *Store) Namespace() string { return kv.ns }

// Option modifies a write (Put, Delete).
type Option func(*writeOptions)

type writeOptions struct {
	ttl       time.Duration
	ifVersion int64 // -1 unconditional, 0 absent, n > 0 version n
}

// WithTTL makes the stored value expire after d (rounded up to whole
// milliseconds). d <= 0 means no expiry, the default. Delete ignores it.
func WithTTL(d time.Duration) Option {
	return func(o *writeOptions) { o.ttl = d }
}

// IfVersion makes the write happen only if the key's current version is v;
// otherwise it fails with ErrConflict and changes nothing. IfVersion(0) is
// IfAbsent().
func IfVersion(v uint64) Option {
	return func(o *writeOptions) {
		if v > 1<<63-1 {
			v = 1<<63 - 1 // never a real version: the write conflicts
		}
		o.ifVersion = int64(v)
	}
}

// IfAbsent makes a Put happen only if the key does not exist; otherwise it
// fails with ErrConflict.
func IfAbsent() Option { return IfVersion(0) }

func buildOptions(opts []Option) writeOptions {
	o := writeOptions{ifVersion: -1}
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	return o
}

// scratch is a reusable buffer for size-needed host calls.
type scratch struct {
	mu  sync.Mutex
	buf []byte
}

func (s *scratch) get(size int) []byte {
	if cap(s.buf) < size {
		s.buf = make([]byte, size)
	}
	return s.buf[:cap(s.buf)]
}

var (
	kvScratch   = scratch{}
	listScratch = scratch{}
)

const (
	kvScratchSize   = 4 << 10
	listScratchSize = 16 << 10
	listPageSize    = 256
	sizeRetries     = 4 // a value may change size between two calls
)

func checkKey(op, key string) error {
	switch {
	case key == "":
		return localError(op, key, abi.ErrInvalid)
	case len(key) > abi.MaxKeyLen:
		return localError(op, key, abi.ErrTooLarge)
	}
	return nil
}

// Get returns the value stored at key and its version, or ErrNotFound.
// The returned slice is the caller's.
func (kv *Store) Get(key string) ([]byte, uint64, error) {
	if err := checkKey("kv get", key); err != nil {
		return nil, 0, err
	}
	kvScratch.mu.Lock()
	defer kvScratch.mu.Unlock()
	buf, scratch := kvScratch.get(kvScratchSize), true
	for range sizeRetries {
		var version uint64
		n := sys.kvGet(kv.ns, key, buf, &version)
		if n < 0 {
			return nil, 0, opError("kv get", key, int64(n))
		}
		if int(n) <= len(buf) {
			if scratch {
				v := make([]byte, n)
				copy(v, buf)
				return v, version, nil
			}
			return buf[:n:n], version, nil
		}
		// Too large for the scratch buffer: read straight into a buffer
		// of the caller's.
		buf, scratch = make([]byte, n), false
	}
	return nil, 0, localError("kv get", key, abi.ErrBusy)
}

// Put stores value at key and returns the key's new version. Options:
// WithTTL, IfVersion, IfAbsent.
func (kv *Store) Put(key string, value []byte, opts ...Option) (uint64, error) {
	if err := checkKey("kv put", key); err != nil {
		return 0, err
	}
	if len(value) > abi.MaxValueLen {
		return 0, localError("kv put", key, abi.ErrTooLarge)
	}
	o := buildOptions(opts)
	var ttl int64
	if o.ttl > 0 {
		ttl = int64((o.ttl + time.Millisecond - 1) / time.Millisecond)
	}
	v := sys.kvPut(kv.ns, key, value, ttl, o.ifVersion)
	if v < 0 {
		return 0, opError("kv put", key, v)
	}
	return uint64(v), nil
}

// Delete removes key. Deleting an absent key succeeds, unless IfVersion
// asks for a version (ErrConflict).
func (kv *Store) Delete(key string, opts ...Option) error {
	if err := checkKey("kv delete", key); err != nil {
		return err
	}
	o := buildOptions(opts)
	if rc := sys.kvDelete(kv.ns, key, o.ifVersion); rc < 0 {
		return opError("kv delete", key, int64(rc))
	}
	return nil
}

// CompareAndSwap stores newValue at key only if the key's version is still
// oldVersion (0: only if the key is absent), returning the new version, or
// ErrConflict when another write came first.
func (kv *Store) CompareAndSwap(key string, oldVersion uint64, newValue []byte) (uint64, error) {
	return kv.Put(key, newValue, IfVersion(oldVersion))
}

// Increment atomically adds delta to the integer stored at key (an absent
// key counts as 0; the value is kept as decimal text) and returns the new
// value. A value that is not an integer fails with ErrNotCounter.
func (kv *Store) Increment(key string, delta int64) (int64, error) {
	if err := checkKey("kv increment", key); err != nil {
		return 0, err
	}
	var out int64
	if rc := sys.kvIncrement(kv.ns, key, delta, &out); rc < 0 {
		return 0, opError("kv increment", key, int64(rc))
	}
	return out, nil
}

// List returns the keys under prefix in key order, fetched from the host
// a page at a time as the loop advances:
//
//	for key, err := range wedge.KV("").List("note/") {
//		if err != nil {
//			return err
//		}
//		...
//	}
//
// An error is yielded once, with an empty key, and ends the sequence.
func (kv *Store) List(prefix string) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		cursor := ""
		for {
			keys, next, err := kv.listPage(prefix, cursor)
			if err != nil {
				yield("", err)
				return
			}
			for _, k := range keys {
				if !yield(k, nil) {
					return
				}
			}
			if next == "" {
				return
			}
			if next == cursor {
				yield("", localError("kv list", prefix, abi.ErrInternal)) // a host that never advances
				return
			}
			cursor = next
		}
	}
}

// listPage fetches and decodes one page of keys.
func (kv *Store) listPage(prefix, cursor string) ([]string, string, error) {
	listScratch.mu.Lock()
	defer listScratch.mu.Unlock()
	buf := listScratch.get(listScratchSize)
	for range sizeRetries {
		n := sys.kvList(kv.ns, prefix, cursor, listPageSize, buf)
		if n < 0 {
			return nil, "", opError("kv list", prefix, int64(n))
		}
		if int(n) > len(buf) {
			buf = listScratch.get(int(n))
			continue
		}
		r := abi.NewReader(buf[:n])
		count := r.U32()
		if uint64(count)*4 > uint64(r.Len()) {
			return nil, "", localError("kv list", prefix, abi.ErrInternal)
		}
		keys := make([]string, 0, count)
		for range count {
			keys = append(keys, r.String())
		}
		next := r.String()
		if r.Err() != nil {
			return nil, "", localError("kv list", prefix, abi.ErrInternal)
		}
		return keys, next, nil
	}
	return nil, "", localError("kv list", prefix, abi.ErrBusy)
}
