package benchmarks

import (
	"syscall"
	"testing"
	"time"
)

// rusage is the process's CPU time and minor page faults so far.
type rusage struct {
	cpu    time.Duration
	minflt int64
}

func readRusage() rusage {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return rusage{}
	}
	return rusage{
		cpu:    time.Duration(ru.Utime.Nano() + ru.Stime.Nano()),
		minflt: ru.Minflt,
	}
}

// reportRusage adds the process CPU time (user + system) and the minor
// page faults per iteration since before. On a loaded machine CPU time
// varies less than wall time, and the faults count how many pages of
// guest memory a request maps afresh; both cover the whole process
// (the epoch ticker too), so they are upper bounds for one request.
func reportRusage(b *testing.B, before rusage) {
	after := readRusage()
	n := float64(b.N)
	b.ReportMetric(float64(after.cpu-before.cpu)/n/1e3, "cpu-µs/op")
	b.ReportMetric(float64(after.minflt-before.minflt)/n, "minflt/op")
}
