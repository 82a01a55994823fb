package wedge

import (
	"context"
	"slices"
	"testing"

	"github.com/wedge-run/wedge/abi"
)

// TestRequestHeaderValuesDoNotAlias: the header values share one backing
// array, so appending to one header (a repeated name in the head, or the
// handler's Header().Add) must not overwrite the next header's value.
func TestRequestHeaderValuesDoNotAlias(t *testing.T) {
	head := encodeHead("GET", "/", "h", "127.0.0.1:1", "id", "/",
		abi.Header{Name: "X-A", Value: "1"}, abi.Header{Name: "X-B", Value: "b"},
		abi.Header{Name: "x-a", Value: "2"}, abi.Header{Name: "X-C", Value: "c"})
	req, err := newRequest(context.Background(), newFake(), head, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := req.Header["X-A"]; !slices.Equal(got, []string{"1", "2"}) {
		t.Fatalf("X-A = %q, want [1 2]", got)
	}
	req.Header.Add("X-B", "added")
	req.Header.Add("X-A", "3")
	for name, want := range map[string][]string{"X-A": {"1", "2", "3"}, "X-B": {"b", "added"}, "X-C": {"c"}} {
		if got := req.Header[name]; !slices.Equal(got, want) {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
}
