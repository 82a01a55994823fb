package cli

import (
	"fmt"
	"strconv"
	"strings"
)

// memoryFlag is a flag holding a memory size in bytes, written as a
// number of MiB ("512"), with a binary unit ("512MiB", "4GiB", "4G"), or
// "off" (stored as -1). Unset, it stays 0 (the default).
type memoryFlag struct{ bytes *int64 }

var memoryUnits = []struct {
	suffix string
	shift  uint
}{{"KiB", 10}, {"MiB", 20}, {"GiB", 30}, {"TiB", 40}, {"K", 10}, {"M", 20}, {"G", 30}, {"T", 40}}

func (f memoryFlag) String() string {
	if f.bytes == nil || *f.bytes == 0 {
		return ""
	}
	if *f.bytes < 0 {
		return "off"
	}
	return fmt.Sprintf("%dMiB", *f.bytes>>20)
}

func (f memoryFlag) Type() string { return "size" }

func (f memoryFlag) Set(s string) error {
	s = strings.TrimSpace(s)
	if s == "off" {
		*f.bytes = -1
		return nil
	}
	num, shift := s, uint(20) // a bare number is MiB
	for _, u := range memoryUnits {
		if strings.HasSuffix(s, u.suffix) {
			num, shift = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.shift
			break
		}
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || v <= 0 || v*float64(int64(1)<<shift) > 1<<60 {
		return fmt.Errorf("want a size such as 512 (MiB), 512MiB or 4GiB, or off")
	}
	*f.bytes = int64(v * float64(int64(1)<<shift))
	return nil
}
