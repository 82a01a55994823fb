package devloop

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
)

// watcher reports changes below a directory as batches. inotify watches
// one directory at a time, so the watcher adds every directory of the
// tree, and new ones as they appear. Hidden directories (.git, the dev
// node's .wedge-dev), node_modules and target are not watched, and
// editors' swap and backup files are not changes.
type watcher struct {
	root  string
	fw    *fsnotify.Watcher
	quiet time.Duration
	out   chan batch
	done  chan struct{}
	wg    sync.WaitGroup

	mu      sync.Mutex
	skipped []string // absolute paths never reported
	failure error
}

func newWatcher(root string, quiet time.Duration) (*watcher, error) {
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, err
	}
	w := &watcher{root: root, fw: fw, quiet: quiet, out: make(chan batch), done: make(chan struct{})}
	if err := w.addTree(root); err != nil {
		fw.Close()
		return nil, err
	}
	w.wg.Add(1)
	go w.run()
	return w, nil
}

// batches delivers the debounced changes; it is closed if the watcher
// fails (see err).
func (w *watcher) batches() <-chan batch { return w.out }

func (w *watcher) err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.failure
}

// ignore stops reporting changes at or below path.
func (w *watcher) ignore(path string) {
	w.mu.Lock()
	w.skipped = append(w.skipped, path)
	w.mu.Unlock()
}

func (w *watcher) Close() {
	close(w.done)
	w.fw.Close()
	w.wg.Wait()
}

// addTree watches dir and every directory below it that is not skipped.
func (w *watcher) addTree(dir string) error {
	return filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if path == dir {
				return err
			}
			return nil // vanished meanwhile
		}
		if !d.IsDir() {
			return nil
		}
		if path != dir && w.skip(path) {
			return filepath.SkipDir
		}
		return w.fw.Add(path)
	})
}

// skip reports whether changes at path are not the project's.
func (w *watcher) skip(path string) bool {
	w.mu.Lock()
	for _, s := range w.skipped {
		if within(s, path) {
			w.mu.Unlock()
			return true
		}
	}
	w.mu.Unlock()
	rel, err := filepath.Rel(w.root, path)
	if err != nil || rel == "." {
		return false
	}
	for _, part := range strings.Split(rel, string(filepath.Separator)) {
		if strings.HasPrefix(part, ".") || part == "node_modules" || part == "target" {
			return true
		}
	}
	name := filepath.Base(path)
	switch {
	case strings.HasSuffix(name, "~"), strings.HasSuffix(name, ".swp"), strings.HasSuffix(name, ".swx"),
		strings.HasSuffix(name, ".swo"), strings.HasSuffix(name, ".tmp"), name == "4913",
		strings.HasPrefix(name, "#") && strings.HasSuffix(name, "#"):
		return true // vim, emacs and other editors' scratch files
	}
	return false
}

func (w *watcher) run() {
	defer w.wg.Done()
	defer close(w.out)
	d := newDebouncer(w.quiet)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	var ready batch // due, not yet taken by the loop
	for {
		var out chan batch
		if ready != nil {
			out = w.out
		}
		var due <-chan time.Time
		if d.waiting() {
			due = timer.C
		}
		select {
		case <-w.done:
			return
		case ev, ok := <-w.fw.Events:
			if !ok {
				return
			}
			if ev.Op == fsnotify.Chmod || w.skip(ev.Name) {
				continue
			}
			if ev.Has(fsnotify.Create) {
				if st, err := os.Stat(ev.Name); err == nil && st.IsDir() {
					_ = w.addTree(ev.Name)
				}
			}
			now := time.Now()
			d.add(ev.Name, now)
			timer.Reset(d.wait(now))
		case err, ok := <-w.fw.Errors:
			if !ok {
				return
			}
			if errors.Is(err, fsnotify.ErrEventOverflow) {
				// Events were lost: anything may have changed.
				now := time.Now()
				d.add(w.root, now)
				timer.Reset(d.wait(now))
				continue
			}
			w.mu.Lock()
			w.failure = err
			w.mu.Unlock()
			return
		case <-due:
			if wait := d.wait(time.Now()); wait > 0 {
				timer.Reset(wait)
				continue
			}
			b := d.take()
			if ready == nil {
				ready = b
			} else {
				ready.merge(b)
			}
		case out <- ready:
			ready = nil
		}
	}
}
