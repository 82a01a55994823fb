package loadgen

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
)

// Errors saying why CPU pinning is not possible.
var (
	// ErrPinUnsupported is returned where the platform has no CPU affinity
	// call this package knows (everything but Linux).
	ErrPinUnsupported = errors.New("loadgen: CPU pinning is not supported on this platform")
	// ErrTasksetNotFound is returned by PinnedCommand when taskset is not
	// in PATH.
	ErrTasksetNotFound = errors.New("loadgen: taskset not found in PATH")
	// ErrTooFewCPUs is returned by SplitCPUs with fewer than two usable CPUs.
	ErrTooFewCPUs = errors.New("loadgen: fewer than two CPUs available, cannot separate server and generator")
	// ErrBadCPUSet is returned for an empty CPU list or a negative or too
	// large CPU number.
	ErrBadCPUSet = errors.New("loadgen: bad CPU set")
)

// maxCPU is one more than the largest CPU number accepted (the size of the
// kernel's default cpu_set_t).
const maxCPU = 1024

func checkCPUs(cpus []int) error {
	if len(cpus) == 0 {
		return fmt.Errorf("%w: empty", ErrBadCPUSet)
	}
	for _, c := range cpus {
		if c < 0 || c >= maxCPU {
			return fmt.Errorf("%w: cpu %d out of range [0, %d)", ErrBadCPUSet, c, maxCPU)
		}
	}
	return nil
}

// FormatCPUList renders cpus the way taskset -c takes them, e.g. "0,2,3".
func FormatCPUList(cpus []int) string {
	parts := make([]string, len(cpus))
	for i, c := range cpus {
		parts[i] = strconv.Itoa(c)
	}
	return strings.Join(parts, ",")
}

// SplitCPUs divides the CPUs this process may run on into a set for the
// server and a set for the load generator: the first half (rounded down,
// at least one) for the server, the rest for the generator. On a 2-core
// machine that is cpu 0 for the server and cpu 1 for the generator. It
// returns ErrTooFewCPUs when fewer than two CPUs are usable.
func SplitCPUs() (server, generator []int, err error) {
	cpus, err := AllowedCPUs()
	if err != nil {
		return nil, nil, err
	}
	if len(cpus) < 2 {
		return nil, nil, fmt.Errorf("%w: have %v", ErrTooFewCPUs, cpus)
	}
	half := len(cpus) / 2
	return cpus[:half], cpus[half:], nil
}

// PinnedCommand returns a command running name with args on the given
// CPUs, as `taskset -c <cpus> name args...`. The returned command is never
// nil: when pinning is not possible it runs name unpinned, and the error
// (wrapping ErrTasksetNotFound or ErrBadCPUSet) says why, so the caller can
// go on and record that the run was unpinned.
func PinnedCommand(ctx context.Context, cpus []int, name string, args ...string) (*exec.Cmd, error) {
	if err := checkCPUs(cpus); err != nil {
		return exec.CommandContext(ctx, name, args...), err
	}
	taskset, err := exec.LookPath("taskset")
	if err != nil {
		return exec.CommandContext(ctx, name, args...), fmt.Errorf("%w: %v", ErrTasksetNotFound, err)
	}
	full := append([]string{"-c", FormatCPUList(cpus), name}, args...)
	return exec.CommandContext(ctx, taskset, full...), nil
}
