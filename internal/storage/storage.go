package storage

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

var (
	bucketFunctions = []byte("functions")
	bucketBlobs     = []byte("blobs")
	bucketMeta      = []byte("meta")
	bucketTombs     = []byte("function-tombstones")
	bucketApps      = []byte("apps")
)

// ErrNotFound reports a missing function or blob.
var ErrNotFound = errors.New("not found")

// DB is the node's durable state.
type DB struct {
	bolt *bolt.DB
	path string
	keep int // versions kept per function (SetKeepVersions; 0: the default)
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
		for _, name := range [][]byte{bucketFunctions, bucketBlobs, bucketMeta, bucketTombs, bucketApps, bucketVersions} {
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

// HasBlob reports whether the blob sha is stored.
func (d *DB) HasBlob(sha string) bool {
	found := false
	d.bolt.View(func(tx *bolt.Tx) error {
		found = tx.Bucket(bucketBlobs).Get([]byte(sha)) != nil
		return nil
	})
	return found
}
