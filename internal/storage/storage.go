package storage

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/wedge-run/wedge/internal/hlc"
	bolt "go.etcd.io/bbolt"
)

var (
	bucketFunctions = []byte("functions")
	bucketBlobs     = []byte("blobs")
	bucketMeta      = []byte("meta")
	bucketTombs     = []byte("function-tombstones")
)

// ErrNotFound reports a missing function or blob.
var ErrNotFound = errors.New("not found")

// DB is the node's durable state.
type DB struct {
	bolt *bolt.DB
	path string
}

// Open opens (creating if needed) <dir>/wedge.db. A second process opening
// the same directory waits up to a few seconds for the file lock and then
// fails with a clear error.
func Open(dir string) (*DB, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("storage: %w", err)
	}
	path := filepath.Join(dir, "wedge.db")
	b, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 3 * time.Second})
	if err != nil {
		if errors.Is(err, bolt.ErrTimeout) {
			return nil, fmt.Errorf("storage: %s is locked: is another wedge node using this data directory?", path)
		}
		return nil, fmt.Errorf("storage: opening %s: %w", path, err)
	}
	err = b.Update(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketFunctions, bucketBlobs, bucketMeta, bucketTombs} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Close()
		return nil, fmt.Errorf("storage: %w", err)
	}
	return &DB{bolt: b, path: path}, nil
}

// Close closes the file.
func (d *DB) Close() error { return d.bolt.Close() }

// Bolt exposes the bbolt handle to packages that keep their own buckets
// in the same file (the key-value store).
func (d *DB) Bolt() *bolt.DB { return d.bolt }

// Path is the database file's path.
func (d *DB) Path() string { return d.path }

// Check runs bbolt's consistency check.
func (d *DB) Check() error {
	return d.bolt.View(func(tx *bolt.Tx) error {
		var errs []error
		for err := range tx.Check() {
			errs = append(errs, err)
		}
		return errors.Join(errs...)
	})
}

// Limits are a function's per-invocation limits as stored. Zero means
// the node default.
type Limits struct {
	TimeoutMS        int64 `json:"timeout_ms,omitempty"`
	MemoryBytes      int64 `json:"memory_bytes,omitempty"`
	MaxResponseBytes int   `json:"max_response_bytes,omitempty"`
	MaxConcurrency   int   `json:"max_concurrency,omitempty"`
	// Outbound HTTP limits (internal/runtime/outbound); zero means the default.
	OutboundTimeoutMS        int64 `json:"outbound_timeout_ms,omitempty"`
	OutboundMaxResponseBytes int64 `json:"outbound_max_response_bytes,omitempty"`
	OutboundMaxRequests      int   `json:"outbound_max_requests,omitempty"`
}

// Trigger makes events invoke a function (see package events).
type Trigger struct {
	Kind        string `json:"kind"`                   // kv, upload, schedule, queue
	Namespace   string `json:"namespace,omitempty"`    // kv: namespace watched
	Prefix      string `json:"prefix,omitempty"`       // kv: key prefix
	Bucket      string `json:"bucket,omitempty"`       // upload
	Cron        string `json:"cron,omitempty"`         // schedule
	Timezone    string `json:"timezone,omitempty"`     // schedule, default UTC
	Queue       string `json:"queue,omitempty"`        // queue
	BatchSize   int    `json:"batch_size,omitempty"`   // queue, default 1
	MaxAttempts int    `json:"max_attempts,omitempty"` // default 3
	Concurrency int    `json:"concurrency,omitempty"`  // per-trigger cap; 0 = none
}

// Snapshot describes a deploy-time pre-initialized module.
type Snapshot struct {
	SHA256       string `json:"sha256"`
	MemoryBytes  int    `json:"memory_bytes"`
	NonZeroBytes int    `json:"nonzero_bytes"`
	Segments     int    `json:"segments"`
	InitMicros   int64  `json:"init_us"` // what every request would have spent in _initialize
}

// ServedSHA is the sha256 of the module instances are made from.
func (f Function) ServedSHA() string {
	if f.Snapshot != nil {
		return f.Snapshot.SHA256
	}
	return f.SHA256
}

