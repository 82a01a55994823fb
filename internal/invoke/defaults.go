package invoke

import (
	"fmt"
	"os"
	goruntime "runtime"
	"strings"
)

// DefaultConcurrency is the node-wide invocation limit when none is set:
// 8 per core, and no more than one per 32 MiB of memory. Guests are
// CPU-bound between host calls, so instances beyond a few per core only
// share the same cores more finely: measured with the node pinned to one
// core (benchmarks/overload_test.go), 64 slots per core let throughput
// fall to a sixth under 10x offered load, while 8 kept three quarters of
// peak (docs/RATIONALE.md). I/O-heavy functions (long sleeps, slow host
// calls) can raise it with --max-concurrency, or let --adaptive find it.
func DefaultConcurrency() int {
	n := 8 * goruntime.NumCPU()
	if mem := totalMemory(); mem > 0 {
		n = min(n, int(mem/(32<<20)))
	}
	return max(n, 2)
}

// DefaultMemoryBudget is the node's memory budget when none is set: half
// the machine's memory (no budget if it cannot be read). The other half is
// left to the node's own heap, compiled code, the page cache and the rest
// of the machine.
func DefaultMemoryBudget() int64 { return totalMemory() / 2 }

// totalMemory reads the machine's memory from /proc/meminfo (0 if unknown).
func totalMemory() int64 {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "MemTotal:"); ok {
			var kb int64
			fmt.Sscan(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), &kb)
			return kb << 10
		}
	}
	return 0
}
