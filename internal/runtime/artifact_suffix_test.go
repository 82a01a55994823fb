package runtime

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// ArtifactSuffix ends the file Compile writes to the cache, so that a
// cache's owner (the benchmark suite prunes its own) can tell this
// engine's artifacts from others'.
func TestArtifactSuffixNamesTheCachedFile(t *testing.T) {
	dir := t.TempDir()
	e, err := NewEngine(Config{CacheDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	wasm := wat(t, helloWAT)
	compile(t, e, wasm)
	name := SHA256Hex(wasm) + e.ArtifactSuffix()
	if !strings.HasPrefix(e.ArtifactSuffix(), "-") || !strings.HasSuffix(name, ".cwasm") {
		t.Fatalf("ArtifactSuffix %q", e.ArtifactSuffix())
	}
	if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
		t.Fatalf("no artifact under the name given: %v", err)
	}
	plain, err := NewEngine(Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	if plain.ArtifactSuffix() != "" {
		t.Error("an engine without a cache names artifacts")
	}
}
