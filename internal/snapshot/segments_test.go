package snapshot

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// naiveSpans is the obvious byte-at-a-time version of nonZeroSpans.
func naiveSpans(mem []byte, gap int) ([]span, int) {
	var out []span
	nz := 0
	for i, c := range mem {
		if c == 0 {
			continue
		}
		nz++
		if k := len(out) - 1; k >= 0 && i-out[k].end < gap {
			out[k].end = i + 1
		} else {
			out = append(out, span{i, i + 1})
		}
	}
	return out, nz
}

func TestNonZeroSpans(t *testing.T) {
	mem := make([]byte, 256)
	mem[3] = 1
	mem[4] = 1     // run [3,5)
	mem[5+31] = 1  // gap 31 < 32: merged -> [3,37)
	mem[37+32] = 1 // gap 32: new span [69,70)
	mem[255] = 9   // last byte
	got, nz := nonZeroSpans(mem, 32)
	want := []span{{3, 37}, {69, 70}, {255, 256}}
	if !slices.Equal(got, want) || nz != 5 {
		t.Errorf("spans %v (%d non-zero), want %v (5)", got, nz, want)
	}
	if got, nz := nonZeroSpans(make([]byte, 1<<16), 32); len(got) != 0 || nz != 0 {
		t.Errorf("zero memory: %v %d", got, nz)
	}

	rng := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		mem := make([]byte, rng.IntN(5000))
		for range rng.IntN(200) {
			if len(mem) > 0 {
				mem[rng.IntN(len(mem))] = byte(1 + rng.IntN(255))
			}
		}
		gap := 1 + rng.IntN(64)
		got, nz := nonZeroSpans(mem, gap)
		want, wnz := naiveSpans(mem, gap)
		if !slices.Equal(got, want) || nz != wnz {
			t.Fatalf("len %d gap %d: %v/%d, want %v/%d", len(mem), gap, got, nz, want, wnz)
		}
	}
}

func TestCapSpans(t *testing.T) {
	spans := []span{{0, 1}, {10, 11}, {13, 14}, {50, 51}, {52, 53}, {100, 101}}
	// gaps: 9, 2, 36, 1, 47
	if got := capSpans(spans, 10); !slices.Equal(got, spans) {
		t.Errorf("under the cap: %v", got)
	}
	if got, want := capSpans(spans, 4), []span{{0, 1}, {10, 14}, {50, 53}, {100, 101}}; !slices.Equal(got, want) {
		t.Errorf("cap 4: %v, want %v", got, want)
	}
	if got, want := capSpans(spans, 1), []span{{0, 101}}; !slices.Equal(got, want) {
		t.Errorf("cap 1: %v, want %v", got, want)
	}
	// Ties at the threshold merge from the lowest address.
	even := []span{{0, 1}, {5, 6}, {10, 11}, {15, 16}}
	if got, want := capSpans(even, 3), []span{{0, 6}, {10, 11}, {15, 16}}; !slices.Equal(got, want) {
		t.Errorf("ties: %v, want %v", got, want)
	}

	rng := rand.New(rand.NewPCG(3, 4))
	for range 100 {
		var in []span
		at := 0
		for range 1 + rng.IntN(300) {
			at += 1 + rng.IntN(100)
			end := at + 1 + rng.IntN(10)
			in = append(in, span{at, end})
			at = end
		}
		max := 1 + rng.IntN(len(in))
		out := capSpans(slices.Clone(in), max)
		if len(out) != max {
			t.Fatalf("%d spans capped at %d: %d", len(in), max, len(out))
		}
		// Every input span is covered by exactly one output span.
		j := 0
		for _, s := range in {
			for out[j].end < s.end {
				j++
			}
			if out[j].off > s.off {
				t.Fatalf("span %v not covered by %v", s, out[j])
			}
		}
	}
}
