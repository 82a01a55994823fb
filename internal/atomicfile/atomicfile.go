package atomicfile

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
)

// TempPrefix starts the name of every temporary file Write creates in the
// target's directory (with a random suffix), so that a sweep can tell
// them apart.
const TempPrefix = ".tmp-"

// WriteFile replaces path with data, readable as perm.
func WriteFile(path string, data []byte, perm os.FileMode) error {
	return Write(path, perm, nil, func(w io.Writer) error {
		_, err := io.Copy(w, bytes.NewReader(data))
		return err
	})
}

// Write replaces path with what write writes: to a temporary file in the
// same directory, synced, renamed over path, then the directory synced so
// that the rename itself survives a crash. If anything fails, the
// temporary file is removed and path is left as it was.
//
// create, if not nil, makes the temporary file instead of
// os.CreateTemp(dir, TempPrefix+"*") (a caller that sweeps temporary files
// registers the name under its own lock there).
func Write(path string, perm os.FileMode, create func(dir string) (*os.File, error), write func(io.Writer) error) (err error) {
	dir := filepath.Dir(path)
	if create == nil {
		create = func(dir string) (*os.File, error) { return os.CreateTemp(dir, TempPrefix+"*") }
	}
	f, err := create(dir)
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err = write(f); err != nil {
		return err
	}
	if err = f.Chmod(perm); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp, path); err != nil {
		return err
	}
	return syncDir(dir)
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
