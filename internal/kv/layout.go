package kv

import (
	"encoding/binary"
	"fmt"

	"go.etcd.io/bbolt"
)

// Bucket and key names; see "Bucket layout" in doc.go.
var (
	bucketRoot       = []byte("kv")
	keyFormat        = []byte("format")
	bucketNamespaces = []byte("ns")
	bucketData       = []byte("d")
	bucketExpiry     = []byte("x")
	bucketTombstones = []byte("t")
	keyStats         = []byte("s")
)

// storageFormat is the value of kv/format; bump it on incompatible
// changes of the layout or of the record format.
const storageFormat = 1

// initBuckets creates the top-level buckets and checks the format.
func initBuckets(tx *bbolt.Tx) error {
	root, err := tx.CreateBucketIfNotExists(bucketRoot)
	if err != nil {
		return err
	}
	if _, err := root.CreateBucketIfNotExists(bucketNamespaces); err != nil {
		return err
	}
	switch f := root.Get(keyFormat); {
	case f == nil:
		return root.Put(keyFormat, []byte{storageFormat})
	case len(f) != 1 || f[0] != storageFormat:
		return fmt.Errorf("kv: unsupported storage format %x in bucket %q (this build reads %d)", f, bucketRoot, storageFormat)
	}
	return nil
}

// nsBucket is one namespace's buckets within a transaction.
type nsBucket struct {
	b, data, exp, tomb *bbolt.Bucket
}

func namespacesBucket(tx *bbolt.Tx) *bbolt.Bucket {
	root := tx.Bucket(bucketRoot)
	if root == nil {
		return nil
	}
	return root.Bucket(bucketNamespaces)
}

// openNS opens the buckets of ns for reading; ok is false if the
// namespace has never been written.
func openNS(tx *bbolt.Tx, ns string) (nb nsBucket, ok bool) {
	all := namespacesBucket(tx)
	if all == nil {
		return nb, false
	}
	return nsFrom(all.Bucket([]byte(ns)))
}

// openData opens only the data bucket of ns, for reads; nil if the
// namespace has never been written.
func openData(tx *bbolt.Tx, ns string) *bbolt.Bucket {
	all := namespacesBucket(tx)
	if all == nil {
		return nil
	}
	b := all.Bucket([]byte(ns))
	if b == nil {
		return nil
	}
	return b.Bucket(bucketData)
}

func nsFrom(b *bbolt.Bucket) (nb nsBucket, ok bool) {
	if b == nil {
		return nb, false
	}
	nb = nsBucket{b: b, data: b.Bucket(bucketData), exp: b.Bucket(bucketExpiry), tomb: b.Bucket(bucketTombstones)}
	return nb, nb.data != nil && nb.exp != nil && nb.tomb != nil
}

// createNS opens the buckets of ns for writing, creating them if needed.
func createNS(tx *bbolt.Tx, ns string) (nsBucket, error) {
	all := namespacesBucket(tx)
	if all == nil {
		return nsBucket{}, fmt.Errorf("kv: bucket %q missing", bucketRoot)
	}
	if nb, ok := nsFrom(all.Bucket([]byte(ns))); ok {
		return nb, nil
	}
	b, err := all.CreateBucketIfNotExists([]byte(ns))
	if err != nil {
		return nsBucket{}, err
	}
	nb := nsBucket{b: b}
	for _, p := range []struct {
		name []byte
		dst  **bbolt.Bucket
	}{{bucketData, &nb.data}, {bucketExpiry, &nb.exp}, {bucketTombstones, &nb.tomb}} {
		if *p.dst, err = b.CreateBucketIfNotExists(p.name); err != nil {
			return nsBucket{}, err
		}
	}
	return nb, nil
}

func (nb nsBucket) stats() (nsStats, error) {
	return decodeStats(nb.b.Get(keyStats))
}

func (nb nsBucket) setStats(s nsStats) error {
	return nb.b.Put(keyStats, s.encode())
}

// load returns the record stored for key, if any.
func (nb nsBucket) load(key []byte) (record, bool, error) {
	v := nb.data.Get(key)
	if v == nil {
		return record{}, false, nil
	}
	r, err := decodeRecord(v)
	if err != nil {
		return r, true, fmt.Errorf("key %q: %w", key, err)
	}
	return r, true, nil
}

// indexKey is the key of the expiry and tombstone indexes: a big-endian
// Unix millisecond followed by the record's key, so a cursor walks the
// index in time order.
func indexKey(ms int64, key []byte) []byte {
	b := make([]byte, 8, 8+len(key))
	binary.BigEndian.PutUint64(b, uint64(ms))
	return append(b, key...)
}

func indexTime(k []byte) int64 { return int64(binary.BigEndian.Uint64(k)) }

func recordBytes(key []byte, r *record) uint64 { return uint64(len(key) + len(r.value)) }

// store replaces the record of key (old, if exists) with nr, keeping the
// indexes and the namespace counters in step. st is updated in place;
// the caller saves it.
func (nb nsBucket) store(key []byte, old *record, exists bool, nr *record, st *nsStats) error {
	if exists {
		if old.tombstone {
			if err := nb.tomb.Delete(indexKey(old.deletedAt, key)); err != nil {
				return err
			}
		} else {
			st.keys--
			st.bytes -= recordBytes(key, old)
			if old.expires != 0 {
				if err := nb.exp.Delete(indexKey(old.expires, key)); err != nil {
					return err
				}
			}
		}
	}
	if nr.tombstone {
		if err := nb.tomb.Put(indexKey(nr.deletedAt, key), nil); err != nil {
			return err
		}
	} else {
		st.keys++
		size := recordBytes(key, nr)
		st.bytes += size
		if nr.expires != 0 {
			if err := nb.exp.Put(indexKey(nr.expires, key), binary.AppendUvarint(nil, size)); err != nil {
				return err
			}
		}
	}
	return nb.data.Put(key, nr.encode(make([]byte, 0, nr.encodedLen())))
}

// expiredAt counts the records (and their bytes) that the expiry index
// says have expired at nowMs but are not purged yet.
func (nb nsBucket) expiredAt(nowMs int64) (keys, bytes uint64) {
	c := nb.exp.Cursor()
	for k, v := c.First(); k != nil && len(k) >= 8 && indexTime(k) <= nowMs; k, v = c.Next() {
		keys++
		n, _ := binary.Uvarint(v)
		bytes += n
	}
	return keys, bytes
}
