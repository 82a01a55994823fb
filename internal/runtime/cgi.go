package runtime

import (
	"bytes"
	"net"
	"net/textproto"
	"strconv"
	"strings"

	"github.com/wedge-run/wedge/abi"
)

// cgiHeaderAllowance is how much CGI header text stdout may carry on top
// of the response body limit.
const cgiHeaderAllowance = 64 << 10

// buildCGIEnv derives the CGI environment from the encoded request head.
func (c *Call) buildCGIEnv() {
	r := abi.NewReader(c.Head)
	method, uri, host, remote, reqID, route := r.String(), r.String(), r.String(), r.String(), r.String(), r.String()
	path, query, _ := strings.Cut(uri, "?")
	env := c.cgiEnv[:0]
	if c.Env != nil {
		env = append(env, c.Env.environ...)
	}
	serverName, serverPort := host, "80"
	if h, p, err := net.SplitHostPort(host); err == nil {
		serverName, serverPort = h, p
	}
	remoteIP := remote
	if h, _, err := net.SplitHostPort(remote); err == nil {
		remoteIP = h
	}
	env = append(env,
		"REQUEST_METHOD="+method,
		"PATH_INFO="+path,
		"QUERY_STRING="+query,
		"REQUEST_URI="+uri,
		"SCRIPT_NAME="+strings.TrimSuffix(strings.TrimSuffix(route, "/..."), "/"),
		"X_MATCHED_ROUTE="+route,
		"SERVER_PROTOCOL=HTTP/1.1",
		"SERVER_NAME="+serverName,
		"SERVER_PORT="+serverPort,
		"REMOTE_ADDR="+remoteIP,
		"GATEWAY_INTERFACE=CGI/1.1",
		"X_REQUEST_ID="+reqID,
		"CONTENT_LENGTH="+strconv.Itoa(len(c.Body)),
	)
	n := r.U32()
	for i := uint32(0); i < n && r.Err() == nil; i++ {
		name, value := r.String(), r.String()
		if !cgiHeaderName(name) {
			continue // "Bad Name" passes fasthttp; no CGI variable can hold it
		}
		key := strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
		switch key {
		case "CONTENT_TYPE":
			env = append(env, "CONTENT_TYPE="+value)
		case "CONTENT_LENGTH":
		default:
			env = append(env, "HTTP_"+key+"="+value)
		}
	}
	c.cgiEnv = env
}

// parseCGI splits the guest's stdout into status, headers and body.
// Output that does not start with a header block is served whole as a
// text/plain body.
func (c *Call) parseCGI() error {
	out := c.Output
	end, sep := bytes.Index(out, []byte("\r\n\r\n")), 4
	if e2 := bytes.Index(out, []byte("\n\n")); e2 >= 0 && (end < 0 || e2 < end) {
		end, sep = e2, 2
	}
	if end < 0 || !looksLikeHeaders(out[:end]) {
		if len(out) > c.Env.Limits.MaxResponseBytes {
			return guestErr(ErrResponseTooLarge, "the response body exceeds the function's limit", "")
		}
		c.Headers = abi.EncodeHeaders(c.Headers[:0], []abi.Header{{Name: "Content-Type", Value: "text/plain; charset=utf-8"}})
		return nil
	}
	var hs []abi.Header
	status, location := 0, false
	for _, line := range strings.Split(string(out[:end]), "\n") {
		line = strings.TrimRight(line, "\r")
		name, value, _ := strings.Cut(line, ":")
		name = textproto.CanonicalMIMEHeaderKey(strings.TrimSpace(name))
		value = strings.TrimSpace(value)
		if !validHeader([]byte(name), []byte(value)) { // a NUL or CR inside the value
			return guestErr(ErrHandler, "the CGI header "+strconv.Quote(name)+" has a value that is not valid in HTTP", "")
		}
		switch name {
		case "Status":
			code, _, _ := strings.Cut(value, " ")
			if n, err := strconv.Atoi(code); err == nil && n >= 200 && n <= 999 { // as response_head: no 1xx final response
				status = n
			} else {
				return guestErr(ErrHandler, "the CGI Status header is not a valid status: "+strconv.Quote(value), "")
			}
		case "Location":
			location = true
			hs = append(hs, abi.Header{Name: name, Value: value})
		default:
			hs = append(hs, abi.Header{Name: name, Value: value})
		}
	}
	if len(hs) < abi.MaxHeaders && !hasHeader(hs, "Content-Type") { // RFC 3875 6.3.1: a body has a type; a status-only block would leave none
		hs = append(hs, abi.Header{Name: "Content-Type", Value: "text/plain; charset=utf-8"})
	}
	if len(hs) > abi.MaxHeaders {
		return guestErr(ErrHandler, "the CGI response has more than "+strconv.Itoa(abi.MaxHeaders)+" headers", "")
	}
	if status == 0 {
		status = 200
		if location {
			status = 302
		}
	}
	body := out[end+sep:]
	if len(body) > c.Env.Limits.MaxResponseBytes {
		return guestErr(ErrResponseTooLarge, "the response body exceeds the function's limit", "")
	}
	c.Status = status
	c.Headers = abi.EncodeHeaders(c.Headers[:0], hs)
	c.Output = append(c.Output[:0], body...)
	return nil
}

// hasHeader reports whether hs holds a header named name (canonical form).
func hasHeader(hs []abi.Header, name string) bool {
	for _, h := range hs {
		if h.Name == name {
			return true
		}
	}
	return false
}

// cgiHeaderName reports whether a request header name maps to a CGI
// variable name ([A-Z0-9_] once upper-cased, '-' as '_').
func cgiHeaderName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		ch := name[i]
		if !(ch == '-' || ch == '_' || ch >= '0' && ch <= '9' || ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z') {
			return false
		}
	}
	return true
}

// looksLikeHeaders reports whether every line is "Name: value" with a
// token name.
func looksLikeHeaders(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, line := range bytes.Split(b, []byte("\n")) {
		line = bytes.TrimRight(line, "\r")
		i := bytes.IndexByte(line, ':')
		if i <= 0 {
			return false
		}
		for _, ch := range line[:i] {
			if !(ch == '-' || ch == '_' || ch >= '0' && ch <= '9' || ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z') {
				return false
			}
		}
	}
	return true
}
