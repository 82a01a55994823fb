package model

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/wedge-run/wedge/abi"
)

// AppVersion is the version of an App record's JSON form (field "v").
const AppVersion = 1

// ErrInvalidBucket reports a malformed bucket declaration.
var ErrInvalidBucket = errors.New("invalid bucket")

// Bucket is a declared object bucket.
type Bucket struct {
	Name string `json:"name"`
	// PublicUpload, if set, is a prefix route on the public gateway that
	// accepts PUT requests storing objects into the bucket (the object
	// key is the rest of the path below the route).
	PublicUpload string `json:"public_upload,omitempty"`
	// MaxObjectMB bounds one object, in MiB (0: the node's default).
	MaxObjectMB int `json:"max_object_mb,omitempty"`
}

// Validate checks the bucket's name, route and size limit.
func (b Bucket) Validate() error {
	if !ValidResourceName(b.Name) {
		return fmt.Errorf("%w %q: use 1-%d characters from A-Z a-z 0-9 . _ - (not \".\" or \"..\")", ErrInvalidBucket, b.Name, MaxResourceNameLen)
	}
	if b.PublicUpload != "" {
		if err := ValidateRoute(b.PublicUpload); err != nil {
			return err
		}
		if !strings.HasSuffix(b.PublicUpload, "/...") {
			return fmt.Errorf("%w %q: route %q must be a prefix route ending in /... (the object's key is the rest of the path)", ErrInvalidBucket, b.Name, b.PublicUpload)
		}
		if !strings.HasPrefix(b.PublicUpload, "/") {
			return fmt.Errorf("%w %q: route %q: upload routes match the path only, on every host: start it with /", ErrInvalidBucket, b.Name, b.PublicUpload)
		}
	}
	if b.MaxObjectMB < 0 || b.MaxObjectMB > abi.MaxObjectMB {
		return fmt.Errorf("%w %q: max_object_mb must be between 1 and %d, got %d", ErrInvalidBucket, b.Name, abi.MaxObjectMB, b.MaxObjectMB)
	}
	return nil
}

// AppSpec is what an app deploy sets: its name, its functions and its
// buckets.
type AppSpec struct {
	Name      string         `json:"name"`
	Functions []FunctionSpec `json:"functions"`
	Buckets   []Bucket       `json:"buckets,omitempty"`
}

// Validate checks the app's name, each function (which must belong to
// the app) and each bucket.
func (a AppSpec) Validate() error {
	if err := ValidateName(a.Name); err != nil {
		return fmt.Errorf("app: %w", err)
	}
	for _, f := range a.Functions {
		if f.App != a.Name {
			return fmt.Errorf("function %s: belongs to app %q, not %q", f.Name, f.App, a.Name)
		}
		if err := f.Validate(); err != nil {
			return fmt.Errorf("function %s: %w", f.Name, err)
		}
	}
	seen := map[string]bool{}
	for _, b := range a.Buckets {
		if seen[b.Name] {
			return fmt.Errorf("%w %q: declared twice", ErrInvalidBucket, b.Name)
		}
		seen[b.Name] = true
		if err := b.Validate(); err != nil {
			return err
		}
	}
	return nil
}

// App is a deployed app's record: the names of its functions and its
// buckets, stored with them in one transaction and replicated like a
// function record, so every node serves its public upload routes.
type App struct {
	// V is AppVersion.
	V         int      `json:"v"`
	Name      string   `json:"name"`
	Functions []string `json:"functions,omitempty"`
	Buckets   []Bucket `json:"buckets,omitempty"`
	Stamp     Stamp    `json:"stamp"`
	Origin    string   `json:"origin,omitempty"`
	// Rollback, when the record was made by an app rollback, names the
	// version each function went back to: every node switches those
	// functions together when it applies this record (one change for the
	// whole app, registry.RollbackApp).
	Rollback *AppRollback `json:"rollback,omitempty"`
}

// AppRollback is what an app rollback switched: the kept version each
// function went back to, when and by whom.
type AppRollback struct {
	At       time.Time        `json:"at"`
	By       string           `json:"by,omitempty"`
	Versions map[string]int64 `json:"versions"`
}
