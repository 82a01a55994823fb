package runtime

import (
	"encoding/binary"
	"fmt"
	"strings"
	"testing"
)

// wasiImports declares every WASI function the errno table calls.
const wasiImports = `
  (import "wasi_snapshot_preview1" "fd_advise" (func $fd_advise (param i32 i64 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_allocate" (func $fd_allocate (param i32 i64 i64) (result i32)))
  (import "wasi_snapshot_preview1" "fd_close" (func $fd_close (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_datasync" (func $fd_datasync (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_fdstat_get" (func $fd_fdstat_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_fdstat_set_flags" (func $fd_fdstat_set_flags (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_fdstat_set_rights" (func $fd_fdstat_set_rights (param i32 i64 i64) (result i32)))
  (import "wasi_snapshot_preview1" "fd_filestat_get" (func $fd_filestat_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_filestat_set_size" (func $fd_filestat_set_size (param i32 i64) (result i32)))
  (import "wasi_snapshot_preview1" "fd_filestat_set_times" (func $fd_filestat_set_times (param i32 i64 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_pread" (func $fd_pread (param i32 i32 i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_prestat_get" (func $fd_prestat_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_prestat_dir_name" (func $fd_prestat_dir_name (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_pwrite" (func $fd_pwrite (param i32 i32 i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_readdir" (func $fd_readdir (param i32 i32 i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_renumber" (func $fd_renumber (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_seek" (func $fd_seek (param i32 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_sync" (func $fd_sync (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_tell" (func $fd_tell (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_create_directory" (func $path_create_directory (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_filestat_get" (func $path_filestat_get (param i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_filestat_set_times" (func $path_filestat_set_times (param i32 i32 i32 i32 i64 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_link" (func $path_link (param i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_open" (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_readlink" (func $path_readlink (param i32 i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_remove_directory" (func $path_remove_directory (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_rename" (func $path_rename (param i32 i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_symlink" (func $path_symlink (param i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_unlink_file" (func $path_unlink_file (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll_oneoff (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_raise" (func $proc_raise (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "sched_yield" (func $sched_yield (result i32)))
  (import "wasi_snapshot_preview1" "sock_accept" (func $sock_accept (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "sock_recv" (func $sock_recv (param i32 i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "sock_send" (func $sock_send (param i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "sock_shutdown" (func $sock_shutdown (param i32 i32) (result i32)))
  (import "wedge_v1" "request_body" (func $body (param i32 i32) (result i32)))
  (import "wedge_v1" "response_write" (func $respond (param i32 i32) (result i32)))`

// Memory of the errno guest: 0 the case number (the request body), 16
// the result, 64 a valid iovec of "ok\n" (at 128), 96 an out-parameter,
// 256 the path "x", 512 a poll subscription, 1024 a poll event, 2048 a
// scratch buffer.
const wasiMemory = `
  (memory (export "memory") 1)
  (data (i32.const 64) "\80\00\00\00\03\00\00\00")
  (data (i32.const 128) "ok\0a")
  (data (i32.const 256) "x")`

// Arguments used below: @iov is (iovs=64, n=1), @bad one fd never opened.
var wasiArgs = strings.NewReplacer(
	"@iov", "(i32.const 64) (i32.const 1)",
	"@out", "(i32.const 96)",
	"@path", "(i32.const 256) (i32.const 1)",
	"@buf", "(i32.const 2048)",
	"@bad", "(i32.const 7)",
	"@in", "(i32.const 0)",
	"@so", "(i32.const 1)",
	"@se", "(i32.const 2)",
)

// pollOn writes one fd subscription (type typ on fd) at 512, polls it,
// and leaves the event's error field.
func pollOn(typ, fd int) string {
	return fmt.Sprintf(`(i64.store (i32.const 512) (i64.const 42))
	  (i32.store8 (i32.const 520) (i32.const %d))
	  (i32.store (i32.const 528) (i32.const %d))
	  (drop (call $poll_oneoff (i32.const 512) (i32.const 1024) (i32.const 1) @out))
	  (i32.load16_u (i32.const 1032))`, typ, fd)
}

