package wedge

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"math/rand/v2"
	"strconv"
	"testing"
	"testing/iotest"

	"github.com/wedge-run/wedge/abi"
)

func randomBytes(n int) []byte {
	r := rand.New(rand.NewPCG(uint64(n), 7))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// checkContiguous verifies that the host was asked for the object in
// order, each read starting where the previous one ended.
func checkContiguous(t *testing.T, f *fakeHost, size int) {
	t.Helper()
	var off int64
	for i, r := range f.objectReads {
		if r.offset != off {
			t.Fatalf("read %d at offset %d, want %d (reads %+v)", i, r.offset, off, f.objectReads)
		}
		if r.cap <= 0 {
			t.Fatalf("read %d with cap %d", i, r.cap)
		}
		n := int64(min(r.cap, size-int(off)))
		if f.readLimit > 0 {
			n = min(n, int64(f.readLimit))
		}
		off += n
	}
	if off != int64(size) {
		t.Fatalf("reads end at %d, want %d", off, size)
	}
	if last := f.objectReads[len(f.objectReads)-1]; last.offset != int64(size) {
		t.Fatalf("the last read (at %d) did not find the end (%d)", last.offset, size)
	}
}

func TestObjectReadingAcrossChunks(t *testing.T) {
	sizes := []int{0, 1, objectChunk - 1, objectChunk, objectChunk + 1, 3*objectChunk + 12345}
	limits := []int{0, 1000, objectChunk - 1, 7}
	readers := map[string]func(u Upload) ([]byte, error){
		"ReadAll": func(u Upload) ([]byte, error) { return u.ReadAll() },
		"io.ReadAll(Open)": func(u Upload) ([]byte, error) {
			return io.ReadAll(u.Open())
		},
		"one byte at a time": func(u Upload) ([]byte, error) {
			return io.ReadAll(iotest.OneByteReader(u.Open()))
		},
		"half chunks": func(u Upload) ([]byte, error) {
			var out []byte
			r := u.Open()
			buf := make([]byte, objectChunk/2+3)
			for {
				n, err := r.Read(buf)
				out = append(out, buf[:n]...)
				if err == io.EOF {
					return out, nil
				}
				if err != nil {
					return out, err
				}
			}
		},
		"large reads": func(u Upload) ([]byte, error) {
			var out []byte
			r := u.Open()
			buf := make([]byte, 2*objectChunk+1)
			for {
				n, err := r.Read(buf)
				out = append(out, buf[:n]...)
				if err == io.EOF {
					return out, nil
				}
				if err != nil {
					return out, err
				}
			}
		},
		"io.Copy (WriterTo)": func(u Upload) ([]byte, error) {
			var b bytes.Buffer
			_, err := io.Copy(&b, u.Open())
			return b.Bytes(), err
		},
		"ReadAll with a wrong size": func(u Upload) ([]byte, error) {
			u.Size = u.Size/2 + 1
			return u.ReadAll()
		},
	}
	for _, size := range sizes {
		content := randomBytes(size)
		for _, limit := range limits {
			if limit == 7 && size > objectChunk+1 {
				continue // too many host calls to be worth it
			}
			for name, read := range readers {
				f := newFake()
				f.install(t)
				f.readLimit = limit
				f.objects["b/o"] = content
				u := Upload{Bucket: "b", Object: "o", Size: int64(size)}
				got, err := read(u)
				if err != nil || !bytes.Equal(got, content) {
					t.Errorf("size %d, limit %d, %s: %d bytes (equal %v), %v",
						size, limit, name, len(got), bytes.Equal(got, content), err)
					continue
				}
				checkContiguous(t, f, size)
			}
		}
	}
}

func TestObjectReaderSemantics(t *testing.T) {
	content := randomBytes(2*objectChunk + 99)
	for _, limit := range []int{0, 4096} {
		f := newFake()
		f.install(t)
		f.readLimit = limit
		f.objects["b/o"] = content
		if err := iotest.TestReader(OpenObject("b", "o"), content); err != nil {
			t.Errorf("limit %d: %v", limit, err)
		}
	}
}

func TestObjectReadCallsAreChunked(t *testing.T) {
	f := newFake()
	f.install(t)
	content := randomBytes(5*objectChunk + 1)
	f.objects["b/o"] = content
	h := sha256.New()
	n, err := io.Copy(h, OpenObject("b", "o"))
	if err != nil || n != int64(len(content)) {
		t.Fatalf("Copy = %d, %v", n, err)
	}
	if sha256.Sum256(content) != [32]byte(h.Sum(nil)) {
		t.Error("hash differs")
	}
	// 6 chunks of 64 KiB (the last one short) and one that finds the end.
	if len(f.objectReads) != 7 {
		t.Errorf("%d object_read calls: %+v", len(f.objectReads), f.objectReads)
	}
	for _, r := range f.objectReads {
		if r.cap != objectChunk {
			t.Errorf("a read of %d bytes", r.cap)
		}
	}

	// Small reads are served from the chunk: 1000 reads of 100 bytes
	// cost two host calls.
	f.objectReads = nil
	r := OpenObject("b", "o")
	buf := make([]byte, 100)
	for range 1000 {
		if _, err := io.ReadFull(r, buf); err != nil {
			t.Fatal(err)
		}
	}
	if len(f.objectReads) != 2 {
		t.Errorf("%d object_read calls for 100 KB in small reads", len(f.objectReads))
	}
}

func TestObjectReadErrors(t *testing.T) {
	f := newFake()
	f.install(t)
	f.objects["b/o"] = []byte("data")
	f.deniedBuckets["secret"] = true
	cases := []struct {
		bucket, name string
		want         error
	}{
		{"b", "missing", ErrNotFound},
		{"secret", "o", ErrDenied},
	}
	for _, c := range cases {
		r := OpenObject(c.bucket, c.name)
		n, err := r.Read(make([]byte, 10))
		var oe *OpError
		if n != 0 || !errors.Is(err, c.want) || !errors.As(err, &oe) || oe.Op != "object read" || oe.Key != c.bucket+"/"+c.name {
			t.Errorf("%s/%s: Read = %d, %v", c.bucket, c.name, n, err)
		}
		calls := len(f.objectReads)
		if _, err2 := r.Read(make([]byte, 10)); err2 != err || len(f.objectReads) != calls {
			t.Errorf("%s/%s: the error is not sticky: %v", c.bucket, c.name, err2)
		}
		if _, err := (Upload{Bucket: c.bucket, Object: c.name, Size: 4}).ReadAll(); !errors.Is(err, c.want) {
			t.Errorf("%s/%s: ReadAll: %v", c.bucket, c.name, err)
		}
		if _, err := io.Copy(io.Discard, OpenObject(c.bucket, c.name)); !errors.Is(err, c.want) {
			t.Errorf("%s/%s: Copy: %v", c.bucket, c.name, err)
		}
	}
	// A host error in the middle of an object.
	f.readLimit = 2
	r := OpenObject("b", "o")
	buf := make([]byte, 2)
	if n, err := r.Read(buf); n != 2 || err != nil {
		t.Fatalf("Read = %d, %v", n, err)
	}
	f.failWith[abi.FnObjectRead] = abi.ErrInternal
	if _, err := io.ReadAll(r); !errors.Is(err, ErrInternal) {
		t.Errorf("a failing host: %v", err)
	}
	// Zero-length reads do not call the host.
	delete(f.failWith, abi.FnObjectRead)
	calls := len(f.objectReads)
	if n, err := OpenObject("b", "o").Read(nil); n != 0 || err != nil || len(f.objectReads) != calls {
		t.Errorf("Read(nil) = %d, %v", n, err)
	}
}

// overReader is a host that claims to have copied more than it was asked.
type overReader struct{ *fakeHost }

func (overReader) objectRead(bucket, name string, offset int64, buf []byte) int64 {
	return int64(len(buf)) + 1
}

func TestObjectReadHostBug(t *testing.T) {
	f := overReader{newFake()}
	old := sys
	sys = f
	t.Cleanup(func() { sys = old })
	if _, err := io.ReadAll(OpenObject("b", "o")); !errors.Is(err, ErrInternal) {
		t.Errorf("a host returning more than cap: %v", err)
	}
}

func TestPublish(t *testing.T) {
	f := newFake()
	f.install(t)
	if err := Publish("orders", []byte("one")); err != nil {
		t.Fatal(err)
	}
	if err := Publish("orders.v2_x-y", nil); err != nil {
		t.Fatal(err)
	}
	if len(f.published) != 2 || f.published[0].queue != "orders" || string(f.published[0].body) != "one" ||
		f.published[1].queue != "orders.v2_x-y" || len(f.published[1].body) != 0 {
		t.Errorf("published %+v", f.published)
	}
	// The largest body goes to the host; one byte more is refused before.
	if err := Publish("big", make([]byte, abi.MaxValueLen)); err != nil {
		t.Errorf("a 1 MiB body: %v", err)
	}
	calls := f.callsOf(abi.FnQueuePublish)
	err := Publish("big", make([]byte, abi.MaxValueLen+1))
	var oe *OpError
	if !errors.Is(err, ErrTooLarge) || !errors.As(err, &oe) || oe.Op != "queue publish" || oe.Key != "big" ||
		f.callsOf(abi.FnQueuePublish) != calls {
		t.Errorf("an oversized body: %v", err)
	}
	if err := Publish("bad name!", nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("an invalid queue: %v", err)
	}
	if err := Publish("", nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("an empty queue name: %v", err)
	}
	for _, c := range []abi.Code{abi.ErrInternal, abi.ErrBusy, abi.ErrUnsupported, abi.ErrDenied} {
		f.failWith[abi.FnQueuePublish] = c
		err := Publish("orders", []byte("x"))
		if !errors.As(err, &oe) || oe.Code != int32(c) || err.Error() != `wedge: queue publish "orders": `+c.String() {
			t.Errorf("code %d: %v", c, err)
		}
	}
	f.failWith[abi.FnQueuePublish] = 42 // a code from a newer host
	if err := Publish("orders", nil); !errors.As(err, &oe) || oe.Err != nil || oe.Code != 42 ||
		err.Error() != `wedge: queue publish "orders": host error `+strconv.Itoa(42) {
		t.Errorf("an unknown code: %v", err)
	}
}
