package wedge

import "net/http"

// detectContentType is http.DetectContentType with a shortcut for the
// common case of a plain-text body, which otherwise runs through about
// forty signatures before the text check. The shortcut answers only when
// no signature can match, so the result is always DetectContentType's
// (TestDetectContentTypeMatchesNetHTTP compares the two):
//
//   - the first byte is a letter or digit that starts no signature: the
//     HTML and XML signatures need '<' as the first non-space byte; the
//     others are anchored at byte 0 and start with '%', 'B', 'F', 'G',
//     'I', 'M', 'O', 'P', 'R', 't', 'w' or a non-ASCII or control byte;
//     MP4's needs a box size under 512 in the first four bytes, so a
//     zero first byte;
//   - bytes 34 and 35 are not "LP" (the Embedded OpenType signature
//     ignores the 34 bytes before them);
//   - no byte is one the text check calls binary.
func detectContentType(data []byte) string {
	if len(data) > sniffLen {
		data = data[:sniffLen]
	}
	if len(data) == 0 || !plainStart[data[0]] || len(data) >= 36 && data[34] == 'L' && data[35] == 'P' {
		return http.DetectContentType(data)
	}
	for _, b := range data {
		if binaryByte[b] {
			return http.DetectContentType(data)
		}
	}
	return hostDefaultContentType
}

// plainStart holds the first bytes that begin no sniffing signature.
var plainStart = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	for _, c := range "BFGIMOPRtw" {
		t[c] = false
	}
	return t
}()

// binaryByte holds the bytes net/http's text check rejects.
var binaryByte = func() (t [256]bool) {
	for b := 0; b < 0x20; b++ {
		switch {
		case b <= 0x08, b == 0x0B, 0x0E <= b && b <= 0x1A, 0x1C <= b && b <= 0x1F:
			t[b] = true
		}
	}
	return t
}()
