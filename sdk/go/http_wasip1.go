//go:build wasip1

package wedge

import "net/http"

// The outbound HTTP calls (imports in host_wasip1.go, next to the others).
type wasmHTTP struct{}

func (wasmHTTP) send(req, body []byte) int32 {
	return wasmHTTPSend(ptr(req), uint32(len(req)), ptr(body), uint32(len(body)))
}

func (wasmHTTP) responseHead(h int32, buf []byte) int32 {
	return wasmHTTPResponseHead(h, ptr(buf), uint32(len(buf)))
}

func (wasmHTTP) responseRead(h int32, buf []byte) int32 {
	return wasmHTTPResponseRead(h, ptr(buf), uint32(len(buf)))
}

func (wasmHTTP) close(h int32) int32 { return wasmHTTPClose(h) }

func init() {
	httpSys = wasmHTTP{}
	// Importing the SDK makes http.Get, http.Client and every library
	// that uses http.DefaultTransport go through the host.
	http.DefaultTransport = &Transport{}
}
