package storage

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/wedge-run/wedge/model"
	bolt "go.etcd.io/bbolt"
)

// AppPrefix begins the tombstone name of an app ("app:NAME"): no
// function name contains ':', so apps and functions share the tombstone
// bucket, and the cluster's record names, without colliding.
const AppPrefix = "app:"

// AppTombstone is the tombstone name of app.
func AppTombstone(app string) string { return AppPrefix + app }

// AppName returns the app a tombstone name such as "app:chat" names, or
// name itself.
func AppName(name string) string { return strings.TrimPrefix(name, AppPrefix) }

func putApp(tx *bolt.Tx, a model.App) error {
	a.V = model.AppVersion
	b, err := json.Marshal(a)
	if err != nil {
		return err
	}
	if err := tx.Bucket(bucketTombs).Delete([]byte(AppTombstone(a.Name))); err != nil {
		return err
	}
	return tx.Bucket(bucketApps).Put([]byte(a.Name), b)
}

// PutApp stores an app record alone (one replicated from another node).
func (d *DB) PutApp(a model.App) error {
	return d.bolt.Update(func(tx *bolt.Tx) error { return putApp(tx, a) })
}

// ListApps returns every app record, sorted by name.
func (d *DB) ListApps() ([]model.App, error) {
	var out []model.App
	err := d.bolt.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketApps).ForEach(func(k, v []byte) error {
			var a model.App
			if err := json.Unmarshal(v, &a); err != nil {
				return fmt.Errorf("app record %q: %w", k, err)
			}
			out = append(out, a)
			return nil
		})
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, err
}
