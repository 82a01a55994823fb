package registry

import "github.com/wedge-run/wedge/model"

// AffinityKey returns the key path has under pattern (a valid pattern,
// see model.ValidateAffinity), or false when the pattern does not apply
// to path. It does not allocate.
func AffinityKey(pattern string, path []byte) ([]byte, bool) { return model.AffinityKey(pattern, path) }
