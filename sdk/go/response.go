package wedge

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/wedge-run/wedge/abi"
)

// flushThreshold is how much body the SDK buffers before handing it to
// the host. Below it a response costs at most two host calls in total
// (response_head, only when the status or headers differ from the
// defaults, and response_write).
const flushThreshold = 64 << 10

// sniffLen is how many leading body bytes Content-Type sniffing looks at.
const sniffLen = 512

// hostDefaultContentType is what the host sets for a non-empty body
// without a Content-Type, so the SDK need not send it.
const hostDefaultContentType = "text/plain; charset=utf-8"

// response is the http.ResponseWriter handed to the handler. It follows
// net/http's server semantics: headers are frozen by WriteHeader (or the
// first Write), Content-Type is sniffed when unset, 204 and 304 carry no
// body, and Flush sends what is buffered.
type response struct {
	h      host
	header http.Header // what Header() returns; made on first use
	sent   http.Header // the frozen copy taken at WriteHeader; nil when empty
	status int
	buf    []byte

	wroteHeader bool  // a final status was chosen
	headSent    bool  // the head went to the host (or needed not to)
	done        bool  // the handler returned
	err         error // sticky error from the host
}

// errResponseDone is returned by writes from goroutines that outlive the
// handler: the response is complete once the handler returns.
var errResponseDone = errors.New("wedge: write after the handler returned")

var (
	_ http.ResponseWriter = (*response)(nil)
	_ http.Flusher        = (*response)(nil)
)

func newResponse(h host) *response {
	return &response{h: h}
}

// Header returns the header map that WriteHeader (or the first Write)
// will send. Changing it afterwards has no effect.
func (w *response) Header() http.Header {
	if w.header == nil {
		w.header = make(http.Header)
	}
	return w.header
}

// WriteHeader sets the status code. Informational (1xx) codes other than
// 101 cannot be sent through ABI v1 and are dropped.
func (w *response) WriteHeader(code int) {
	if w.done {
		return
	}
	if code < 100 || code > 999 {
		panic("invalid WriteHeader code " + strconv.Itoa(code))
	}
	if w.wroteHeader {
		hostLog(w.h, abi.LogWarn, "wedge: superfluous WriteHeader call ("+strconv.Itoa(code)+" after "+strconv.Itoa(w.status)+")")
		return
	}
	if code < 200 && code != http.StatusSwitchingProtocols {
		return
	}
	w.wroteHeader = true
	w.status = code
	if len(w.header) > 0 {
		w.sent = w.header.Clone()
	}
}

// Write buffers p, handing the buffer to the host whenever it holds
// 64 KiB; a write at least that large with nothing buffered is handed over
// without a copy.
func (w *response) Write(p []byte) (int, error) {
	if w.done {
		return 0, errResponseDone
	}
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if len(p) == 0 {
		return 0, nil
	}
	if !bodyAllowedForStatus(w.status) {
		return 0, http.ErrBodyNotAllowed
	}
	if w.err != nil {
		return 0, w.err
	}
	n := len(p)
	for len(p) > 0 {
		if len(w.buf) == 0 && len(p) >= flushThreshold {
			// Large enough to go straight to the host without a copy.
			if err := w.send(p); err != nil {
				return 0, err
			}
			break
		}
		k := min(flushThreshold-len(w.buf), len(p))
		w.buf = append(w.buf, p[:k]...)
		p = p[k:]
		if len(w.buf) >= flushThreshold {
			if err := w.send(nil); err != nil {
				return 0, err
			}
		}
	}
	return n, nil
}

// WriteString is Write for a string, saving the conversion's copy when
// the string fits the buffer.
func (w *response) WriteString(s string) (int, error) {
	if !w.done && !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if !w.done && w.err == nil && bodyAllowedForStatus(w.status) && len(w.buf)+len(s) < flushThreshold {
		w.buf = append(w.buf, s...)
		return len(s), nil
	}
	return w.Write([]byte(s))
}

// Flush sends the head (if not yet sent) and the buffered body to the
// host. In ABI v1 the host holds the whole response until the handler
// returns, so a flush bounds the guest's memory, not the client's latency.
func (w *response) Flush() { _ = w.FlushError() }

// FlushError is Flush reporting the host's error; http.ResponseController
// uses it.
func (w *response) FlushError() error {
	if w.done {
		return nil
	}
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if w.err != nil {
		return w.err
	}
	return w.send(nil)
}

