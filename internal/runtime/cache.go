package runtime

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/wedge-run/wedge/internal/atomicfile"
	"github.com/wedge-run/wedge/internal/wasmpool"
)

// engineSettings names the wasmtime settings NewEngine chooses that
// change compiled code (epoch interruption, copy-on-write images,
// Cranelift's speed level); it is part of the engine fingerprint.
const engineSettings = "epoch,cow,o2"

// engineFingerprint names the compiler and its settings. A compiled
// artifact is only valid for the engine that produced it, so the
// fingerprint is part of every artifact's file name. It is derived, not
// kept by hand: wasmpool.EngineIdentity hashes the wasmtime-go module
// version and go.sum hash from the binary's build information, wasmpool's
// layout assumptions, the pool's memory settings and engineSettings.
func engineFingerprint(pc wasmpool.PoolConfig, pooling bool) string {
	return wasmpool.EngineIdentity(pc, fmt.Sprintf("%s,pooling=%t", engineSettings, pooling))
}

const tmpPrefix = atomicfile.TempPrefix

// artifactCache stores serialized native code by content address:
// <dir>/<sha256 of the wasm>-<fingerprint>.cwasm. Files are written to a
// temporary name, synced and renamed, and never rewritten in place: a
// loaded artifact is memory-mapped, and truncating a mapped file would
// crash the process with SIGBUS.
//
// With collection on (the engine owns the directory), artifacts that no
// live version uses are deleted: by collect, and for an artifact a module
// still held when collect ran, when that module's last reference is
// released. An artifact is never deleted while a module of it is open
// (an in-flight request, a deploy being prepared), nor while keep wants
// it (a live version would load it again at the next start).
type artifactCache struct {
	dir     string
	suffix  string // "-" + engine fingerprint + ".cwasm"
	collect bool

	mu      sync.Mutex
	open    map[string]int    // key -> modules of it not yet released
	doomed  map[string]bool   // keys collect found unwanted but open
	writing map[string]bool   // temporary files being written
	keep    func(string) bool // nil: keep everything (nothing decided yet)
	pinned  map[string]bool   // kept whatever keep says: shared code (split.go)
}

func newArtifactCache(dir, fingerprint string, collect bool) (*artifactCache, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("runtime: artifact cache: %w", err)
	}
	return &artifactCache{dir: dir, suffix: "-" + fingerprint + ".cwasm", collect: collect, open: map[string]int{}, doomed: map[string]bool{}, writing: map[string]bool{}, pinned: map[string]bool{}}, nil
}

// pin keeps key's artifact for the cache's lifetime, whatever keep says:
// the engine's shared code (split.go) belongs to no version.
func (c *artifactCache) pin(key string) {
	c.mu.Lock()
	c.pinned[key] = true
	delete(c.doomed, key)
	c.mu.Unlock()
}

func (c *artifactCache) path(key string) string {
	return filepath.Join(c.dir, key+c.suffix)
}

// has reports whether an artifact exists for key.
func (c *artifactCache) has(key string) bool {
	_, err := os.Stat(c.path(key))
	return err == nil
}

// acquire records a module of key as open: its artifact stays.
func (c *artifactCache) acquire(key string) {
	c.mu.Lock()
	c.open[key]++
	delete(c.doomed, key)
	c.mu.Unlock()
}

// release records that a module of key was closed. The last one deletes
// the artifact if collect found it unwanted meanwhile and it still is.
func (c *artifactCache) release(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.open[key]--; c.open[key] > 0 {
		return
	}
	delete(c.open, key)
	if c.doomed[key] {
		delete(c.doomed, key)
		if c.keep != nil && !c.keep(key) {
			os.Remove(c.path(key))
		}
	}
}

// put writes an artifact atomically. An existing artifact is left alone.
func (c *artifactCache) put(key string, data []byte) error {
	final := c.path(key)
	if _, err := os.Stat(final); err == nil {
		return nil
	}
	var tmp string
	defer func() {
		c.mu.Lock()
		delete(c.writing, filepath.Base(tmp))
		c.mu.Unlock()
	}()
	// The temporary file is created and registered under the lock, so a
	// sweep never takes it from under the write.
	create := func(dir string) (*os.File, error) {
		c.mu.Lock()
		defer c.mu.Unlock()
		f, err := os.CreateTemp(dir, tmpPrefix+"*")
		if err == nil {
			tmp = f.Name()
			c.writing[filepath.Base(tmp)] = true
		}
		return f, err
	}
	err := atomicfile.Write(final, 0o600, create, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
	if err != nil {
		return fmt.Errorf("runtime: writing artifact: %w", err)
	}
	return nil
}

// remove deletes an artifact file. Mapped copies stay valid: unlinking
// does not truncate.
func (c *artifactCache) remove(key string) { os.Remove(c.path(key)) }

// sweep deletes every artifact keep does not want and no open module
// uses, artifacts of other engine fingerprints (never loadable by this
// engine), and temporary files no write is using (left by a crash). It
// marks unwanted artifacts still open for deletion at their last release.
// Files that are not artifacts are left alone. It returns how many files
// it deleted.
func (c *artifactCache) sweep() (int, error) {
	if !c.collect {
		return 0, nil
	}
	entries, err := os.ReadDir(c.dir)
	if err != nil {
		return 0, fmt.Errorf("runtime: artifact cache: %w", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.keep == nil {
		return 0, nil
	}
	removed := 0
	for _, ent := range entries {
		name := ent.Name()
		switch {
		case !ent.Type().IsRegular():
			continue
		case strings.HasPrefix(name, tmpPrefix):
			if c.writing[name] {
				continue
			}
		case strings.HasSuffix(name, c.suffix):
			key := strings.TrimSuffix(name, c.suffix)
			if c.keep(key) || c.pinned[key] {
				continue
			}
			if c.open[key] > 0 {
				c.doomed[key] = true
				continue
			}
		case strings.HasSuffix(name, ".cwasm"): // another engine's fingerprint
		default:
			continue
		}
		if err := os.Remove(filepath.Join(c.dir, name)); err == nil {
			removed++
		}
	}
	return removed, nil
}

// ArtifactSuffix is what the names of this engine's artifacts end with,
// after the SHA-256 of the module (the engine fingerprint and ".cwasm");
// "" without a cache. Artifacts of other engines (another wasmtime, other
// settings) end otherwise.
func (e *Engine) ArtifactSuffix() string {
	if e.cache == nil {
		return ""
	}
	return e.cache.suffix
}

// KeepArtifacts tells the engine which artifacts live versions use:
// keep(sha256) reports whether the module of that content is served (or
// would be loaded at the next start). It is called with the cache's lock
// held, from any goroutine, and must not block. Until it is set, nothing
// is collected. Without Config.CollectArtifacts it has no effect.
func (e *Engine) KeepArtifacts(keep func(sha256 string) bool) {
	if e.cache == nil {
		return
	}
	e.cache.mu.Lock()
	e.cache.keep = keep
	e.cache.mu.Unlock()
}

// CollectArtifacts deletes the artifacts KeepArtifacts does not keep, now
// for those no module holds, and at the last release of their module for
// the others. It returns how many files it deleted now. Without
// Config.CollectArtifacts it does nothing.
func (e *Engine) CollectArtifacts() (int, error) {
	if e.cache == nil {
		return 0, nil
	}
	return e.cache.sweep()
}
