package storage

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/wedge-run/wedge/model"
	bolt "go.etcd.io/bbolt"
)

// Put is a function record to store with its module blobs (the
// original and, if any, its snapshot).
type Put struct {
	Function model.Function
	Blobs    [][]byte
	// Kept are versions of the function another node keeps (a replicated
	// record carries them): each is kept here too unless it is already,
	// without its blobs, which are fetched from a peer when a rollback
	// needs them (versions.go).
	Kept []model.Function
}

// Change is one atomic change of what a node serves: function records
// to store, functions to remove (each leaving its tombstone) and an
// app's record to store or remove. Commit applies it in one bbolt
// transaction: a crash leaves all of it or none.
type Change struct {
	Put []Put
	// Remove are the tombstones of the functions to remove; a name not
	// stored is skipped.
	Remove []Tombstone
	// App, when set, is stored; RemoveApp, when set, removes the app its
	// Name gives (AppTombstone) and is kept as its tombstone.
	App       *model.App
	RemoveApp *Tombstone
}

// Result is what Commit did: the records stored (with their versions)
// and whether each name existed, and the records removed.
type Result struct {
	Put     []model.Function
	Existed []bool
	Removed []model.Function
}

// Commit applies c in one transaction. A stored record without a
// version gets the highest version of its name seen so far plus one (1
// for a new name); one with a version (a rollback, or a version
// replicated from the node that numbered it) keeps it. Each stored
// record is also kept in the function's version history (versions.go).
// Created is kept from the previous version. Blobs no remaining record
// or kept version uses are deleted.
func (d *DB) Commit(c Change) (Result, error) {
	var res Result
	err := d.bolt.Update(func(tx *bolt.Tx) error {
		res = Result{}
		for _, p := range c.Put {
			if err := d.keepPeerVersions(tx, p.Function.Name, p.Kept); err != nil {
				return fmt.Errorf("saving %s: %w", p.Function.Name, err)
			}
			f, existed, err := d.putFunction(tx, p.Function, p.Blobs)
			if err != nil {
				return fmt.Errorf("saving %s: %w", p.Function.Name, err)
			}
			res.Put, res.Existed = append(res.Put, f), append(res.Existed, existed)
		}
		for _, t := range c.Remove {
			f, err := deleteFunction(tx, t.Name)
			if errors.Is(err, ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			if err := putTombstone(tx, t); err != nil {
				return err
			}
			f.Stamp, f.Origin = t.Stamp, t.Origin
			res.Removed = append(res.Removed, f)
		}
		if c.App != nil {
			if err := putApp(tx, *c.App); err != nil {
				return err
			}
		}
		if c.RemoveApp != nil {
			if err := tx.Bucket(bucketApps).Delete([]byte(AppName(c.RemoveApp.Name))); err != nil {
				return err
			}
			if err := putTombstone(tx, *c.RemoveApp); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return Result{}, fmt.Errorf("storage: %w", err)
	}
	return res, nil
}

// PutFunction stores f and its module blobs in one transaction (Commit
// of one Put). It returns the stored record and whether the name
// already existed.
func (d *DB) PutFunction(f model.Function, blobs ...[]byte) (model.Function, bool, error) {
	res, err := d.Commit(Change{Put: []Put{{Function: f, Blobs: blobs}}})
	if err != nil {
		return model.Function{}, false, err
	}
	return res.Put[0], res.Existed[0], nil
}

func (d *DB) putFunction(tx *bolt.Tx, f model.Function, blobs [][]byte) (model.Function, bool, error) {
	fb := tx.Bucket(bucketFunctions)
	now := time.Now().UTC()
	f.V = model.FunctionVersion
	f.Created, f.Updated = now, now
	if f.Deployed.IsZero() {
		f.Deployed = now
	}
	last, err := latestVersion(tx, f.Name)
	if err != nil {
		return f, false, err
	}
	existed := false
	if old := fb.Get([]byte(f.Name)); old != nil {
		prev, err := decodeFunction(old)
		if err != nil {
			return f, false, err
		}
		existed = true
		last = max(last, prev.Version)
		f.Created = prev.Created
	}
	if f.Version == 0 {
		f.Version = last + 1
	}
	bb := tx.Bucket(bucketBlobs)
	for _, blob := range blobs {
		sum := sha256.Sum256(blob)
		key := []byte(hex.EncodeToString(sum[:]))
		if bb.Get(key) == nil {
			if err := bb.Put(key, blob); err != nil {
				return f, false, err
			}
		}
	}
	for _, sha := range []string{f.SHA256, f.ServedSHA()} {
		if bb.Get([]byte(sha)) == nil {
			return f, false, fmt.Errorf("blob %s is missing", sha)
		}
	}
	rec, err := json.Marshal(f)
	if err != nil {
		return f, false, err
	}
	if err := tx.Bucket(bucketTombs).Delete([]byte(f.Name)); err != nil {
		return f, false, err
	}
	if err := fb.Put([]byte(f.Name), rec); err != nil {
		return f, false, err
	}
	return f, existed, d.recordVersion(tx, f)
}

// decodeFunction reads a stored record, of this version or an earlier
// one: the records before model.FunctionVersion differ only in the case
// of the stamp's fields ({"Wall":..,"Logical":..}), which encoding/json
// matches without regard to case.
func decodeFunction(b []byte) (model.Function, error) {
	var f model.Function
	if err := json.Unmarshal(b, &f); err != nil {
		return f, err
	}
	if f.V > model.FunctionVersion {
		return f, fmt.Errorf("record version %d is newer than this node reads (%d)", f.V, model.FunctionVersion)
	}
	return f, nil
}

// GetFunction returns the record of name.
func (d *DB) GetFunction(name string) (model.Function, error) {
	var f model.Function
	err := d.bolt.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketFunctions).Get([]byte(name))
		if v == nil {
			return fmt.Errorf("function %q: %w", name, ErrNotFound)
		}
		var err error
		f, err = decodeFunction(v)
		return err
	})
	return f, err
}

