package storage

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/wedge-run/wedge/model"
	bolt "go.etcd.io/bbolt"
)

// legacyAppBuckets is the meta key prefix under which versions before
// app records kept each app's buckets (manifest.Bucket as JSON, without
// tags: {"Name":..,"PublicUpload":..,"MaxObjectMB":..}).
const legacyAppBuckets = "app-buckets/"

// MigrateLegacyApps turns the app buckets of earlier versions into app
// records stamped (stamp, origin), with the names of the app's stored
// functions, and removes the old entries, in one transaction. It returns
// how many apps it migrated; a file without old entries is left as is.
func (d *DB) MigrateLegacyApps(stamp model.Stamp, origin string) (int, error) {
	n := 0
	err := d.bolt.Update(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		var keys [][]byte
		c := meta.Cursor()
		for k, _ := c.Seek([]byte(legacyAppBuckets)); k != nil && strings.HasPrefix(string(k), legacyAppBuckets); k, _ = c.Next() {
			keys = append(keys, append([]byte(nil), k...))
		}
		for _, k := range keys {
			name := strings.TrimPrefix(string(k), legacyAppBuckets)
			var old []struct {
				Name         string
				PublicUpload string
				MaxObjectMB  int
			}
			if err := json.Unmarshal(meta.Get(k), &old); err != nil {
				return fmt.Errorf("old app buckets of %q: %w", name, err)
			}
			a := model.App{Name: name, Stamp: stamp, Origin: origin}
			for _, b := range old {
				a.Buckets = append(a.Buckets, model.Bucket{Name: b.Name, PublicUpload: b.PublicUpload, MaxObjectMB: b.MaxObjectMB})
			}
			err := tx.Bucket(bucketFunctions).ForEach(func(fn, v []byte) error {
				if f, err := decodeFunction(v); err == nil && f.App == name {
					a.Functions = append(a.Functions, string(fn))
				}
				return nil
			})
			if err != nil {
				return err
			}
			sort.Strings(a.Functions)
			if tx.Bucket(bucketApps).Get([]byte(name)) == nil {
				if err := putApp(tx, a); err != nil {
					return err
				}
				n++
			}
			if err := meta.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("storage: migrating app buckets: %w", err)
	}
	return n, nil
}
