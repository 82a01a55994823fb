// Command go-hello is the smallest useful wedge function: GET / answers
// "hello from wedge", greeting ?name= when given.
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o go-hello.wasm .
package main

import (
	"io"
	"net/http"

	wedge "github.com/wedge-run/wedge/sdk/go"
)

func init() {
	// Registered from init: a -buildmode=c-shared module runs init
	// functions in _initialize but never calls main.
	wedge.HandleFunc(hello)
}

func hello(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	msg := "hello from wedge"
	if name := r.URL.Query().Get("name"); name != "" {
		msg += ", " + name
	}
	io.WriteString(w, msg+"\n")
}

func main() {}
