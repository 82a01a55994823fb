package gateway

import (
	"bytes"
	"errors"
	"net"
)

// fasthttp ends a request head only at CRLFCRLF (a bare-LF blank line
// counts only when a CRLFCRLF follows, so that a peer which frames on
// CRLF alone cannot be made to read the stream differently). A head whose
// lines end in bare LF therefore never ends: fasthttp waits for more bytes
// until the read timeout (30 s on the public server, 60 s on the admin
// one), and a client is left hanging before its 400.
//
// headGuard watches the first bytes of each request on a connection. When
// what it has seen is a request line followed by a bare-LF blank line and
// no CRLFCRLF, fasthttp is waiting for a terminator that will not come:
// the next read fails with errBareLF at once, and fasthttp answers it
// through the server's ErrorHandler (400) and closes the connection. It
// changes no byte, so what fasthttp accepts is exactly what it accepted.

// errBareLF is the read error of a connection whose request head ended
// with a bare LF.
var errBareLF = errors.New("request head lines end in a bare LF; HTTP requires CRLF")

// headGuardLimit bounds what a connection keeps of an unfinished head; a
// longer one is left to fasthttp's own limits.
const headGuardLimit = 8 << 10

type headGuardListener struct{ net.Listener }

func (l headGuardListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &headGuardConn{Conn: c}, nil
}

type headState uint8

const (
	headWatching headState = iota // reading a new request's head
	headDone                      // the head is complete, or not ours to judge
	headStuck                     // a bare-LF head fasthttp would wait on
)

// headGuardConn is used by one fasthttp connection goroutine at a time
// (reads and writes alternate on it), so its state needs no lock.
type headGuardConn struct {
	net.Conn
	state headState
	head  []byte // an unfinished head seen so far (empty when it came in one read)
}

func (c *headGuardConn) Read(p []byte) (int, error) {
	if c.state == headStuck {
		return 0, errBareLF
	}
	n, err := c.Conn.Read(p)
	if n > 0 && c.state == headWatching {
		c.observe(p[:n])
	}
	return n, err
}

// Write starts a new watch: fasthttp writes a response only after reading
// the whole request, so the next bytes read begin the next request's head
// (or, rarely, belong to a pipelined request already buffered, whose
// remainder then does not start with a request line and is left alone).
// The exception is "100 Continue", written between a head and its body.
func (c *headGuardConn) Write(p []byte) (int, error) {
	if !bytes.HasPrefix(p, continue100) {
		c.state = headWatching
		c.head = c.head[:0]
	}
	return c.Conn.Write(p)
}

var continue100 = []byte("HTTP/1.1 100 ")

func (c *headGuardConn) observe(b []byte) {
	data := b
	if len(c.head) > 0 {
		c.head = append(c.head, b[:min(len(b), headGuardLimit-len(c.head))]...)
		data = c.head
	}
	switch st := classifyHead(data); {
	case st != headWatching:
		c.state = st
		c.head = c.head[:0]
	case len(c.head) == 0:
		c.head = append(c.head, b[:min(len(b), headGuardLimit)]...)
	case len(c.head) >= headGuardLimit:
		c.state = headDone
		c.head = c.head[:0]
	}
}

var (
	crlfcrlf = []byte("\r\n\r\n")
	lflf     = []byte("\n\n")
	lfcrlf   = []byte("\n\r\n")
)

// classifyHead judges the start of a request: headDone when it holds a
// complete head or is no request line at all, headStuck when a request
// line is followed by a blank line ended by a bare LF and no CRLFCRLF,
// headWatching while it may still be completed.
func classifyHead(b []byte) headState {
	b = bytes.TrimLeft(b, "\r\n") // fasthttp skips empty lines before a request
	nl := bytes.IndexByte(b, '\n')
	if nl < 0 {
		return headWatching
	}
	if !requestLine(b[:nl]) {
		return headDone
	}
	if bytes.Contains(b, crlfcrlf) {
		return headDone
	}
	// Without a CRLFCRLF, a line break followed by an empty line is a
	// bare-LF blank line: "\n\n", or "\n\r\n" after a bare-LF line.
	if bytes.Contains(b[nl:], lflf) || bytes.Contains(b[nl:], lfcrlf) {
		return headStuck
	}
	return headWatching
}

// requestLine reports whether line looks like "METHOD target HTTP/x".
func requestLine(line []byte) bool {
	line = bytes.TrimSuffix(line, []byte("\r"))
	method, rest, ok := bytes.Cut(line, []byte(" "))
	if !ok || len(method) == 0 {
		return false
	}
	for _, ch := range method {
		if ch <= ' ' || ch >= 0x7f {
			return false
		}
	}
	target, proto, ok := bytes.Cut(rest, []byte(" "))
	return ok && len(target) > 0 && bytes.HasPrefix(proto, []byte("HTTP/"))
}
