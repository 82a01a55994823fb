// Command counter is the Go guest of the isolation tests
// (internal/node/isolation_test.go): every request increments state that lives in
// each place a Go program keeps it, and answers what it read. In a fresh
// instance per request every number must be 1 and every grown byte 0.
package main

import (
	"fmt"
	"net/http"

	wedge "github.com/wedge-run/wedge/sdk/go"
)

var (
	global int        // the module's data section
	heap   = new(int) // the heap, allocated by init, so in the snapshot
	// spread is written one page in two, more separate runs of written
	// pages than wasmtime's PAGEMAP_SCAN reset reports in one scan (32).
	spread = make([]byte, 2<<20)
)

const stride = 8 << 10

func init() {
	wedge.HandleFunc(func(w http.ResponseWriter, r *http.Request) {
		global++
		*heap++
		most := 0
		for i := 0; i < len(spread); i += stride {
			spread[i]++
			most = max(most, int(spread[i]))
		}
		// Past the snapshot's memory: the Go runtime grows memory for
		// this and assumes it is zero.
		grown := make([]byte, 12<<20)
		dirty := 0
		for i := 0; i < len(grown); i += 4096 {
			if grown[i] != 0 {
				dirty++
			}
			grown[i] = 0xff
		}
		fmt.Fprintf(w, "global=%d heap=%d spread=%d grown-dirty=%d", global, *heap, most, dirty)
	})
}

func main() {}
