// Command go-echo describes the request it receives, for testing a wedge
// deployment end to end:
//
//	ANY /...                     -> JSON: method, path, query, headers, body length and SHA-256
//	GET /echo/stream?n=N         -> N lines, flushed one by one (1 <= N <= 10000, default 10)
//	GET /echo/panic              -> the handler panics: 500, with the panic in the logs
//	GET /echo/status?code=418    -> that status, with an X-Echo-Status header
package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log"
	"net/http"
	"strconv"

	wedge "github.com/wedge-run/wedge/sdk/go"
)

func init() {
	wedge.Handle(newMux())
}

func main() {} // never run in a -buildmode=c-shared module

func newMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/", echo)
	mux.HandleFunc("GET /echo/stream", stream)
	mux.HandleFunc("GET /echo/panic", func(w http.ResponseWriter, r *http.Request) {
		panic("go-echo: panic requested by " + r.RemoteAddr)
	})
	mux.HandleFunc("GET /echo/status", status)
	return mux
}

// Description is what echo answers.
type Description struct {
	Method     string              `json:"method"`
	URI        string              `json:"uri"`
	Path       string              `json:"path"`
	Query      map[string][]string `json:"query"`
	Host       string              `json:"host"`
	RemoteAddr string              `json:"remote_addr"`
	RequestID  string              `json:"request_id"`
	Route      string              `json:"route"`
	Headers    map[string][]string `json:"headers"`
	BodyLength int64               `json:"body_length"`
	BodySHA256 string              `json:"body_sha256"`
}

func echo(w http.ResponseWriter, r *http.Request) {
	h := sha256.New()
	n, err := io.Copy(h, r.Body)
	if err != nil {
		http.Error(w, "reading the body: "+err.Error(), http.StatusBadRequest)
		return
	}
	d := Description{
		Method:     r.Method,
		URI:        r.RequestURI,
		Path:       r.URL.Path,
		Query:      r.URL.Query(),
		Host:       r.Host,
		RemoteAddr: r.RemoteAddr,
		RequestID:  wedge.RequestID(r),
		Route:      wedge.Route(r),
		Headers:    r.Header,
		BodyLength: n,
		BodySHA256: hex.EncodeToString(h.Sum(nil)),
	}
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(d)
}

func stream(w http.ResponseWriter, r *http.Request) {
	n := 10
	if s := r.URL.Query().Get("n"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 1 || v > 10000 {
			http.Error(w, "n must be 1 to 10000", http.StatusBadRequest)
			return
		}
		n = v
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	flusher := w.(http.Flusher)
	for i := range n {
		io.WriteString(w, "chunk "+strconv.Itoa(i+1)+" of "+strconv.Itoa(n)+"\n")
		flusher.Flush()
	}
	log.Printf("go-echo: streamed %d chunks", n) // stderr: a log line of the function
}

func status(w http.ResponseWriter, r *http.Request) {
	code, err := strconv.Atoi(r.URL.Query().Get("code"))
	if err != nil || code < 200 || code > 999 {
		http.Error(w, "code must be 200 to 999", http.StatusBadRequest)
		return
	}
	w.Header().Set("X-Echo-Status", strconv.Itoa(code))
	w.WriteHeader(code)
	io.WriteString(w, strconv.Itoa(code)+" "+http.StatusText(code)+"\n")
}
