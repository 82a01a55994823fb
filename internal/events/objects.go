package events

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
	"unicode/utf8"

	bolt "go.etcd.io/bbolt"

	"github.com/wedge-run/wedge/internal/atomicfile"
	"github.com/wedge-run/wedge/model"
)

var (
	bucketObjMeta = []byte("objects.meta")
	bucketObjData = []byte("objects.data")
)

// InlineLimit is the largest object kept inside the bbolt file; larger
// ones are files named by their sha256 under ObjectsDir. Small objects
// inline cost one transaction (with their upload event) and no extra
// file; large ones would bloat bbolt's pages and its free list, and are
// cheaper as files written and synced before the transaction that
// records them.
const InlineLimit = 256 << 10

// ErrInvalidObject reports a bad bucket or object name.
var ErrInvalidObject = errors.New("invalid object")

// Object describes a stored object.
type Object struct {
	Bucket      string    `json:"bucket"`
	Name        string    `json:"name"`
	Size        int64     `json:"size"`
	ContentType string    `json:"content_type"`
	SHA256      string    `json:"sha256"`
	Created     time.Time `json:"created"`
	Inline      bool      `json:"-"`
}

func objKey(bucket, name string) []byte { return []byte(bucket + "/" + name) }

func checkObject(bucket, name string) error {
	if !model.ValidResourceName(bucket) {
		return fmt.Errorf("%w: bucket %q: use 1-128 of [A-Za-z0-9._-]", ErrInvalidObject, bucket)
	}
	if name == "" || len(name) > 1024 || !utf8.ValidString(name) || strings.ContainsRune(name, 0) {
		return fmt.Errorf("%w: object name must be 1-1024 bytes of UTF-8", ErrInvalidObject)
	}
	return nil
}

// PutObject stores an object durably and, in the same transaction,
// enqueues an upload event for every trigger on its bucket.
func (m *Manager) PutObject(bucket, name, contentType string, data []byte) (Object, error) {
	return m.PutObjectTraced("", bucket, name, contentType, data)
}

// PutObjectTraced is PutObject for an upload made under a traced span
// (traceparent): its upload events continue that trace.
func (m *Manager) PutObjectTraced(traceparent, bucket, name, contentType string, data []byte) (Object, error) {
	if err := checkObject(bucket, name); err != nil {
		return Object{}, err
	}
	if contentType == "" {
		contentType = "application/octet-stream"
	}
	sum := sha256.Sum256(data)
	o := Object{Bucket: bucket, Name: name, Size: int64(len(data)), ContentType: contentType,
		SHA256: hex.EncodeToString(sum[:]), Created: m.opt.Now().UTC(), Inline: len(data) <= InlineLimit}
	if !o.Inline {
		if err := m.writeBlob(o.SHA256, data); err != nil {
			return Object{}, err
		}
	}
	var items []*Item
	for _, r := range m.tab.Load().upload[bucket] {
		d, _ := json.Marshal(UploadData{Bucket: bucket, Object: name, Size: o.Size, ContentType: contentType, SHA256: o.SHA256})
		items = append(items, &Item{Function: r.fn, Trigger: r.idx, Kind: KindUpload, Source: "bucket:" + bucket, Data: d, Trace: traceparent})
	}
	err := m.db.Update(func(tx *bolt.Tx) error {
		meta, err := json.Marshal(o)
		if err != nil {
			return err
		}
		if err := tx.Bucket(bucketObjMeta).Put(objKey(bucket, name), meta); err != nil {
			return err
		}
		if o.Inline {
			if err := tx.Bucket(bucketObjData).Put(objKey(bucket, name), data); err != nil {
				return err
			}
		} else if err := tx.Bucket(bucketObjData).Delete(objKey(bucket, name)); err != nil {
			return err
		}
		if len(items) > 0 {
			return m.enqueue(tx, items...)
		}
		return nil
	})
	return o, err
}

