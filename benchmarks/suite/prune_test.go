package suite

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func TestPruneArtifacts(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	const suffix = "-wt39.0.1-0123456789abcdef.cwasm"
	files := map[string]time.Time{
		"aaaa" + suffix:                         now.Add(-time.Hour),           // kept: this engine's, recent
		"bbbb" + suffix:                         now.Add(-31 * 24 * time.Hour), // removed: unused for 31 days
		"cccc-wtunknown-1aadd5d8d059e933.cwasm": now.Add(-time.Hour),           // removed: another engine's
		"dddd-wt39.0.1-epoch-cow-o2-v1.cwasm":   now.Add(-time.Hour),           // removed: an older naming
		".tmp-123":                              now.Add(-60 * 24 * time.Hour), // kept: not an artifact
		"notes.txt":                             now.Add(-60 * 24 * time.Hour), // kept: not an artifact
	}
	for name, at := range files {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("0123456789"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, at, at); err != nil {
			t.Fatal(err)
		}
	}
	n, size, err := pruneArtifacts(dir, suffix, now)
	if err != nil {
		t.Fatal(err)
	}
	if n != 3 || size != 30 {
		t.Errorf("removed %d files, %d bytes; want 3, 30", n, size)
	}
	var left []string
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		left = append(left, e.Name())
	}
	want := []string{".tmp-123", "aaaa" + suffix, "notes.txt"}
	if !slices.Equal(left, want) {
		t.Errorf("left %v, want %v", left, want)
	}

	// An artifact read recently counts as used, however old its file.
	p := filepath.Join(dir, "aaaa"+suffix)
	if err := os.Chtimes(p, now.Add(-time.Hour), now.Add(-90*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if n, _, err := pruneArtifacts(dir, suffix, now); err != nil || n != 0 {
		t.Errorf("a recently read artifact: removed %d, %v", n, err)
	}
	if n, _, err := pruneArtifacts(filepath.Join(dir, "missing"), suffix, now); err != nil || n != 0 {
		t.Errorf("a missing cache: %d, %v", n, err)
	}
	if _, _, err := pruneArtifacts(dir, "", now); err == nil {
		t.Error("pruned without knowing the engine's fingerprint")
	}
}