// Function is a deployed function's record.
type Function struct {
	Name        string            `json:"name"`
	Version     int64             `json:"version"`
	SHA256      string            `json:"sha256"`
	Size        int               `json:"size"`
	Routes      []string          `json:"routes"`
	Entry       string            `json:"entry,omitempty"`
	Limits      Limits            `json:"limits"`
	Config      map[string]string `json:"config,omitempty"`
	Secrets     map[string]string `json:"secrets,omitempty"` // never echoed by the API
	Triggers    []Trigger         `json:"triggers,omitempty"`
	KVNamespace string            `json:"kv_namespace,omitempty"`
	KVGrants    []string          `json:"kv_grants,omitempty"`
	// AllowedHosts are the destinations the function's outbound HTTP
	// requests may reach (internal/runtime/outbound); empty allows none.
	AllowedHosts []string `json:"allowed_hosts,omitempty"`
	App          string   `json:"app,omitempty"`
	// NoSnapshot turns deploy-time pre-initialization off.
	NoSnapshot bool `json:"no_snapshot,omitempty"`
	// Affinity is the path pattern served on one node per key in a
	// cluster (registry.ValidateAffinity).
	Affinity string `json:"affinity,omitempty"`
	// Snapshot, when set, is the pre-initialized module actually served.
	Snapshot *Snapshot `json:"snapshot,omitempty"`
	// Stamp and Origin order changes across a cluster (last writer wins):
	// the hybrid logical clock time of the change and the node that made it.
	Stamp   hlc.Timestamp `json:"stamp"`
	Origin  string        `json:"origin,omitempty"`
	Created time.Time     `json:"created"`
	Updated time.Time     `json:"updated"`
}

// PutFunction stores f and its module blobs (the original and, if any,
// its snapshot) in one transaction. The version is
// the previous version plus one (1 for a new name); Created is kept from
// the previous version. It returns the stored record and whether the name
// already existed.
func (d *DB) PutFunction(f Function, blobs ...[]byte) (Function, bool, error) {
	existed := false
	err := d.bolt.Update(func(tx *bolt.Tx) error {
		fb := tx.Bucket(bucketFunctions)
		now := time.Now().UTC()
		f.Created, f.Updated = now, now
		f.Version = 1
		if old := fb.Get([]byte(f.Name)); old != nil {
			var prev Function
			if err := json.Unmarshal(old, &prev); err != nil {
				return err
			}
			existed = true
			f.Version = prev.Version + 1
			f.Created = prev.Created
		}
		bb := tx.Bucket(bucketBlobs)
		for _, blob := range blobs {
			sum := sha256.Sum256(blob)
			key := []byte(hex.EncodeToString(sum[:]))
			if bb.Get(key) == nil {
				if err := bb.Put(key, blob); err != nil {
					return err
				}
			}
		}
		for _, sha := range []string{f.SHA256, f.ServedSHA()} {
			if bb.Get([]byte(sha)) == nil {
				return fmt.Errorf("storage: blob %s is missing", sha)
			}
		}
		rec, err := json.Marshal(f)
		if err != nil {
			return err
		}
		if err := tx.Bucket(bucketTombs).Delete([]byte(f.Name)); err != nil {
			return err
		}
		return fb.Put([]byte(f.Name), rec)
	})
	if err != nil {
		return Function{}, false, fmt.Errorf("storage: saving %s: %w", f.Name, err)
	}
	return f, existed, nil
}

// GetFunction returns the record of name.
func (d *DB) GetFunction(name string) (Function, error) {
	var f Function
	err := d.bolt.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketFunctions).Get([]byte(name))
		if v == nil {
			return fmt.Errorf("function %q: %w", name, ErrNotFound)
		}
		return json.Unmarshal(v, &f)
	})
	return f, err
}

// ListFunctions returns every record, sorted by name.
func (d *DB) ListFunctions() ([]Function, error) {
	var out []Function
	err := d.bolt.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketFunctions).ForEach(func(k, v []byte) error {
			var f Function
			if err := json.Unmarshal(v, &f); err != nil {
				return fmt.Errorf("record %q: %w", k, err)
			}
			out = append(out, f)
			return nil
		})
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, err
}