func (m *Manager) blobPath(sum string) string { return filepath.Join(m.opt.ObjectsDir, sum) }

func (m *Manager) writeBlob(sum string, data []byte) error {
	if m.opt.ObjectsDir == "" {
		return errors.New("events: objects larger than the inline limit need an objects directory")
	}
	if _, err := os.Stat(m.blobPath(sum)); err == nil {
		return nil
	}
	if err := os.MkdirAll(m.opt.ObjectsDir, 0o700); err != nil {
		return err
	}
	return atomicfile.WriteFile(m.blobPath(sum), data, 0o600)
}

// StatObject returns an object's metadata.
func (m *Manager) StatObject(bucket, name string) (Object, error) {
	var o Object
	err := m.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketObjMeta).Get(objKey(bucket, name))
		if v == nil {
			return fmt.Errorf("object %s/%s: %w", bucket, name, ErrNotFound)
		}
		if err := json.Unmarshal(v, &o); err != nil {
			return err
		}
		o.Inline = tx.Bucket(bucketObjData).Get(objKey(bucket, name)) != nil || o.Size == 0
		return nil
	})
	return o, err
}

// ReadObject copies object bytes from offset into dst and returns how
// many were copied (0 at the end).
func (m *Manager) ReadObject(bucket, name string, offset int64, dst []byte) (int, error) {
	o, err := m.StatObject(bucket, name)
	if err != nil {
		return 0, err
	}
	if offset < 0 {
		return 0, fmt.Errorf("%w: negative offset", ErrInvalidObject)
	}
	if offset >= o.Size {
		return 0, nil
	}
	if o.Inline {
		n := 0
		err := m.db.View(func(tx *bolt.Tx) error {
			n = copy(dst, tx.Bucket(bucketObjData).Get(objKey(bucket, name))[offset:])
			return nil
		})
		return n, err
	}
	f, err := os.Open(m.blobPath(o.SHA256))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	n, err := f.ReadAt(dst, offset)
	if n > 0 {
		err = nil
	}
	return n, err
}

// GetObject returns an object and its content.
func (m *Manager) GetObject(bucket, name string) (Object, []byte, error) {
	o, err := m.StatObject(bucket, name)
	if err != nil {
		return o, nil, err
	}
	buf := make([]byte, o.Size)
	n, err := m.ReadObject(bucket, name, 0, buf)
	return o, buf[:n], err
}

// ListObjects lists a bucket's objects by name.
func (m *Manager) ListObjects(bucket, prefix string) ([]Object, error) {
	var out []Object
	err := m.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketObjMeta).Cursor()
		p := objKey(bucket, prefix)
		for k, v := c.Seek(p); k != nil && strings.HasPrefix(string(k), string(p)); k, v = c.Next() {
			var o Object
			if err := json.Unmarshal(v, &o); err != nil {
				return err
			}
			out = append(out, o)
		}
		return nil
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, err
}

// DeleteObject removes an object (its file stays while another object
// has the same content; unreferenced files are left for a later sweep).
func (m *Manager) DeleteObject(bucket, name string) error {
	return m.db.Update(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketObjMeta).Get(objKey(bucket, name)) == nil {
			return fmt.Errorf("object %s/%s: %w", bucket, name, ErrNotFound)
		}
		if err := tx.Bucket(bucketObjMeta).Delete(objKey(bucket, name)); err != nil {
			return err
		}
		return tx.Bucket(bucketObjData).Delete(objKey(bucket, name))
	})
}

// CanRead reports whether function fn may read objects of bucket: it has
// an upload trigger on it, or a grant naming it.
func (m *Manager) CanRead(fn, bucket string) bool {
	f, ok := m.tab.Load().byFunc[fn]
	if !ok {
		return false
	}
	for _, t := range f.Triggers {
		if t.Kind == KindUpload && t.Bucket == bucket {
			return true
		}
	}
	for _, g := range f.Grants {
		if g == bucket || g == "*" {
			return true
		}
	}
	return false
}
