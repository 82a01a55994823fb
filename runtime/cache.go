package runtime

import (
	"fmt"
	"os"
	"path/filepath"
)

// engineFingerprint names the compiler and its settings. A compiled
// artifact is only valid for the engine that produced it, so the
// fingerprint is part of every artifact's file name; changing the wasmtime
// version or the engine config must change it.
const engineFingerprint = "wt39.0.1-epoch-cow-o2-v1"

// artifactCache stores serialized native code by content address:
// <dir>/<sha256 of the wasm>-<fingerprint>.cwasm. Files are written to a
// temporary name, synced and renamed, and never rewritten in place: a
// loaded artifact is memory-mapped, and truncating a mapped file would
// crash the process with SIGBUS.
type artifactCache struct{ dir string }

func newArtifactCache(dir string) (*artifactCache, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("runtime: artifact cache: %w", err)
	}
	return &artifactCache{dir: dir}, nil
}

func (c *artifactCache) path(key string) string {
	return filepath.Join(c.dir, key+"-"+engineFingerprint+".cwasm")
}

// has reports whether an artifact exists for key.
func (c *artifactCache) has(key string) bool {
	_, err := os.Stat(c.path(key))
	return err == nil
}

// put writes an artifact atomically. An existing artifact is left alone.
func (c *artifactCache) put(key string, data []byte) error {
	final := c.path(key)
	if _, err := os.Stat(final); err == nil {
		return nil
	}
	f, err := os.CreateTemp(c.dir, ".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, final)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("runtime: writing artifact: %w", err)
	}
	return nil
}

// remove deletes an artifact file. Mapped copies stay valid: unlinking
// does not truncate.
func (c *artifactCache) remove(key string) { os.Remove(c.path(key)) }
