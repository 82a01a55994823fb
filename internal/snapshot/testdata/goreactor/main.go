// Command goreactor is a WASI reactor used by the snapshot tests. Its
// package initialisation builds state (a map, a slice, a string) that the
// exported functions read, so a snapshot that lost any of it would change
// their results.
package main

import (
	crand "crypto/rand"
	"encoding/binary"
	mrand "math/rand/v2"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"
)

var (
	squares  map[int32]int32 // filled in init
	primes   []int32         // filled in init
	words    []string        // filled in init
	initWall int64           // wall clock read during init
	initMono time.Time       // time.Now() during init, with its monotonic reading
	calls    int32           // per-instance call counter
)

func init() {
	squares = make(map[int32]int32, 1000)
	for i := int32(0); i < 1000; i++ {
		squares[i] = i * i % 7919
	}
	primes = sieve(20000)
	for i := 0; i < 200; i++ {
		words = append(words, strings.Repeat(strconv.Itoa(i), 1+i%5))
	}
	sort.Strings(words)
	initMono = time.Now()
	initWall = initMono.UnixNano()
}

func sieve(n int) []int32 {
	composite := make([]bool, n)
	var out []int32
	for i := 2; i < n; i++ {
		if composite[i] {
			continue
		}
		out = append(out, int32(i))
		for j := i * i; j < n; j += i {
			composite[j] = true
		}
	}
	return out
}

// compute mixes the init-time map, slice and strings with x, allocating
// along the way (a fresh map and slice per call).
//
//go:wasmexport compute
func compute(x int32) int32 {
	calls++
	u := uint32(x)
	v := squares[int32(u%1000)]
	local := make(map[string]int32)
	var acc []int32
	for i := uint32(0); i < 32; i++ {
		p := primes[(u+i*7)%uint32(len(primes))]
		w := words[(u+i)%uint32(len(words))]
		local[w] += p
		acc = append(acc, int32((u+uint32(v))%uint32(p)))
	}
	var s int32
	for _, a := range acc {
		s = s*31 + a
	}
	keys := make([]string, 0, len(local))
	for k := range local {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		s = s*17 + local[k] + int32(len(k))
	}
	return s
}

// churn allocates n small objects, forces a collection and checks that
// the survivors are intact.
//
//go:wasmexport churn
func churn(n int32) int32 {
	keep := make([][]byte, 0, n/8+1)
	for i := int32(0); i < n; i++ {
		b := make([]byte, 64+int(i%512))
		b[0] = byte(i)
		if i%8 == 0 {
			keep = append(keep, b)
		}
	}
	runtime.GC()
	for i, b := range keep {
		if b[0] != byte(i*8) {
			return -1
		}
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	if ms.NumGC == 0 {
		return -2
	}
	return int32(len(keep))
}

// fanout sums 1..n across n goroutines joined by a channel.
//
//go:wasmexport fanout
func fanout(n int32) int32 {
	ch := make(chan int32)
	for i := int32(1); i <= n; i++ {
		go func(v int32) {
			runtime.Gosched()
			ch <- v
		}(i)
	}
	var sum int32
	for i := int32(0); i < n; i++ {
		sum += <-ch
	}
	return sum
}

// sleepNanos sleeps for d nanoseconds and reports the elapsed monotonic
// time, exercising timers and the clock.
//
//go:wasmexport sleep_nanos
func sleepNanos(d int64) int64 {
	start := time.Now()
	time.Sleep(time.Duration(d))
	return int64(time.Since(start))
}

// now_unix reports time.Now() as Unix nanoseconds.
//
//go:wasmexport now_unix
func nowUnix() int64 { return time.Now().UnixNano() }

// init_wall reports the wall clock read during package initialisation.
//
//go:wasmexport init_wall
func initWallNanos() int64 { return initWall }

// since_init reports time.Since of the init-time time.Now().
//
//go:wasmexport since_init
func sinceInit() int64 { return int64(time.Since(initMono)) }

// math_rand reports a value from the runtime-seeded math/rand/v2 source.
//
//go:wasmexport math_rand
func mathRand() int64 { return mrand.Int64() }

// crypto_rand reports a value read from crypto/rand (random_get per call).
//
//go:wasmexport crypto_rand
func cryptoRand() int64 {
	var b [8]byte
	if _, err := crand.Read(b[:]); err != nil {
		return 0
	}
	return int64(binary.LittleEndian.Uint64(b[:]))
}

// map_order reports a fingerprint of a map's iteration order, which the
// runtime randomises per map.
//
//go:wasmexport map_order
func mapOrder() int64 {
	m := make(map[int]int, 64)
	for i := 0; i < 64; i++ {
		m[i] = i
	}
	var h int64
	for k := range m {
		h = h*131 + int64(k)
	}
	return h
}

// call_count reports how many times compute ran in this instance.
//
//go:wasmexport call_count
func callCount() int32 { return calls }

func main() {}
