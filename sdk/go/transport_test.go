package wedge

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wedge-run/wedge/abi"
)

// fakeHTTP records what the transport sends and answers from a script.
type fakeHTTP struct {
	req     []byte
	body    []byte
	sendRC  int32
	head    []byte
	resp    string
	closed  int
	timeout uint32
}

func (f *fakeHTTP) send(req, body []byte) int32 {
	f.req = append([]byte(nil), req...)
	f.body = append([]byte(nil), body...)
	r := abi.NewReader(req)
	r.Bytes()
	r.Bytes()
	n := r.U32()
	for i := uint32(0); i < n; i++ {
		r.Bytes()
		r.Bytes()
	}
	if r.Len() == 4 {
		f.timeout = r.U32()
	}
	return f.sendRC
}

func (f *fakeHTTP) responseHead(h int32, buf []byte) int32 {
	if len(f.head) <= len(buf) {
		copy(buf, f.head)
	}
	return int32(len(f.head))
}

func (f *fakeHTTP) responseRead(h int32, buf []byte) int32 {
	n := copy(buf, f.resp)
	f.resp = f.resp[n:]
	return int32(n)
}

func (f *fakeHTTP) close(h int32) int32 { f.closed++; return 0 }

func withFakeHTTP(t *testing.T, f *fakeHTTP) {
	old := httpSys
	httpSys = f
	t.Cleanup(func() { httpSys = old })
}

func TestTransportRoundTrip(t *testing.T) {
	hs := make([]abi.Header, 300) // a head over the first 4 KiB buffer
	for i := range hs {
		hs[i] = abi.Header{Name: "X-Many", Value: strings.Repeat("v", 20)}
	}
	head := abi.EncodeHeaders(abi.AppendU32(nil, 201), append(hs[:255], abi.Header{Name: "Content-Type", Value: "text/plain"}))
	f := &fakeHTTP{sendRC: 1, head: head, resp: strings.Repeat("x", 100000)}
	withFakeHTTP(t, f)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "POST", "https://api.example.com/v1?q=1", strings.NewReader("payload"))
	req.Header.Set("X-Key", "k")
	resp, err := (&Transport{}).RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	r := abi.NewReader(f.req)
	if m, u := r.String(), r.String(); m != "POST" || u != "https://api.example.com/v1?q=1" {
		t.Fatalf("sent %s %s", m, u)
	}
	if !strings.Contains(string(f.req), "X-Key") || string(f.body) != "payload" {
		t.Fatalf("headers or body not sent: %q %q", f.req, f.body)
	}
	if f.timeout == 0 || f.timeout > 2000 {
		t.Fatalf("context deadline sent as %d ms", f.timeout)
	}
	if resp.StatusCode != 201 || resp.Header.Get("Content-Type") != "text/plain" || len(resp.Header["X-Many"]) != 255 {
		t.Fatalf("response head: %d %v", resp.StatusCode, len(resp.Header["X-Many"]))
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil || len(b) != 100000 {
		t.Fatalf("body: %d bytes, %v", len(b), err)
	}
	resp.Body.Close()
	resp.Body.Close()
	if f.closed != 1 {
		t.Fatalf("closed %d times", f.closed)
	}
}

func TestTransportErrors(t *testing.T) {
	for rc, want := range map[int32]error{
		-int32(abi.ErrDenied):   ErrDenied,
		-int32(abi.ErrTimedOut): ErrTimedOut,
		-int32(abi.ErrNetwork):  ErrNetwork,
		-int32(abi.ErrTooLarge): ErrTooLarge,
	} {
		withFakeHTTP(t, &fakeHTTP{sendRC: rc})
		_, err := (&http.Client{Transport: &Transport{}}).Do(mustReq(t, context.Background()))
		if err == nil || !errors.Is(err, want) {
			t.Errorf("rc %d: got %v, want %v", rc, err, want)
		}
	}
	// A timeout at the context's deadline is context.DeadlineExceeded.
	withFakeHTTP(t, &fakeHTTP{sendRC: -int32(abi.ErrTimedOut)})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
	defer cancel()
	if _, err := (&Transport{}).RoundTrip(mustReq(t, ctx)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("deadline: got %v", err)
	}
}

func mustReq(t *testing.T, ctx context.Context) *http.Request {
	req, err := http.NewRequestWithContext(ctx, "GET", "http://example.com/", nil)
	if err != nil {
		t.Fatal(err)
	}
	req = req.WithContext(ctx)
	return req
}
