package hlc

import (
	"bytes"
	"encoding"
	"errors"
	"math"
	"math/rand/v2"
	"sync"
	"testing"
	"time"
)

// fakeWall is a settable wall clock.
type fakeWall struct {
	mu sync.Mutex
	t  time.Time
}

func (f *fakeWall) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.t
}

func (f *fakeWall) set(t time.Time) {
	f.mu.Lock()
	f.t = t
	f.mu.Unlock()
}

var base = time.UnixMilli(1_700_000_000_000)

var (
	_ encoding.BinaryMarshaler   = Timestamp{}
	_ encoding.BinaryAppender    = Timestamp{}
	_ encoding.BinaryUnmarshaler = (*Timestamp)(nil)
)

func TestNowFollowsWallClock(t *testing.T) {
	w := &fakeWall{t: base}
	c := New(w)
	if got := c.Last(); !got.IsZero() {
		t.Fatalf("Last of new clock = %v, want zero", got)
	}
	a := c.Now()
	if a != (Timestamp{Wall: base.UnixMilli()}) {
		t.Fatalf("first Now = %+v", a)
	}
	b := c.Now()
	if b != (Timestamp{Wall: base.UnixMilli(), Logical: 1}) {
		t.Fatalf("second Now in same ms = %+v", b)
	}
	w.set(base.Add(5 * time.Millisecond))
	d := c.Now()
	if d != (Timestamp{Wall: base.UnixMilli() + 5}) {
		t.Fatalf("Now after wall advanced = %+v", d)
	}
	if c.Last() != d {
		t.Fatalf("Last = %v, want %v", c.Last(), d)
	}
}

func TestNowMonotonicWhenWallGoesBack(t *testing.T) {
	w := &fakeWall{t: base}
	c := New(w)
	a := c.Now()
	w.set(base.Add(-time.Hour))
	b := c.Now()
	if !a.Less(b) {
		t.Fatalf("clock went backwards: %v then %v", a, b)
	}
	if b.Wall != a.Wall || b.Logical != a.Logical+1 {
		t.Fatalf("want logical tick, got %+v after %+v", b, a)
	}
}

func TestLogicalOverflowAdvancesWall(t *testing.T) {
	w := &fakeWall{t: base}
	c := New(w)
	c.last = Timestamp{Wall: base.UnixMilli(), Logical: math.MaxUint32}
	got := c.Now()
	if got != (Timestamp{Wall: base.UnixMilli() + 1}) {
		t.Fatalf("Now after overflow = %+v", got)
	}
	c.last = Timestamp{Wall: base.UnixMilli(), Logical: math.MaxUint32}
	got = c.Update(Timestamp{Wall: base.UnixMilli(), Logical: math.MaxUint32})
	if got != (Timestamp{Wall: base.UnixMilli() + 1}) {
		t.Fatalf("Update after overflow = %+v", got)
	}
}

