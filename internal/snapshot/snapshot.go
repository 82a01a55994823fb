package snapshot

import (
	"fmt"
	"time"
)

// Runner runs a module's initializer and captures the state it leaves. It
// is supplied by the caller, which owns the engine and host functions:
// instantiate instrumented with the real imports (running its start
// function, if any), call InitializeExport if it is exported, then read
// each global in globals from its ExportName and copy the memory exported
// as MemoryExport (if the module has one) into a State. The store must not
// be reused afterwards.
type Runner func(instrumented []byte, globals []GlobalInfo) (State, error)

// Stats describes one Snapshot.
type Stats struct {
	MemoryBytes  int           // size of the captured linear memory
	NonZeroBytes int           // non-zero bytes in it
	Segments     int           // active data segments in the output
	SegmentBytes int           // bytes they hold: the non-zero bytes plus merged zero gaps
	InputBytes   int           // size of the original module
	OutputBytes  int           // size of the rewritten module
	RunDuration  time.Duration // time spent in the Runner
	Duration     time.Duration // the whole Snapshot call
}

// Snapshot pre-initializes wasm: it instruments the module, has run
// execute the initializer on the instrumented copy, and rewrites the
// original with the captured state. The result needs no _initialize call;
// see the package documentation for what is and is not carried over.
func Snapshot(wasm []byte, run Runner) (out []byte, stats Stats, err error) {
	start := time.Now()
	stats.InputBytes = len(wasm)
	instrumented, globals, err := Instrument(wasm)
	if err != nil {
		return nil, stats, err
	}
	runStart := time.Now()
	st, err := run(instrumented, globals)
	stats.RunDuration = time.Since(runStart)
	if err != nil {
		return nil, stats, fmt.Errorf("snapshot: running the initializer: %w", err)
	}
	out, lay, err := rewrite(wasm, globals, st)
	if err != nil {
		return nil, stats, err
	}
	stats.MemoryBytes = len(st.Memory)
	stats.NonZeroBytes = lay.nonZero
	stats.Segments = lay.segments
	stats.SegmentBytes = lay.segmentBytes
	stats.OutputBytes = len(out)
	stats.Duration = time.Since(start)
	return out, stats, nil
}
