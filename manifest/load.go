package manifest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Load reads and validates a manifest. path is the file, or a directory
// holding a wedge.toml. Module files are not read and need not exist
// yet (see Check); build commands are not run (see BuildCommand).
// Validation problems come back as an *ErrorList; a file that cannot be
// read as an ordinary error.
func Load(path string) (*App, error) {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		path = filepath.Join(path, FileName)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("manifest: reading %s: %w", path, err)
	}
	app, err := Parse(path, data)
	if err != nil {
		return nil, err
	}
	if app.Dir, err = filepath.Abs(filepath.Dir(path)); err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	return app, nil
}

// Parse validates the manifest data. file names it in errors, and its
// directory becomes App.Dir (as given, not made absolute). It returns
// every problem found, as an *ErrorList.
func Parse(file string, data []byte) (*App, error) {
	c := &errs{file: file}
	if len(data) > MaxFileSize {
		c.list = append(c.list, &Error{File: file, Msg: fmt.Sprintf("larger than %d bytes", MaxFileSize), Err: ErrInvalid})
		return nil, c.result()
	}
	ps, serr := index(data)
	if serr != nil {
		c.list = append(c.list, &Error{File: file, Line: serr.line, Msg: "syntax error: " + serr.msg, Err: errors.Join(ErrInvalid, ErrSyntax)})
		return nil, c.result()
	}
	if len(ps.spans) > MaxFields {
		c.list = append(c.list, &Error{File: file, Msg: fmt.Sprintf("more than %d keys and values", MaxFields), Err: ErrInvalid})
		return nil, c.result()
	}
	c.pos = ps
	raw, ok := decodeTOML(data, ps, c)
	if !ok {
		return nil, c.result()
	}
	v := &validator{c: c}
	app := v.app(raw)
	if err := c.result(); err != nil {
		return nil, err
	}
	app.File, app.Dir, app.pos = file, filepath.Dir(file), ps
	return app, nil
}

// ModulePath is the path of f's module file.
func (a *App) ModulePath(f *Function) string {
	return filepath.Join(a.Dir, filepath.FromSlash(f.Module))
}

// BuildCommand returns the command that builds f's module: f.Build run by
// "sh -c" in the manifest's directory, with the deployer's environment.
// It returns nil when f has no build command. The caller runs it (and
// sets Stdout and Stderr).
func (a *App) BuildCommand(ctx context.Context, f *Function) *exec.Cmd {
	if f.Build == "" {
		return nil
	}
	cmd := exec.CommandContext(ctx, "sh", "-c", f.Build)
	cmd.Dir = a.Dir
	return cmd
}

// wasmMagic starts every WebAssembly binary.
var wasmMagic = []byte("\x00asm")

// Check verifies that every module file lies inside the manifest's
// directory (symbolic links resolved), exists, is a regular file and
// starts like a WebAssembly binary. Run it after the builds. Problems are
// *Errors wrapping ErrModule, located at each function's module field.
func (a *App) Check() error {
	c := &errs{file: a.File, pos: a.pos}
	for i := range a.Functions {
		f := &a.Functions[i]
		p := path{}.key("functions").key(f.Name).key("module")
		msg := a.checkInside(f)
		if msg == "" {
			msg = checkModuleFile(a.ModulePath(f))
		}
		if msg != "" {
			c.add(p, ErrModule, nil, msg)
		}
	}
	return c.result()
}

// checkInside refuses a module file that resolves, through symbolic
// links, to a place outside the manifest's directory (Parse already
// refuses a path that leaves it by its "..": this is the same rule on the
// file system). A path that does not resolve is left to checkModuleFile.
func (a *App) checkInside(f *Function) string {
	dir, err := filepath.EvalSymlinks(a.Dir)
	if err != nil {
		return ""
	}
	if dir, err = filepath.Abs(dir); err != nil {
		return ""
	}
	file, err := filepath.EvalSymlinks(a.ModulePath(f))
	if err != nil {
		return ""
	}
	if file, err = filepath.Abs(file); err != nil {
		return ""
	}
	rel, err := filepath.Rel(dir, file)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || filepath.IsAbs(rel) {
		return fmt.Sprintf("module file %s resolves to %s, outside the manifest's directory", a.ModulePath(f), file)
	}
	return ""
}

func checkModuleFile(name string) string {
	fh, err := os.Open(name)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Sprintf("module file %s does not exist (is there a build step to run first?)", name)
		}
		return err.Error()
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return err.Error()
	}
	if !st.Mode().IsRegular() {
		return fmt.Sprintf("module file %s is not a regular file", name)
	}
	if IsScript(name) {
		return "" // JavaScript: the node reports a script that does not load
	}
	head := make([]byte, len(wasmMagic))
	if _, err := io.ReadFull(fh, head); err != nil || !bytes.Equal(head, wasmMagic) {
		return fmt.Sprintf("module file %s is not a WebAssembly binary (no \\0asm header)", name)
	}
	return ""
}

// IsScript reports whether a module path names a JavaScript module
// (.js or .mjs), deployed on wedge's JavaScript engine, rather than a
// WebAssembly module.
func IsScript(module string) bool {
	return strings.HasSuffix(module, ".js") || strings.HasSuffix(module, ".mjs")
}
