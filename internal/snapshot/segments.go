package snapshot

import (
	"encoding/binary"
	"slices"
)

// Layout of the snapshot's data segments.
const (
	// mergeGap: two runs of non-zero bytes separated by fewer zero bytes
	// than this share one segment. An active segment costs about 8 to 11
	// bytes of header (flags, i32.const, offset, end, length), so small
	// gaps are cheaper to store than to split on, and fewer segments mean
	// less for the engine to parse and lay out.
	mergeGap = 32
	// maxSegments caps the active segments a snapshot emits. Past it, the
	// runs separated by the smallest gaps are merged until it fits.
	// wasmtime, like other engines, refuses modules with more than 100,000
	// data segments; copy-on-write memory images make the count irrelevant
	// at instantiation, so the cap only bounds module size and compile time.
	maxSegments = 10_000
)

// span is the half-open byte range [off, end) of linear memory.
type span struct{ off, end int }

// nonZeroSpans returns the runs of non-zero bytes in mem, merging runs
// separated by fewer than gap zero bytes, and the count of non-zero bytes.
func nonZeroSpans(mem []byte, gap int) (spans []span, nonZero int) {
	n := len(mem)
	i := 0
	for {
		i = nextNonZero(mem, i)
		if i >= n {
			return spans, nonZero
		}
		j := i + 1
		for j < n && mem[j] != 0 {
			j++
		}
		nonZero += j - i
		if k := len(spans) - 1; k >= 0 && i-spans[k].end < gap {
			spans[k].end = j
		} else {
			spans = append(spans, span{i, j})
		}
		i = j
	}
}

// nextNonZero returns the index of the first non-zero byte of mem at or
// after i, or len(mem). Zero stretches are skipped a word at a time.
func nextNonZero(mem []byte, i int) int {
	n := len(mem)
	for i < n && i%8 != 0 {
		if mem[i] != 0 {
			return i
		}
		i++
	}
	for i+8 <= n && binary.LittleEndian.Uint64(mem[i:]) == 0 {
		i += 8
	}
	for i < n && mem[i] == 0 {
		i++
	}
	return i
}

// capSpans merges the spans separated by the smallest gaps until at most
// max remain. Ties go to the lower address, so the result is deterministic.
func capSpans(spans []span, max int) []span {
	if max < 1 {
		max = 1
	}
	excess := len(spans) - max
	if excess <= 0 {
		return spans
	}
	gaps := make([]int, len(spans)-1)
	for k := range gaps {
		gaps[k] = spans[k+1].off - spans[k].end
	}
	sorted := slices.Clone(gaps)
	slices.Sort(sorted)
	threshold := sorted[excess-1]
	atThreshold := excess // merges still allowed at exactly threshold
	for _, g := range sorted[:excess] {
		if g < threshold {
			atThreshold--
		}
	}
	out := make([]span, 1, max)
	out[0] = spans[0]
	for k, g := range gaps {
		merge := g < threshold
		if g == threshold && atThreshold > 0 {
			merge = true
			atThreshold--
		}
		if merge {
			out[len(out)-1].end = spans[k+1].end
		} else {
			out = append(out, spans[k+1])
		}
	}
	return out
}
