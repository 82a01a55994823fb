package storage

import (
	"encoding/binary"
	"encoding/json"
	"fmt"

	"github.com/wedge-run/wedge/model"
	bolt "go.etcd.io/bbolt"
)

// DefaultKeepVersions is how many versions of each function a node
// keeps when Open's caller does not say (SetKeepVersions).
const DefaultKeepVersions = 10

// bucketVersions holds every kept version of every function: key
// name + 0x00 + the version as 8 big-endian bytes (so a prefix scan
// lists one function's versions in order), value the record as it was
// deployed. The function's record in bucketFunctions is the active
// version: a rollback rewrites it from an entry here.
var bucketVersions = []byte("function-versions")

// SetKeepVersions sets how many versions of each function are kept
// (0 or less: DefaultKeepVersions). Older ones, and the blobs only they
// used, are removed at the next change of that function.
func (d *DB) SetKeepVersions(n int) { d.keep = max(n, 0) }

func (d *DB) keepVersions() int {
	if d.keep == 0 {
		return DefaultKeepVersions
	}
	return d.keep
}

func versionKey(name string, v int64) []byte {
	k := make([]byte, 0, len(name)+9)
	k = append(k, name...)
	k = append(k, 0)
	return binary.BigEndian.AppendUint64(k, uint64(v))
}

func versionPrefix(name string) []byte { return append([]byte(name), 0) }

// forVersions calls fn with each kept version of name, oldest first.
func forVersions(tx *bolt.Tx, name string, fn func(k []byte, f model.Function) error) error {
	b := tx.Bucket(bucketVersions)
	p := versionPrefix(name)
	c := b.Cursor()
	for k, v := c.Seek(p); k != nil && len(k) == len(p)+8 && string(k[:len(p)]) == string(p); k, v = c.Next() {
		f, err := decodeFunction(v)
		if err != nil {
			return fmt.Errorf("version record %q: %w", k, err)
		}
		if err := fn(k, f); err != nil {
			return err
		}
	}
	return nil
}

// latestVersion is the highest kept version number of name (0: none).
func latestVersion(tx *bolt.Tx, name string) (int64, error) {
	var last int64
	err := forVersions(tx, name, func(_ []byte, f model.Function) error {
		last = f.Version
		return nil
	})
	return last, err
}

// recordVersion keeps f as a version of its function unless that version
// is kept already (a rollback to it, or the same version replicated
// again), and drops the oldest versions past the limit, with the blobs
// nothing else uses.
func (d *DB) recordVersion(tx *bolt.Tx, f model.Function) error {
	b := tx.Bucket(bucketVersions)
	key := versionKey(f.Name, f.Version)
	if b.Get(key) == nil {
		rec, err := json.Marshal(f)
		if err != nil {
			return err
		}
		if err := b.Put(key, rec); err != nil {
			return err
		}
	}
	var all [][]byte
	var recs []model.Function
	if err := forVersions(tx, f.Name, func(k []byte, g model.Function) error {
		all = append(all, append([]byte(nil), k...))
		recs = append(recs, g)
		return nil
	}); err != nil {
		return err
	}
	for i := 0; len(all)-i > d.keepVersions(); i++ {
		if recs[i].Version == f.Version || recs[i].Version == f.StableVersion { // the served ones stay
			continue
		}
		if err := b.Delete(all[i]); err != nil {
			return err
		}
		for _, sha := range []string{recs[i].SHA256, recs[i].ServedSHA()} {
			if err := gcBlob(tx, sha); err != nil {
				return err
			}
		}
	}
	return nil
}

// keepPeerVersions keeps the versions of name a peer keeps that are not
// kept here (a node that joined later, or missed a deploy), before the
// record that carried them is stored (which trims the list to the
// limit). Their blobs are not here: a rollback fetches them.
func (d *DB) keepPeerVersions(tx *bolt.Tx, name string, kept []model.Function) error {
	b := tx.Bucket(bucketVersions)
	for _, f := range kept {
		if f.Name != name || f.Version <= 0 {
			return fmt.Errorf("kept version %q %d does not belong to function %q", f.Name, f.Version, name)
		}
		key := versionKey(name, f.Version)
		if b.Get(key) != nil {
			continue
		}
		f.V = model.FunctionVersion
		rec, err := json.Marshal(f)
		if err != nil {
			return err
		}
		if err := b.Put(key, rec); err != nil {
			return err
		}
	}
	return nil
}

// dropVersions forgets every kept version of name (the function was
// deleted) and the blobs only they used.
func dropVersions(tx *bolt.Tx, name string) error {
	var keys [][]byte
	var recs []model.Function
	if err := forVersions(tx, name, func(k []byte, f model.Function) error {
		keys = append(keys, append([]byte(nil), k...))
		recs = append(recs, f)
		return nil
	}); err != nil {
		return err
	}
	for i, k := range keys {
		if err := tx.Bucket(bucketVersions).Delete(k); err != nil {
			return err
		}
		for _, sha := range []string{recs[i].SHA256, recs[i].ServedSHA()} {
			if err := gcBlob(tx, sha); err != nil {
				return err
			}
		}
	}
	return nil
}

// Versions lists the kept versions of name, oldest first.
func (d *DB) Versions(name string) ([]model.Function, error) {
	var out []model.Function
	err := d.bolt.View(func(tx *bolt.Tx) error {
		return forVersions(tx, name, func(_ []byte, f model.Function) error {
			out = append(out, f)
			return nil
		})
	})
	return out, err
}

// KeptModules is the set of module sha256s the kept versions of every
// function use: the blobs and compiled artifacts that must stay.
func (d *DB) KeptModules() (map[string]bool, error) {
	set := map[string]bool{}
	err := d.bolt.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketVersions).ForEach(func(_, v []byte) error {
			f, err := decodeFunction(v)
			if err != nil {
				return err
			}
			set[f.SHA256], set[f.ServedSHA()] = true, true
			return nil
		})
	})
	return set, err
}

// versionUses reports whether a kept version uses the blob sha.
func versionUses(tx *bolt.Tx, sha string) bool {
	used := false
	_ = tx.Bucket(bucketVersions).ForEach(func(_, v []byte) error {
		if g, err := decodeFunction(v); err == nil && (g.SHA256 == sha || g.ServedSHA() == sha) {
			used = true
		}
		return nil
	})
	return used
}
