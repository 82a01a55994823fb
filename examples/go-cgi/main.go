// go-cgi is an ordinary Go program served through wedge's CGI entry: it
// uses no SDK. Build it with
//
//	GOOS=wasip1 GOARCH=wasm go build -o go-cgi.wasm .
//
// The request arrives as environment variables and stdin; the response is
// written to stdout as CGI headers, a blank line and the body.
package main

import (
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

func main() {
	body, err := io.ReadAll(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "reading body:", err)
		os.Exit(1)
	}
	path := os.Getenv("PATH_INFO")
	fmt.Fprintf(os.Stderr, "go-cgi: %s %s (%d bytes)\n", os.Getenv("REQUEST_METHOD"), path, len(body))
	switch {
	case strings.HasSuffix(path, "/fail"):
		fmt.Fprintln(os.Stderr, "go-cgi: failing on purpose")
		os.Exit(3)
	case strings.HasSuffix(path, "/missing"):
		fmt.Print("Status: 404 Not Found\nContent-Type: text/plain\n\nnothing here\n")
		return
	}
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "HTTP_") || strings.HasPrefix(kv, "REQUEST_") || strings.HasPrefix(kv, "QUERY_") || strings.HasPrefix(kv, "PATH_") {
			env = append(env, kv)
		}
	}
	sort.Strings(env)
	fmt.Print("Content-Type: text/plain; charset=utf-8\n")
	fmt.Print("X-Served-By: go-cgi\n\n")
	fmt.Printf("hello from a plain Go program\n")
	fmt.Printf("method=%s path=%s query=%s\n", os.Getenv("REQUEST_METHOD"), path, os.Getenv("QUERY_STRING"))
	fmt.Printf("body_bytes=%d body_sha256=%x\n", len(body), sha256.Sum256(body))
	for _, kv := range env {
		fmt.Println(kv)
	}
}
