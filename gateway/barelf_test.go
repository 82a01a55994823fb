package gateway

import "testing"

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
