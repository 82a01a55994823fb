package wedge

import (
	"net/http"
	"strings"
	"testing"
)

// TestDetectContentTypeMatchesNetHTTP: the shortcut never answers
// differently from http.DetectContentType, on bodies built to sit at the
// edges of every signature and on fuzzed ones (FuzzDetectContentType).
func TestDetectContentTypeMatchesNetHTTP(t *testing.T) {
	pad := strings.Repeat("a", 34)
	cases := []string{
		"", "hello from wedge, bench\n", "hello", "<html>", " <b>x", "\t\n<?xml", "%PDF-1", "BM", "GIF89a",
		"RIFF0000WEBPVP", "OggS\x00", "MThd\x00\x00\x00\x06", "ID3", "FORM0000AIFF", "ttcf", "wOFF", "wOF2",
		"OTTO", "PK\x03\x04", "Rar!\x1a\x07\x00", "\x00asm", "\x00\x00\x00\x0cftypmp4 ", "\x1f\x8b\x08",
		pad + "LP", "x" + pad[1:] + "LP" + "more text", pad + "LQ", "abc\x00def", "abc\x1bdef", "abc\x0cdef",
		"Bonjour", "bonjour", "Many words", "12345", "tea", "water", "é", "\xef\xbb\xbftext",
		strings.Repeat("z", 600) + "\x00", "z" + strings.Repeat("y", 520),
	}
	for _, c := range cases {
		if got, want := detectContentType([]byte(c)), http.DetectContentType([]byte(c)); got != want {
			t.Errorf("%q: %q, net/http says %q", c, got, want)
		}
	}
	// Every first byte, with and without the font signature's "LP".
	for b := 0; b < 256; b++ {
		for _, rest := range []string{"ello world", pad[1:] + "LP", "000ftypmp4 mp41"} {
			c := string(rune(0)) + rest
			c = string([]byte{byte(b)}) + c[1:]
			if got, want := detectContentType([]byte(c)), http.DetectContentType([]byte(c)); got != want {
				t.Errorf("%q: %q, net/http says %q", c, got, want)
			}
		}
	}
}

func FuzzDetectContentType(f *testing.F) {
	f.Add([]byte("hello from wedge\n"))
	f.Add([]byte("<html>"))
	f.Add([]byte(strings.Repeat("a", 34) + "LP"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := detectContentType(b), http.DetectContentType(b); got != want {
			t.Fatalf("%q: %q, net/http says %q", b, got, want)
		}
	})
}
