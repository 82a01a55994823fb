package wedge

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/wedge-run/wedge/abi"
)

// TestWasmModuleShape builds testdata/guest the way function authors
// build (GOOS=wasip1 GOARCH=wasm -buildmode=c-shared) and checks the
// module against the ABI: it imports only wedge_v1 functions, with the
// ABI's signatures, and WASI preview 1 functions; it exports memory,
// _initialize, wedge_handle and wedge_event.
func TestWasmModuleShape(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a wasm module")
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	out := filepath.Join(t.TempDir(), "guest.wasm")
	cmd := exec.Command(gobin, "build", "-buildmode=c-shared", "-o", out, "./testdata/guest")
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	bin, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	m, err := parseWasm(bin)
	if err != nil {
		t.Fatal(err)
	}

	want := map[string]string{}
	for name, c := range abiConsts(t) {
		if strings.HasPrefix(name, "Fn") {
			want[strings.Trim(c.value, `"`)] = watSignature(c.doc)
		}
	}
	seen := map[string]bool{}
	for _, im := range m.imports {
		switch im.module {
		case abi.ImportModule:
			w, ok := want[im.name]
			if !ok {
				t.Errorf("import %s.%s is not in the ABI", im.module, im.name)
			} else if im.sig != w {
				t.Errorf("import %s.%s: %s, ABI %s", im.module, im.name, im.sig, w)
			}
			seen[im.name] = true
		case abi.WASIModule:
			if !slices.Contains(wasiPreview1, im.name) {
				t.Errorf("import %s.%s is not a WASI preview 1 function", im.module, im.name)
			}
		default:
			t.Errorf("import from module %q: %s", im.module, im.name)
		}
		if im.kind != 0 {
			t.Errorf("import %s.%s is not a function", im.module, im.name)
		}
	}
	for fn := range want {
		if !seen[fn] {
			t.Errorf("testdata/guest does not import %s: it should use the whole SDK", fn)
		}
	}
	exports := map[string]byte{}
	for _, ex := range m.exports {
		exports[ex.name] = ex.kind
	}
	wantExports := map[string]byte{abi.ExportMemory: 2, abi.ExportInitialize: 0, abi.ExportHandle: 0, abi.ExportEvent: 0}
	if len(exports) != len(wantExports) {
		t.Errorf("exports %v, want %v", exports, wantExports)
	}
	for name, kind := range wantExports {
		if k, ok := exports[name]; !ok || k != kind {
			t.Errorf("export %s missing or of kind %d", name, k)
		}
	}
	var names []string
	for _, im := range m.imports {
		names = append(names, im.module+"."+im.name+im.sig)
	}
	t.Logf("%d bytes; imports:\n%s", len(bin), strings.Join(names, "\n"))
	if sig := m.exportSig(abi.ExportHandle); sig != "(i32,i32)->i32" {
		t.Errorf("wedge_handle is %s", sig)
	}
	if sig := m.exportSig(abi.ExportEvent); sig != "(i32)->i32" {
		t.Errorf("wedge_event is %s", sig)
	}
}

// wasiPreview1 lists the functions of wasi_snapshot_preview1.
var wasiPreview1 = []string{
	"args_get", "args_sizes_get", "environ_get", "environ_sizes_get",
	"clock_res_get", "clock_time_get",
	"fd_advise", "fd_allocate", "fd_close", "fd_datasync", "fd_fdstat_get",
	"fd_fdstat_set_flags", "fd_fdstat_set_rights", "fd_filestat_get",
	"fd_filestat_set_size", "fd_filestat_set_times", "fd_pread", "fd_prestat_get",
	"fd_prestat_dir_name", "fd_pwrite", "fd_read", "fd_readdir", "fd_renumber",
	"fd_seek", "fd_sync", "fd_tell", "fd_write",
	"path_create_directory", "path_filestat_get", "path_filestat_set_times",
	"path_link", "path_open", "path_readlink", "path_remove_directory",
	"path_rename", "path_symlink", "path_unlink_file",
	"poll_oneoff", "proc_exit", "proc_raise", "sched_yield", "random_get",
	"sock_accept", "sock_recv", "sock_send", "sock_shutdown",
}

// A minimal reader of the parts of a wasm binary the test needs.

type wasmImport struct {
	module, name string
	kind         byte
	sig          string
}

type wasmExport struct {
	name  string
	kind  byte
	index uint32
}

type wasmModule struct {
	types     []string
	imports   []wasmImport
	funcTypes []uint32 // type index of each defined function
	exports   []wasmExport
}

func (m *wasmModule) exportSig(name string) string {
	for _, ex := range m.exports {
		if ex.name != name || ex.kind != 0 {
			continue
		}
		idx := int(ex.index)
		if idx < len(m.imports) {
			return m.imports[idx].sig
		}
		idx -= len(m.imports)
		if idx < len(m.funcTypes) && int(m.funcTypes[idx]) < len(m.types) {
			return m.types[m.funcTypes[idx]]
		}
	}
	return ""
}

type wasmReader struct {
	b   []byte
	err error
}

var errWasm = errors.New("malformed wasm")

func (r *wasmReader) byte() byte {
	if r.err != nil || len(r.b) == 0 {
		r.err = errWasm
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *wasmReader) u32() uint32 {
	var v uint32
	for shift := 0; shift < 35; shift += 7 {
		c := r.byte()
		v |= uint32(c&0x7f) << shift
		if c&0x80 == 0 {
			return v
		}
	}
	r.err = errWasm
	return 0
}

func (r *wasmReader) bytes(n uint32) []byte {
	if r.err != nil || uint64(n) > uint64(len(r.b)) {
		r.err = errWasm
		return nil
	}
	b := r.b[:n]
	r.b = r.b[n:]
	return b
}

func (r *wasmReader) name() string { return string(r.bytes(r.u32())) }

func parseWasm(bin []byte) (*wasmModule, error) {
	if !bytes.HasPrefix(bin, []byte("\x00asm\x01\x00\x00\x00")) {
		return nil, errWasm
	}
	r := &wasmReader{b: bin[8:]}
	m := &wasmModule{}
	valType := map[byte]string{0x7f: "i32", 0x7e: "i64", 0x7d: "f32", 0x7c: "f64"}
	for len(r.b) > 0 && r.err == nil {
		id := r.byte()
		sec := &wasmReader{b: r.bytes(r.u32())}
		switch id {
		case 1: // types
			for range sec.u32() {
				if sec.byte() != 0x60 {
					return nil, errWasm
				}
				var ps, rs []string
				for range sec.u32() {
					ps = append(ps, valType[sec.byte()])
				}
				for range sec.u32() {
					rs = append(rs, valType[sec.byte()])
				}
				m.types = append(m.types, "("+strings.Join(ps, ",")+")->"+strings.Join(rs, ","))
			}
		case 2: // imports
			for range sec.u32() {
				im := wasmImport{module: sec.name(), name: sec.name(), kind: sec.byte()}
				if im.kind != 0 {
					m.imports = append(m.imports, im)
					return m, nil // the ABI allows function imports only; stop here
				}
				if ti := sec.u32(); int(ti) < len(m.types) {
					im.sig = m.types[ti]
				}
				m.imports = append(m.imports, im)
			}
		case 3: // functions
			for range sec.u32() {
				m.funcTypes = append(m.funcTypes, sec.u32())
			}
		case 7: // exports
			for range sec.u32() {
				m.exports = append(m.exports, wasmExport{name: sec.name(), kind: sec.byte(), index: sec.u32()})
			}
		}
		if sec.err != nil {
			return nil, sec.err
		}
	}
	return m, r.err
}