// TestWASIErrnos runs each row in a fresh instance of a WAT guest on the
// real runtime and checks the errno it gets: bad descriptors are EBADF,
// stdio is a non-seekable stream that is neither a directory nor a
// socket, and nothing else exists (wasi-testsuite's sock_shutdown-*
// expect EBADF and ENOTSOCK; the rest follows POSIX for a pipe and
// wasmtime's preview 1 where POSIX is silent).
func TestWASIErrnos(t *testing.T) {
	cases := []struct {
		name string
		expr string // WAT leaving the i32 to check
		want int32
	}{
		// Sockets: none exists; stdio is not one.
		{"sock_shutdown bad fd", `(call $sock_shutdown (i32.const 3) (i32.const 1))`, errnoBadf},
		{"sock_shutdown stdout", `(call $sock_shutdown @so (i32.const 1))`, errnoNotsock},
		{"sock_shutdown stdin", `(call $sock_shutdown @in (i32.const 3))`, errnoNotsock},
		{"sock_accept bad fd", `(call $sock_accept @bad (i32.const 0) @out)`, errnoBadf},
		{"sock_accept stdin", `(call $sock_accept @in (i32.const 0) @out)`, errnoNotsock},
		{"sock_recv bad fd", `(call $sock_recv @bad @iov (i32.const 0) @out (i32.const 100))`, errnoBadf},
		{"sock_recv stdin", `(call $sock_recv @in @iov (i32.const 0) @out (i32.const 100))`, errnoNotsock},
		{"sock_send bad fd", `(call $sock_send @bad @iov (i32.const 0) @out)`, errnoBadf},
		{"sock_send stdout", `(call $sock_send @so @iov (i32.const 0) @out)`, errnoNotsock},
		// Descriptor calls.
		{"fd_advise bad fd", `(call $fd_advise @bad (i64.const 0) (i64.const 0) (i32.const 0))`, errnoBadf},
		{"fd_advise stdout", `(call $fd_advise @so (i64.const 0) (i64.const 0) (i32.const 0))`, errnoSpipe},
		{"fd_allocate bad fd", `(call $fd_allocate @bad (i64.const 0) (i64.const 1))`, errnoBadf},
		{"fd_allocate stdout", `(call $fd_allocate @so (i64.const 0) (i64.const 1))`, errnoSpipe},
		{"fd_close bad fd", `(call $fd_close @bad)`, errnoBadf},
		{"fd_close stdout", `(call $fd_close @so)`, errnoSuccess},
		{"fd_close twice", `(drop (call $fd_close @se)) (call $fd_close @se)`, errnoBadf},
		{"fd_write after close", `(drop (call $fd_close @so)) (call $fd_write @so @iov @out)`, errnoBadf},
		{"fd_fdstat_get after close", `(drop (call $fd_close @in)) (call $fd_fdstat_get @in @buf)`, errnoBadf},
		{"fd_datasync bad fd", `(call $fd_datasync @bad)`, errnoBadf},
		{"fd_datasync stdout", `(call $fd_datasync @so)`, errnoInval},
		{"fd_sync bad fd", `(call $fd_sync @bad)`, errnoBadf},
		{"fd_sync stderr", `(call $fd_sync @se)`, errnoInval},
		{"fd_fdstat_get bad fd", `(call $fd_fdstat_get @bad @buf)`, errnoBadf},
		{"fd_fdstat_get stdout", `(call $fd_fdstat_get @so @buf)`, errnoSuccess},
		{"fd_fdstat_set_flags bad fd", `(call $fd_fdstat_set_flags @bad (i32.const 4))`, errnoBadf},
		{"fd_fdstat_set_flags stdout nonblock", `(call $fd_fdstat_set_flags @so (i32.const 4))`, errnoSuccess},
		{"fd_fdstat_set_flags stdout sync", `(call $fd_fdstat_set_flags @so (i32.const 16))`, errnoInval},
		{"fd_fdstat_set_rights bad fd", `(call $fd_fdstat_set_rights @bad (i64.const 0) (i64.const 0))`, errnoBadf},
		{"fd_fdstat_set_rights drop", `(call $fd_fdstat_set_rights @so (i64.const 64) (i64.const 0))`, errnoSuccess},
		{"fd_fdstat_set_rights add", `(call $fd_fdstat_set_rights @so (i64.const 0x100000000000) (i64.const 0))`, errnoNotcapable},
		{"fd_filestat_get bad fd", `(call $fd_filestat_get @bad @buf)`, errnoBadf},
		{"fd_filestat_get stdin", `(call $fd_filestat_get @in @buf)`, errnoSuccess},
		{"fd_filestat_set_size bad fd", `(call $fd_filestat_set_size @bad (i64.const 0))`, errnoBadf},
		{"fd_filestat_set_size stdout", `(call $fd_filestat_set_size @so (i64.const 0))`, errnoInval},
		{"fd_filestat_set_times bad fd", `(call $fd_filestat_set_times @bad (i64.const 0) (i64.const 0) (i32.const 2))`, errnoBadf},
		{"fd_filestat_set_times stdout", `(call $fd_filestat_set_times @so (i64.const 0) (i64.const 0) (i32.const 10))`, errnoSuccess},
		{"fd_filestat_set_times atim and now", `(call $fd_filestat_set_times @so (i64.const 0) (i64.const 0) (i32.const 3))`, errnoInval},
		{"fd_filestat_set_times unknown flag", `(call $fd_filestat_set_times @so (i64.const 0) (i64.const 0) (i32.const 16))`, errnoInval},
		{"fd_pread bad fd", `(call $fd_pread @bad @iov (i64.const 0) @out)`, errnoBadf},
		{"fd_pread stdin", `(call $fd_pread @in @iov (i64.const 0) @out)`, errnoSpipe},
		{"fd_pwrite bad fd", `(call $fd_pwrite @bad @iov (i64.const 0) @out)`, errnoBadf},
		{"fd_pwrite stdout", `(call $fd_pwrite @so @iov (i64.const 0) @out)`, errnoSpipe},
		{"fd_prestat_get first non-stdio", `(call $fd_prestat_get (i32.const 3) @buf)`, errnoBadf},
		{"fd_prestat_get stdin", `(call $fd_prestat_get @in @buf)`, errnoBadf},
		{"fd_prestat_dir_name bad fd", `(call $fd_prestat_dir_name (i32.const 3) @buf (i32.const 16))`, errnoBadf},
		{"fd_prestat_dir_name stdin", `(call $fd_prestat_dir_name @in @buf (i32.const 16))`, errnoNotdir},
		{"fd_read bad fd", `(call $fd_read @bad @iov @out)`, errnoBadf},
		{"fd_read stdout", `(call $fd_read @so @iov @out)`, errnoBadf},
		{"fd_read stdin", `(call $fd_read @in @iov @out)`, errnoSuccess},
		{"fd_readdir bad fd", `(call $fd_readdir @bad @buf (i32.const 64) (i64.const 0) @out)`, errnoBadf},
		{"fd_readdir stdin", `(call $fd_readdir @in @buf (i32.const 64) (i64.const 0) @out)`, errnoNotdir},
		{"fd_seek bad fd", `(call $fd_seek @bad (i64.const 0) (i32.const 0) @out)`, errnoBadf},
		{"fd_seek stdout", `(call $fd_seek @so (i64.const 0) (i32.const 0) @out)`, errnoSpipe},
		{"fd_tell bad fd", `(call $fd_tell @bad @out)`, errnoBadf},
		{"fd_tell stdin", `(call $fd_tell @in @out)`, errnoSpipe},
		{"fd_write bad fd", `(call $fd_write @bad @iov @out)`, errnoBadf},
		{"fd_write stdin", `(call $fd_write @in @iov @out)`, errnoBadf},
		{"fd_write stdout", `(call $fd_write @so @iov @out)`, errnoSuccess},
		{"fd_write iovec out of bounds", `(call $fd_write @so (i32.const 0xfffff0) (i32.const 1) @out)`, errnoFault},
		{"fd_write buffer out of bounds", `(i32.store (i32.const 64) (i32.const 0xfffff)) (call $fd_write @so @iov @out)`, errnoFault},
		// fd_renumber: both must be open; from is closed afterwards.
		{"fd_renumber bad from", `(call $fd_renumber @bad @so)`, errnoBadf},
		{"fd_renumber bad to", `(call $fd_renumber @so @bad)`, errnoBadf},
		{"fd_renumber stdio", `(call $fd_renumber @se @so)`, errnoSuccess},
		{"fd_renumber closes from", `(drop (call $fd_renumber @se @so)) (call $fd_write @se @iov @out)`, errnoBadf},
		{"fd_renumber moves the stream", `(drop (call $fd_renumber @so @in)) (call $fd_write @in @iov @out)`, errnoSuccess},
		{"fd_renumber onto a closed fd", `(drop (call $fd_close @se)) (call $fd_renumber @so @se)`, errnoBadf},
		{"fd_renumber onto itself", `(drop (call $fd_renumber @so @so)) (call $fd_write @so @iov @out)`, errnoSuccess},
		// Paths: no directory fd exists; stdio is not a directory.
		{"path_open bad fd", `(call $path_open (i32.const 3) (i32.const 0) @path (i32.const 0) (i64.const 0) (i64.const 0) (i32.const 0) @out)`, errnoBadf},
		{"path_open stdin", `(call $path_open @in (i32.const 0) @path (i32.const 0) (i64.const 0) (i64.const 0) (i32.const 0) @out)`, errnoNotdir},
		{"path_create_directory bad fd", `(call $path_create_directory (i32.const 3) @path)`, errnoBadf},
		{"path_create_directory stdout", `(call $path_create_directory @so @path)`, errnoNotdir},
		{"path_filestat_get bad fd", `(call $path_filestat_get (i32.const 3) (i32.const 0) @path @buf)`, errnoBadf},
		{"path_filestat_get stdout", `(call $path_filestat_get @so (i32.const 0) @path @buf)`, errnoNotdir},
		{"path_filestat_set_times bad fd", `(call $path_filestat_set_times (i32.const 3) (i32.const 0) @path (i64.const 0) (i64.const 0) (i32.const 0))`, errnoBadf},
		{"path_filestat_set_times stdout", `(call $path_filestat_set_times @so (i32.const 0) @path (i64.const 0) (i64.const 0) (i32.const 0))`, errnoNotdir},
		{"path_link bad old fd", `(call $path_link (i32.const 3) (i32.const 0) @path @so @path)`, errnoBadf},
		{"path_link bad new fd", `(call $path_link @so (i32.const 0) @path (i32.const 3) @path)`, errnoBadf},
		{"path_link stdio", `(call $path_link @so (i32.const 0) @path @se @path)`, errnoNotdir},
		{"path_readlink bad fd", `(call $path_readlink (i32.const 3) @path @buf (i32.const 16) @out)`, errnoBadf},
		{"path_readlink stdin", `(call $path_readlink @in @path @buf (i32.const 16) @out)`, errnoNotdir},
		{"path_remove_directory bad fd", `(call $path_remove_directory (i32.const 3) @path)`, errnoBadf},
		{"path_remove_directory stdin", `(call $path_remove_directory @in @path)`, errnoNotdir},
		{"path_rename bad old fd", `(call $path_rename (i32.const 3) @path @so @path)`, errnoBadf},
		{"path_rename bad new fd", `(call $path_rename @so @path (i32.const 3) @path)`, errnoBadf},
		{"path_rename stdio", `(call $path_rename @so @path @se @path)`, errnoNotdir},
		{"path_symlink bad fd", `(call $path_symlink @path (i32.const 3) @path)`, errnoBadf},
		{"path_symlink stdout", `(call $path_symlink @path @so @path)`, errnoNotdir},
		{"path_unlink_file bad fd", `(call $path_unlink_file (i32.const 3) @path)`, errnoBadf},
		{"path_unlink_file stdout", `(call $path_unlink_file @so @path)`, errnoNotdir},
		// poll_oneoff: the event of a subscription on a descriptor that is
		// not open in that direction carries EBADF.
		{"poll_oneoff read bad fd", pollOn(1, 7), errnoBadf},
		{"poll_oneoff read stdout", pollOn(1, 1), errnoBadf},
		{"poll_oneoff read stdin", pollOn(1, 0), errnoSuccess},
		{"poll_oneoff write stderr", pollOn(2, 2), errnoSuccess},
		{"poll_oneoff unknown type", `(i32.store8 (i32.const 520) (i32.const 9)) (call $poll_oneoff (i32.const 512) (i32.const 1024) (i32.const 1) @out)`, errnoInval},
		{"proc_raise", `(call $proc_raise (i32.const 6))`, errnoNotsup},
		{"sched_yield", `(call $sched_yield)`, errnoSuccess},
	}
	var dispatch strings.Builder
	for i, tc := range cases {
		fmt.Fprintf(&dispatch, "    (if (i32.eq (local.get $case) (i32.const %d)) (then (i32.store (i32.const 16) (block (result i32) %s)) (br $done)))\n",
			i, wasiArgs.Replace(tc.expr))
	}
	src := "(module" + wasiImports + wasiMemory + `
  (func (export "wedge_handle") (param i32 i32) (result i32) (local $case i32)
    (drop (call $body (i32.const 0) (i32.const 4)))
    (local.set $case (i32.load (i32.const 0)))
    (block $done
` + dispatch.String() + `    (unreachable))
    (drop (call $respond (i32.const 16) (i32.const 4)))
    (i32.const 0)))`
	e := newEngine(t)
	m := compile(t, e, wat(t, src))
	env := NewEnv("wasi", nil, Limits{})
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := invoke(t, m, env, nil, binary.LittleEndian.AppendUint32(nil, uint32(i)))
			defer c.Release()
			if err != nil {
				t.Fatal(err)
			}
			if len(c.Output) != 4 {
				t.Fatalf("output %q", c.Output)
			}
			if got := int32(binary.LittleEndian.Uint32(c.Output)); got != tc.want {
				t.Fatalf("%s: errno %s (%d), want %s (%d)", tc.name, errnoName(got), got, errnoName(tc.want), tc.want)
			}
		})
	}
}