// DeleteFunction removes name's record, and its blob when no other
// function uses it. It returns the removed record.
func (d *DB) DeleteFunction(name string) (Function, error) {
	var f Function
	err := d.bolt.Update(func(tx *bolt.Tx) error {
		fb := tx.Bucket(bucketFunctions)
		v := fb.Get([]byte(name))
		if v == nil {
			return fmt.Errorf("function %q: %w", name, ErrNotFound)
		}
		if err := json.Unmarshal(v, &f); err != nil {
			return err
		}
		if err := fb.Delete([]byte(name)); err != nil {
			return err
		}
		if err := d.gcBlob(tx, f.SHA256); err != nil {
			return err
		}
		return d.gcBlob(tx, f.ServedSHA())
	})
	return f, err
}

// ReleaseBlob deletes the blob sha unless a function still references it.
func (d *DB) ReleaseBlob(sha string) error {
	return d.bolt.Update(func(tx *bolt.Tx) error { return d.gcBlob(tx, sha) })
}

func (d *DB) gcBlob(tx *bolt.Tx, sha string) error {
	used := false
	err := tx.Bucket(bucketFunctions).ForEach(func(_, v []byte) error {
		var g Function
		if json.Unmarshal(v, &g) == nil && (g.SHA256 == sha || g.ServedSHA() == sha) {
			used = true
		}
		return nil
	})
	if err != nil || used {
		return err
	}
	return tx.Bucket(bucketBlobs).Delete([]byte(sha))
}

// Blob returns a copy of the module with the given sha256.
func (d *DB) Blob(sha string) ([]byte, error) {
	var out []byte
	err := d.bolt.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketBlobs).Get([]byte(sha))
		if v == nil {
			return fmt.Errorf("blob %s: %w", sha, ErrNotFound)
		}
		out = append([]byte(nil), v...)
		return nil
	})
	return out, err
}

// GetMeta reads a JSON value from the meta bucket into v.
func (d *DB) GetMeta(key string, v any) (bool, error) {
	found := false
	err := d.bolt.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketMeta).Get([]byte(key))
		if b == nil {
			return nil
		}
		found = true
		return json.Unmarshal(b, v)
	})
	return found, err
}

// PutMeta writes v as JSON under key in the meta bucket.
func (d *DB) PutMeta(key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return d.bolt.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Put([]byte(key), b) })
}

// DeleteMeta removes key from the meta bucket.
func (d *DB) DeleteMeta(key string) error {
	return d.bolt.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Delete([]byte(key)) })
}

// ListMeta returns the raw JSON values of the meta keys starting with prefix.
func (d *DB) ListMeta(prefix string) (map[string][]byte, error) {
	out := map[string][]byte{}
	err := d.bolt.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketMeta).Cursor()
		for k, v := c.Seek([]byte(prefix)); k != nil && strings.HasPrefix(string(k), prefix); k, v = c.Next() {
			out[string(k)] = append([]byte(nil), v...)
		}
		return nil
	})
	return out, err
}

// Tombstone records that a function was deleted, so that an older
// replicated deploy of it cannot bring it back.
type Tombstone struct {
	Name   string        `json:"name"`
	Stamp  hlc.Timestamp `json:"stamp"`
	Origin string        `json:"origin"`
}

// PutTombstone stores t.
func (d *DB) PutTombstone(t Tombstone) error {
	b, err := json.Marshal(t)
	if err != nil {
		return err
	}
	return d.bolt.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketTombs).Put([]byte(t.Name), b) })
}

// Tombstones lists every function tombstone.
func (d *DB) Tombstones() ([]Tombstone, error) {
	var out []Tombstone
	err := d.bolt.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketTombs).ForEach(func(_, v []byte) error {
			var t Tombstone
			if err := json.Unmarshal(v, &t); err != nil {
				return err
			}
			out = append(out, t)
			return nil
		})
	})
	return out, err
}

// HasBlob reports whether the blob sha is stored.
func (d *DB) HasBlob(sha string) bool {
	found := false
	d.bolt.View(func(tx *bolt.Tx) error {
		found = tx.Bucket(bucketBlobs).Get([]byte(sha)) != nil
		return nil
	})
	return found
}
