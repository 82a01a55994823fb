package gateway

import (
	"bufio"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"
)

// TestDropConsoleCookie: the console's session cookie is dropped from a
// public request, other cookies stay, and a request without it costs no
// allocation (it runs on every public request).
func TestDropConsoleCookie(t *testing.T) {
	// As the server reads them (Set would parse the cookies at once).
	read := func(cookie string) *fasthttp.RequestHeader {
		var h fasthttp.RequestHeader
		if err := h.Read(bufio.NewReader(strings.NewReader("GET / HTTP/1.1\r\nHost: x\r\nCookie: " + cookie + "\r\n\r\n"))); err != nil {
			t.Fatal(err)
		}
		return &h
	}
	h := read("theme=dark; " + ConsoleCookie + "=abc; lang=en")
	dropConsoleCookie(h)
	if got := string(h.Peek("Cookie")); got != "theme=dark; lang=en" {
		t.Fatalf("Cookie after: %q", got)
	}
	plain := read("theme=dark; my" + ConsoleCookie + "x=1")
	if n := testing.AllocsPerRun(100, func() { dropConsoleCookie(plain) }); n != 0 {
		t.Errorf("%v allocations for a request without the session cookie; want 0", n)
	}
	if got := string(plain.Peek("Cookie")); got != "theme=dark; my"+ConsoleCookie+"x=1" {
		t.Fatalf("another cookie changed: %q", got)
	}
}