// finish completes the response after the handler returned: 0 when the
// response is complete, 1 when the host must fail the request.
func (w *response) finish() int32 {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	w.done = true
	if w.err == nil {
		w.send(nil)
	}
	if w.err != nil {
		return 1
	}
	return 0
}

// send hands the head (once) and then the buffer and extra to the host.
func (w *response) send(extra []byte) error {
	if w.err != nil {
		return w.err
	}
	if !w.headSent {
		sniff := w.buf
		if len(sniff) < sniffLen && len(extra) > 0 {
			sniff = append(sniff[:len(sniff):len(sniff)], extra[:min(len(extra), sniffLen-len(sniff))]...)
		}
		w.sendHead(sniff)
		if w.err != nil {
			return w.err
		}
	}
	if len(w.buf) > 0 {
		w.write(w.buf)
		w.buf = w.buf[:0]
	}
	if len(extra) > 0 && w.err == nil {
		w.write(extra)
	}
	return w.err
}

func (w *response) write(b []byte) {
	if rc := w.h.responseWrite(b); rc < 0 {
		w.fail(opError("response write", "", int64(rc)))
	}
}

func (w *response) fail(err error) {
	if w.err == nil {
		w.err = err
		hostLog(w.h, abi.LogError, err.Error())
	}
}

// sendHead sends the status and headers, sniffing a Content-Type from the
// first body bytes when the handler set none. A 200 without headers is
// the host's default and costs no call.
func (w *response) sendHead(sniff []byte) {
	w.headSent = true
	hdr := w.sent
	if _, ok := hdr["Content-Type"]; !ok && len(sniff) > 0 && bodyAllowedForStatus(w.status) {
		if ct := detectContentType(sniff); ct != hostDefaultContentType {
			if hdr == nil {
				hdr = make(http.Header, 1)
			}
			hdr["Content-Type"] = []string{ct}
		}
	}
	list, n := encodeHeaders(hdr)
	if n > abi.MaxHeaders {
		w.fail(localError("response head", "", abi.ErrTooLarge))
		return
	}
	if w.status == http.StatusOK && n == 0 {
		return
	}
	if rc := w.h.responseHead(int32(w.status), list); rc < 0 {
		w.fail(opError("response head", "", int64(rc)))
	}
}

// plain answers status with its text as the body, discarding anything
// buffered; for errors the SDK answers itself.
func (w *response) plain(status int) int32 {
	w.wroteHeader, w.status, w.sent = true, status, http.Header{"X-Content-Type-Options": {"nosniff"}}
	w.buf = append(w.buf[:0], strconv.Itoa(status)+" "+http.StatusText(status)+"\n"...)
	w.done = true
	w.send(nil)
	if w.err != nil {
		return 1
	}
	return 0
}

// encodeHeaders encodes h as an ABI header list in a stable order and
// returns it with its entry count. Like net/http it drops what the host
// owns (Content-Length), trailers and invalid names, and turns line
// breaks in values into spaces.
func encodeHeaders(h http.Header) ([]byte, int) {
	if len(h) == 0 {
		return emptyHeaderList, 0
	}
	names := make([]string, 0, len(h))
	for name := range h {
		if name == "Content-Length" || strings.HasPrefix(name, http.TrailerPrefix) || !validHeaderName(name) {
			continue
		}
		names = append(names, name)
	}
	slices.Sort(names)
	n := 0
	for _, name := range names {
		n += len(h[name])
	}
	buf := abi.AppendU32(make([]byte, 0, 256), uint32(n))
	for _, name := range names {
		for _, v := range h[name] {
			buf = abi.AppendString(buf, name)
			if strings.ContainsAny(v, "\r\n") {
				v = strings.NewReplacer("\r", " ", "\n", " ").Replace(v)
			}
			buf = abi.AppendString(buf, v)
		}
	}
	return buf, n
}

// emptyHeaderList is the encoding of no headers (a zero count). The host
// only reads it.
var emptyHeaderList = []byte{0, 0, 0, 0}

// validHeaderName reports whether name is an RFC 9110 token.
func validHeaderName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c >= 0x80 || !isTokenChar[c] {
			return false
		}
	}
	return true
}

var isTokenChar = func() (t [128]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	for _, c := range "!#$%&'*+-.^_`|~" {
		t[c] = true
	}
	return t
}()

// bodyAllowedForStatus reports whether a status may carry a body
// (RFC 9110: not 1xx, 204 or 304).
func bodyAllowedForStatus(status int) bool {
	switch {
	case status >= 100 && status <= 199, status == http.StatusNoContent, status == http.StatusNotModified:
		return false
	}
	return true
}
