package gateway

import "bytes"

// isJavaScript reports whether a deploy's Content-Type says the body is
// a JavaScript module (served on wedge's JavaScript engine, package js)
// rather than a WebAssembly module.
func isJavaScript(contentType []byte) bool {
	mt, _, _ := bytes.Cut(contentType, []byte(";"))
	mt = bytes.ToLower(bytes.TrimSpace(mt))
	switch string(mt) {
	case "application/javascript", "text/javascript", "application/x-javascript", "application/ecmascript", "text/ecmascript":
		return true
	}
	return false
}
