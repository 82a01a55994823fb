package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func entries(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

func TestWriteFileReplacesContent(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	if err := os.WriteFile(path, []byte("old content, longer than the new"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(path, []byte("new"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil || string(got) != "new" {
		t.Fatalf("content = %q, %v; want \"new\"", got, err)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Fatalf("mode = %v, want 0600", st.Mode().Perm())
	}
	if names := entries(t, dir); len(names) != 1 || names[0] != "f" {
		t.Fatalf("directory holds %v, want only f (no temporary file left)", names)
	}
	// A new file is created the same way.
	if err := WriteFile(filepath.Join(dir, "g"), []byte("g"), 0o644); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(filepath.Join(dir, "g")); st.Mode().Perm() != 0o644 {
		t.Fatalf("mode = %v, want 0644", st.Mode().Perm())
	}
}

func TestFailedWriteLeavesOldFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err := Write(path, 0o644, nil, func(w io.Writer) error {
		w.Write([]byte("half of the n")) // written to the temporary file only
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Write = %v, want boom", err)
	}
	if got, _ := os.ReadFile(path); string(got) != "old" {
		t.Fatalf("content after a failed write = %q, want \"old\"", got)
	}
	if names := entries(t, dir); len(names) != 1 {
		t.Fatalf("directory holds %v, want only f", names)
	}
}

func TestFailedRenameRemovesTemp(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub") // a directory: rename over it fails
	if err := os.Mkdir(path, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(path, "x"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(path, []byte("data"), 0o644); err == nil {
		t.Fatal("replacing a non-empty directory succeeded")
	}
	if names := entries(t, dir); len(names) != 1 || names[0] != "sub" {
		t.Fatalf("directory holds %v, want only sub", names)
	}
}

func TestCreateHookNamesTheTemp(t *testing.T) {
	dir := t.TempDir()
	var seen string
	err := Write(filepath.Join(dir, "f"), 0o644, func(d string) (*os.File, error) {
		f, err := os.CreateTemp(d, "mine-*")
		if err == nil {
			seen = f.Name()
		}
		return f, err
	}, func(w io.Writer) error { _, err := w.Write([]byte("x")); return err })
	if err != nil || filepath.Dir(seen) != dir {
		t.Fatalf("Write = %v, temp %q; want a temp in %s", err, seen, dir)
	}
	if _, err := os.Stat(seen); !os.IsNotExist(err) {
		t.Fatalf("temp %s still exists: %v", seen, err)
	}
}