func TestUpdate(t *testing.T) {
	ms := base.UnixMilli()
	cases := []struct {
		name   string
		wall   int64 // physical ms
		last   Timestamp
		remote Timestamp
		want   Timestamp
	}{
		{"wall ahead of both", ms + 10, Timestamp{Wall: ms, Logical: 4}, Timestamp{Wall: ms + 5, Logical: 9}, Timestamp{Wall: ms + 10, Logical: 0}},
		{"remote ahead", ms, Timestamp{Wall: ms, Logical: 4}, Timestamp{Wall: ms + 50, Logical: 7}, Timestamp{Wall: ms + 50, Logical: 8}},
		{"local ahead", ms, Timestamp{Wall: ms + 20, Logical: 4}, Timestamp{Wall: ms + 10, Logical: 70}, Timestamp{Wall: ms + 20, Logical: 5}},
		{"same wall, remote logical larger", ms, Timestamp{Wall: ms, Logical: 4}, Timestamp{Wall: ms, Logical: 9}, Timestamp{Wall: ms, Logical: 10}},
		{"same wall, local logical larger", ms, Timestamp{Wall: ms, Logical: 12}, Timestamp{Wall: ms, Logical: 9}, Timestamp{Wall: ms, Logical: 13}},
		{"same wall as physical", ms, Timestamp{Wall: ms - 3, Logical: 1}, Timestamp{Wall: ms, Logical: 2}, Timestamp{Wall: ms, Logical: 3}},
		{"zero remote", ms, Timestamp{}, Timestamp{}, Timestamp{Wall: ms, Logical: 0}},
		{"all equal", ms, Timestamp{Wall: ms, Logical: 0}, Timestamp{Wall: ms, Logical: 0}, Timestamp{Wall: ms, Logical: 1}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := New(&fakeWall{t: time.UnixMilli(tc.wall)})
			c.last = tc.last
			got := c.Update(tc.remote)
			if got != tc.want {
				t.Fatalf("Update(%+v) with last %+v, wall %d = %+v, want %+v", tc.remote, tc.last, tc.wall, got, tc.want)
			}
			if !tc.remote.Less(got) || !tc.last.Less(got) {
				t.Fatalf("Update result %+v not after both inputs", got)
			}
			if n := c.Now(); !got.Less(n) {
				t.Fatalf("Now %+v not after Update result %+v", n, got)
			}
		})
	}
}

// TestCausality simulates nodes with skewed wall clocks exchanging
// messages: a receive is always stamped after the matching send, and each
// node's stamps strictly increase.
func TestCausality(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	const nodes = 4
	walls := make([]*fakeWall, nodes)
	clocks := make([]*Clock, nodes)
	lastSeen := make([]Timestamp, nodes)
	for i := range nodes {
		walls[i] = &fakeWall{t: base.Add(time.Duration(r.IntN(2000)-1000) * time.Millisecond)}
		clocks[i] = New(walls[i])
	}
	for range 20000 {
		i := r.IntN(nodes)
		// wall clocks wander, sometimes backwards
		walls[i].set(walls[i].Now().Add(time.Duration(r.IntN(7)-2) * time.Millisecond))
		var ts Timestamp
		if r.IntN(2) == 0 {
			ts = clocks[i].Now()
		} else {
			j := r.IntN(nodes)
			sent := clocks[j].Now()
			if sent.Compare(lastSeen[j]) <= 0 {
				t.Fatalf("node %d not monotonic: %v after %v", j, sent, lastSeen[j])
			}
			lastSeen[j] = sent
			ts = clocks[i].Update(sent)
			if !sent.Less(ts) {
				t.Fatalf("receive %v not after send %v", ts, sent)
			}
		}
		if ts.Compare(lastSeen[i]) <= 0 {
			t.Fatalf("node %d not monotonic: %v after %v", i, ts, lastSeen[i])
		}
		lastSeen[i] = ts
	}
}

func TestConcurrentNowUnique(t *testing.T) {
	c := New(&fakeWall{t: base}) // frozen wall: uniqueness comes from the logical part
	const g, n = 8, 500
	var mu sync.Mutex
	seen := make(map[Timestamp]bool, g*n)
	var wg sync.WaitGroup
	for range g {
		wg.Go(func() {
			local := make([]Timestamp, 0, n)
			prev := Timestamp{}
			for range n {
				ts := c.Now()
				if !prev.Less(ts) {
					t.Errorf("not increasing: %v then %v", prev, ts)
					return
				}
				prev = ts
				local = append(local, ts)
			}
			mu.Lock()
			defer mu.Unlock()
			for _, ts := range local {
				if seen[ts] {
					t.Errorf("duplicate timestamp %v", ts)
				}
				seen[ts] = true
			}
		})
	}
	wg.Wait()
	if len(seen) != g*n {
		t.Fatalf("got %d unique timestamps, want %d", len(seen), g*n)
	}
}

func TestSystemClock(t *testing.T) {
	c := New(nil)
	before := time.Now().UnixMilli()
	ts := c.Now()
	after := time.Now().UnixMilli()
	if ts.Wall < before || ts.Wall > after {
		t.Fatalf("system clock stamp %v outside [%d, %d]", ts, before, after)
	}
}

