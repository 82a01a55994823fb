package suite

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/wedge-run/wedge/internal/runtime"
)

// artifactMaxAge is how long an artifact nobody used stays in the
// session's artifact cache.
const artifactMaxAge = 30 * 24 * time.Hour

// pruneArtifacts keeps the artifact cache the suite shares across
// sessions (peersDir/artifacts: tens of MiB per compiled Go module) from
// growing without bound. It deletes compiled artifacts no engine of this
// binary can load (their names carry another engine fingerprint: another
// wasmtime, other settings) and those last used more than
// artifactMaxAge before now (lastUsed: the later of their access and
// modification times; a node loading one reads it). Temporary files and
// anything not named *.cwasm are left alone. It returns how many files it
// deleted and their size.
func pruneArtifacts(dir, suffix string, now time.Time) (files int, size int64, err error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return 0, 0, nil
	}
	if err != nil {
		return 0, 0, err
	}
	if suffix == "" {
		return 0, 0, errors.New("suite: pruning artifacts: no engine fingerprint")
	}
	var errs []error
	for _, ent := range entries {
		name := ent.Name()
		if !ent.Type().IsRegular() || !strings.HasSuffix(name, ".cwasm") || strings.HasPrefix(name, ".") {
			continue
		}
		fi, err := ent.Info()
		if err != nil {
			continue // removed meanwhile
		}
		if strings.HasSuffix(name, suffix) && now.Sub(lastUsed(fi)) <= artifactMaxAge {
			continue
		}
		if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
			continue
		}
		files++
		size += fi.Size()
	}
	return files, size, errors.Join(errs...)
}

// pruneSessionArtifacts prunes the session's artifact cache for the
// engine this binary builds, and says what it freed on the progress.
func (e *Env) pruneSessionArtifacts(prog *progress) {
	dir := e.artifactsDir()
	if _, err := os.Stat(dir); err != nil {
		return
	}
	engine, err := runtime.NewEngine(runtime.Config{CacheDir: dir})
	if err != nil {
		prog.line("artifact cache not pruned: %v", err)
		return
	}
	suffix := engine.ArtifactSuffix()
	engine.Close()
	files, size, err := pruneArtifacts(dir, suffix, time.Now())
	switch {
	case err != nil:
		prog.line("artifact cache %s: %v", dir, err)
	case files > 0:
		prog.line("artifact cache %s: removed %s (%s) compiled for another engine or unused for %d days",
			dir, plural(files, "file", "files"), mib(size), int(artifactMaxAge.Hours()/24))
	}
}
