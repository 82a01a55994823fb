package cli

import "testing"

func TestMemoryFlag(t *testing.T) {
	for in, want := range map[string]int64{
		"512": 512 << 20, "512MiB": 512 << 20, "4GiB": 4 << 30, "4G": 4 << 30, "1.5GiB": 3 << 29,
		"64 MiB": 64 << 20, "2048KiB": 2 << 20, "off": -1,
	} {
		var got int64
		if err := (memoryFlag{&got}).Set(in); err != nil || got != want {
			t.Errorf("%q: %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "0", "-1", "lots", "4GB", "1e30GiB"} {
		var got int64
		if err := (memoryFlag{&got}).Set(in); err == nil {
			t.Errorf("%q accepted as %d", in, got)
		}
	}
}
