package gateway

import (
	"errors"
	"io"
	"net"
	"testing"
)

func TestClassifyHead(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want headState
	}{
		{"GET / HTTP/1.1\nHost: x\n\n", headStuck},
		{"GET / HTTP/1.1\n\n", headStuck},
		{"GET / HTTP/1.1\r\nHost: x\n\n", headStuck},
		{"GET / HTTP/1.1\r\nHost: x\n\r\n", headStuck},
		{"GET / HTTP/1.1\r\nHost: x\r\n\n", headStuck},
		{"\r\nGET / HTTP/1.1\nHost: x\n\n", headStuck},
		{"POST /a HTTP/1.1\nContent-Length: 4\n\nab\n\n", headStuck},
		{"GET / HTTP/1.1\r\nHost: x\r\n\r\n", headDone},
		{"GET / HTTP/1.1\nHost: x\r\n\r\n", headDone},                     // fasthttp accepts it
		{"POST /a HTTP/1.1\r\nContent-Length: 4\r\n\r\na\n\nb", headDone}, // bare LFs in the body
		{"GET / HTTP/1.1\r\nHost: x\r\n", headWatching},
		{"GET / HTTP/1.1\nHost: x\n", headWatching},
		{"GET / HTT", headWatching},
		{"", headWatching},
		{"a body\n\nthat is not a head", headDone},
		{"GET /\n\n", headDone}, // no protocol: fasthttp judges it
		{"G T / HTTP/1.1\n\n", headDone},
	} {
		if got := classifyHead([]byte(tc.in)); got != tc.want {
			t.Errorf("classifyHead(%q) = %d, want %d", tc.in, got, tc.want)
		}
	}
}

// The connection wrapper itself, read by read: a body after "100
// Continue" is never judged as a head, a head after a response is.
func TestHeadGuardConn(t *testing.T) {
	client, server := net.Pipe()
	defer client.Close()
	c := &headGuardConn{Conn: server}
	buf := make([]byte, 256)
	send := func(s string) {
		go io.WriteString(client, s)
		if n, err := c.Read(buf); err != nil || string(buf[:n]) != s {
			t.Fatalf("read %q %v, want %q", buf[:n], err, s)
		}
	}
	answer := func(s string) {
		go io.Copy(io.Discard, io.LimitReader(client, int64(len(s))))
		if _, err := c.Write([]byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	send("POST /a HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 40\r\n\r\n")
	answer("HTTP/1.1 100 Continue\r\n\r\n")
	send("GET / HTTP/1.1\nHost: a\n\n") // the first part of the body
	send("0123456789abcdef")            // the next read still works
	answer("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
	send("GET / HTTP/1.1\nHost: a\n\n") // a bare-LF head
	if _, err := c.Read(buf); !errors.Is(err, errBareLF) {
		t.Fatalf("read after a bare-LF head: %v, want errBareLF", err)
	}
}
