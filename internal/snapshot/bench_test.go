package snapshot

import (
	"testing"

	"github.com/bytecodealliance/wasmtime-go/v39"
)

// BenchmarkGoReactorInstantiate measures fresh instances of the Go
// reactor with a new store and WASI context each: "ready" ends when the
// instance could serve (after _initialize for the original, right after
// instantiation for the snapshot); "call" adds one compute call. Default
// wasmtime allocator (not pooling), copy-on-write memory images on (the
// default), modules compiled once outside the loop.
//
//	go test -run '^$' -bench GoReactorInstantiate -count 5 ./internal/snapshot/
func BenchmarkGoReactorInstantiate(b *testing.B) {
	orig := goReactorWasm(b)
	snap, _ := goReactorSnapshot(b)
	l := newLinker(b, clock{})
	for _, c := range []struct {
		name string
		wasm []byte
		init bool
	}{
		{"original", orig, true},
		{"snapshot", snap, false},
	} {
		for _, call := range []bool{false, true} {
			name := c.name + "/ready"
			if call {
				name = c.name + "/call"
			}
			b.Run(name, func(b *testing.B) {
				mod := compile(b, c.wasm)
				for b.Loop() {
					store := wasmtime.NewStore(testEngine())
					store.SetWasi(wasmtime.NewWasiConfig())
					inst, err := l.Instantiate(store, mod)
					if err != nil {
						b.Fatal(err)
					}
					if c.init {
						if _, err := inst.GetFunc(store, InitializeExport).Call(store); err != nil {
							b.Fatal(err)
						}
					}
					if call {
						if _, err := inst.GetFunc(store, "compute").Call(store, int32(7)); err != nil {
							b.Fatal(err)
						}
					}
					store.Close()
				}
			})
		}
	}
}

// BenchmarkGoReactorRewrite measures the deploy-time work this package
// does itself (Instrument and Rewrite of the Go reactor with a captured
// state), without running the initializer.
//
//	go test -run '^$' -bench GoReactorRewrite -count 5 ./internal/snapshot/
func BenchmarkGoReactorRewrite(b *testing.B) {
	orig := goReactorWasm(b)
	instr, globals, err := Instrument(orig)
	if err != nil {
		b.Fatal(err)
	}
	st, err := wasiRunner(b, clock{})(instr, globals)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(orig)))
	for b.Loop() {
		if _, _, err := Instrument(orig); err != nil {
			b.Fatal(err)
		}
		if _, err := Rewrite(orig, globals, st); err != nil {
			b.Fatal(err)
		}
	}
}
