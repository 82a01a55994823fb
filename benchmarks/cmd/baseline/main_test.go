package main

import (
	"io"
	"net"
	"net/http"
	"testing"
)

func TestServers(t *testing.T) {
	for _, kind := range []string{"fasthttp", "nethttp"} {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		serve, shutdown, err := newServer(kind, ln)
		if err != nil {
			t.Fatal(err)
		}
		served := make(chan error, 1)
		go func() { served <- serve() }()
		resp, err := http.Get("http://" + ln.Addr().String() + "/any/path")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(b) != "hello from wedge\n" || resp.Header.Get("Content-Type") != contentType {
			t.Errorf("%s: %d %q %q", kind, resp.StatusCode, b, resp.Header.Get("Content-Type"))
		}
		if err := shutdown(); err != nil {
			t.Error(err)
		}
		if err := <-served; err != nil {
			t.Errorf("%s: serve: %v", kind, err)
		}
	}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	defer ln.Close()
	if _, _, err := newServer("apache", ln); err == nil {
		t.Error("unknown kind accepted")
	}
}