// ListFunctions returns every record, sorted by name.
func (d *DB) ListFunctions() ([]model.Function, error) {
	var out []model.Function
	err := d.bolt.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketFunctions).ForEach(func(k, v []byte) error {
			f, err := decodeFunction(v)
			if err != nil {
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
func (d *DB) DeleteFunction(name string) (model.Function, error) {
	var f model.Function
	err := d.bolt.Update(func(tx *bolt.Tx) error {
		var err error
		f, err = deleteFunction(tx, name)
		return err
	})
	return f, err
}

func deleteFunction(tx *bolt.Tx, name string) (model.Function, error) {
	fb := tx.Bucket(bucketFunctions)
	v := fb.Get([]byte(name))
	if v == nil {
		return model.Function{}, fmt.Errorf("function %q: %w", name, ErrNotFound)
	}
	f, err := decodeFunction(v)
	if err != nil {
		return f, err
	}
	if err := fb.Delete([]byte(name)); err != nil {
		return f, err
	}
	if err := dropVersions(tx, name); err != nil {
		return f, err
	}
	if err := gcBlob(tx, f.SHA256); err != nil {
		return f, err
	}
	return f, gcBlob(tx, f.ServedSHA())
}

// ReleaseBlob deletes the blob sha unless a function or a kept version
// still references it.
func (d *DB) ReleaseBlob(sha string) error {
	return d.bolt.Update(func(tx *bolt.Tx) error { return gcBlob(tx, sha) })
}

func gcBlob(tx *bolt.Tx, sha string) error {
	used := false
	err := tx.Bucket(bucketFunctions).ForEach(func(_, v []byte) error {
		if g, err := decodeFunction(v); err == nil && (g.SHA256 == sha || g.ServedSHA() == sha) {
			used = true
		}
		return nil
	})
	if err != nil || used || versionUses(tx, sha) {
		return err
	}
	return tx.Bucket(bucketBlobs).Delete([]byte(sha))
}

// Tombstone records that a function (or, named by AppTombstone, an app)
// was deleted, so that an older replicated deploy of it cannot bring it
// back.
type Tombstone struct {
	Name   string      `json:"name"`
	Stamp  model.Stamp `json:"stamp"`
	Origin string      `json:"origin"`
}

// PutTombstone stores t.
func (d *DB) PutTombstone(t Tombstone) error {
	return d.bolt.Update(func(tx *bolt.Tx) error { return putTombstone(tx, t) })
}

func putTombstone(tx *bolt.Tx, t Tombstone) error {
	b, err := json.Marshal(t)
	if err != nil {
		return err
	}
	return tx.Bucket(bucketTombs).Put([]byte(t.Name), b)
}

// Tombstones lists every tombstone, of functions and of apps.
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