func TestCompare(t *testing.T) {
	ordered := []Timestamp{{}, {Wall: 0, Logical: 1}, {Wall: 1, Logical: 0}, {Wall: 1, Logical: 1}, {Wall: 1, Logical: math.MaxUint32}, {Wall: 2, Logical: 0}, {Wall: math.MaxInt64, Logical: math.MaxUint32}}
	for i, a := range ordered {
		for j, b := range ordered {
			want := 0
			if i < j {
				want = -1
			} else if i > j {
				want = 1
			}
			if got := a.Compare(b); got != want {
				t.Errorf("%+v.Compare(%+v) = %d, want %d", a, b, got, want)
			}
			if got := a.Less(b); got != (want < 0) {
				t.Errorf("%+v.Less(%+v) = %v", a, b, got)
			}
			// the encoding sorts the same way
			if got := bytes.Compare(a.Append(nil), b.Append(nil)); got != want {
				t.Errorf("bytes.Compare of encodings of %+v and %+v = %d, want %d", a, b, got, want)
			}
		}
	}
	if !(Timestamp{}).IsZero() || (Timestamp{Logical: 1}).IsZero() || (Timestamp{Wall: 1}).IsZero() {
		t.Fatal("IsZero wrong")
	}
}

func TestEncoding(t *testing.T) {
	for _, ts := range []Timestamp{{}, {Wall: base.UnixMilli(), Logical: 42}, {Wall: math.MaxInt64, Logical: math.MaxUint32}, {Wall: 1, Logical: 0}} {
		b, err := ts.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		if len(b) != EncodedLen {
			t.Fatalf("encoded length %d", len(b))
		}
		var got Timestamp
		if err := got.UnmarshalBinary(b); err != nil {
			t.Fatal(err)
		}
		if got != ts {
			t.Fatalf("round trip %+v -> %+v", ts, got)
		}
		pre := []byte("xy")
		ab, err := ts.AppendBinary(pre)
		if err != nil || !bytes.Equal(ab[:2], pre) || !bytes.Equal(ab[2:], b) {
			t.Fatalf("AppendBinary = %x, %v", ab, err)
		}
	}
	want := []byte{0, 0, 1, 0x8b, 0xcf, 0xe5, 0x68, 0x00, 0, 0, 0, 7}
	if got := (Timestamp{Wall: base.UnixMilli(), Logical: 7}).Append(nil); !bytes.Equal(got, want) {
		t.Fatalf("encoding = %x, want %x", got, want)
	}
}

func TestDecodeErrors(t *testing.T) {
	for _, b := range [][]byte{nil, make([]byte, 11), make([]byte, 13), {0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}} {
		if _, err := Decode(b); !errors.Is(err, ErrInvalidEncoding) {
			t.Errorf("Decode(%x) err = %v, want ErrInvalidEncoding", b, err)
		}
		var ts Timestamp
		if err := ts.UnmarshalBinary(b); !errors.Is(err, ErrInvalidEncoding) {
			t.Errorf("UnmarshalBinary(%x) err = %v", b, err)
		}
	}
	if _, err := (Timestamp{Wall: -1}).MarshalBinary(); !errors.Is(err, ErrInvalidEncoding) {
		t.Errorf("MarshalBinary of negative wall err = %v", err)
	}
}

func TestStringAndTime(t *testing.T) {
	ts := Timestamp{Wall: time.Date(2024, 5, 1, 12, 0, 0, 123e6, time.UTC).UnixMilli(), Logical: 3}
	if got, want := ts.String(), "2024-05-01T12:00:00.123Z/3"; got != want {
		t.Fatalf("String = %q, want %q", got, want)
	}
	if !ts.Time().Equal(time.Date(2024, 5, 1, 12, 0, 0, 123e6, time.UTC)) {
		t.Fatalf("Time = %v", ts.Time())
	}
	if got := FromTime(time.Date(2024, 5, 1, 12, 0, 0, 123_999_999, time.UTC)); got != (Timestamp{Wall: ts.Wall}) {
		t.Fatalf("FromTime = %+v", got)
	}
}
