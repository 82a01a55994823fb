package wedge

import (
	"io"

	"github.com/wedge-run/wedge/abi"
)

// objectChunk is how much an object reader asks the host for at a time
// when the caller's buffer is smaller.
const objectChunk = 64 << 10

// Open returns a reader of the uploaded object's content, fetched from the
// host in chunks as it is read (see OpenObject).
func (u Upload) Open() io.Reader { return OpenObject(u.Bucket, u.Object) }

// ReadAll reads the uploaded object's whole content into memory, which
// the function's memory limit bounds: prefer Open for large objects.
func (u Upload) ReadAll() ([]byte, error) {
	return readObject(u.Bucket, u.Object, u.Size)
}

// OpenObject returns a reader of an object in bucket, fetched from the
// host through object_read: up to 64 KiB per host call for small reads,
// straight into the caller's buffer for reads of 64 KiB or more. The
// reader also implements io.WriterTo, so io.Copy needs no buffer of its
// own.
//
// A function may read the buckets it has an upload trigger on or a grant
// for; others fail with ErrDenied, and a missing object with ErrNotFound
// (reported by the first Read). An object replaced while it is being read
// may yield a mix of both versions: compare with Upload.SHA256 if that
// matters.
func OpenObject(bucket, object string) io.Reader {
	return &objectReader{h: sys, bucket: bucket, name: object}
}

type objectReader struct {
	h            host
	bucket, name string
	off          int64  // the object offset of the next host read
	buf          []byte // a chunk read ahead, buf[r:w] not yet consumed
	r, w         int
	err          error // sticky: io.EOF or a host error
}

// fill reads the next bytes of the object into dst (len(dst) > 0).
func (o *objectReader) fill(dst []byte) (int, error) {
	if o.err != nil {
		return 0, o.err
	}
	n := o.h.objectRead(o.bucket, o.name, o.off, dst)
	switch {
	case n < 0:
		o.err = opError("object read", o.bucket+"/"+o.name, n)
		return 0, o.err
	case n == 0:
		o.err = io.EOF
		return 0, o.err
	case n > int64(len(dst)):
		o.err = localError("object read", o.bucket+"/"+o.name, abi.ErrInternal) // a host bug
		return 0, o.err
	}
	o.off += n
	return int(n), nil
}

func (o *objectReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if o.r < o.w {
		n := copy(p, o.buf[o.r:o.w])
		o.r += n
		return n, nil
	}
	if len(p) >= objectChunk {
		return o.fill(p)
	}
	if o.buf == nil {
		o.buf = make([]byte, objectChunk)
	}
	n, err := o.fill(o.buf)
	if err != nil {
		return 0, err
	}
	o.r, o.w = copy(p, o.buf[:n]), n
	return o.r, nil
}

// WriteTo copies the rest of the object to w.
func (o *objectReader) WriteTo(w io.Writer) (int64, error) {
	var total int64
	if o.buf == nil {
		o.buf = make([]byte, objectChunk)
	}
	for {
		if o.r < o.w {
			n, err := w.Write(o.buf[o.r:o.w])
			o.r += n
			total += int64(n)
			if err != nil {
				return total, err
			}
			if o.r < o.w {
				return total, io.ErrShortWrite
			}
		}
		n, err := o.fill(o.buf)
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
		o.r, o.w = 0, n
	}
}

// readObject reads a whole object; sizeHint (its size as announced) saves
// reallocations, and one spare byte lets the final call see the end
// without growing the buffer.
func readObject(bucket, name string, sizeHint int64) ([]byte, error) {
	const maxHint = 64 << 20
	hint := min(max(sizeHint, 0), maxHint) + 1
	buf := make([]byte, 0, hint)
	o := &objectReader{h: sys, bucket: bucket, name: name}
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := o.fill(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return nil, err
		}
	}
}
