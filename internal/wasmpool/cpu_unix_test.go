//go:build unix

package wasmpool

import (
	"syscall"
	"testing"
	"time"
)

// cpuMeter reports the process's CPU time (user + system, all threads:
// wasmtime, GC, finalizers) per benchmark iteration as cpu-ns/op. On a
// shared machine wall time per op also counts the time the benchmark
// waited for a core, CPU time mostly does not.
type cpuMeter struct{ start time.Duration }

func startCPU() cpuMeter { return cpuMeter{processCPU()} }

func (m cpuMeter) report(b *testing.B) {
	if b.N > 0 {
		b.ReportMetric(float64(processCPU()-m.start)/float64(b.N), "cpu-ns/op")
	}
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
