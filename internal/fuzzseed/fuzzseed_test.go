package fuzzseed

import "testing"

// TestEncode: the corpus format Go's fuzzer reads.
func TestEncode(t *testing.T) {
	got, err := Encode([]byte("a\x00\"b"), "s\n", 7, int64(-1), uint64(9), true)
	if err != nil {
		t.Fatal(err)
	}
	want := "go test fuzz v1\n[]byte(\"a\\x00\\\"b\")\nstring(\"s\\n\")\nint(7)\nint64(-1)\nuint64(9)\nbool(true)\n"
	if string(got) != want {
		t.Fatalf("got %q\nwant %q", got, want)
	}
	if _, err := Encode(1.5); err == nil {
		t.Fatal("a float64 encoded; want an error")
	}
}
