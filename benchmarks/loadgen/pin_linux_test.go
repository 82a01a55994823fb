//go:build linux

package loadgen

import (
	"errors"
	"slices"
	"testing"

	"golang.org/x/sys/unix"
)

func threadCPUs(t *testing.T, tid int) []int {
	t.Helper()
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(tid, &set); err != nil {
		if errors.Is(err, unix.ESRCH) {
			return nil // thread exited
		}
		t.Fatal(err)
	}
	var cpus []int
	for c := range maxCPU {
		if set.IsSet(c) {
			cpus = append(cpus, c)
		}
	}
	return cpus
}

// Not parallel: it changes the affinity of the whole test process and
// restores it at the end.
func TestPinProcessPinsEveryThread(t *testing.T) {
	all, err := AllowedCPUs()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := PinProcess(all); err != nil {
			t.Errorf("restore affinity: %v", err)
		}
	})
	target := all[len(all)-1:]
	if err := PinProcess(target); err != nil {
		t.Fatalf("PinProcess(%v): %v", target, err)
	}
	tids, err := threadIDs()
	if err != nil {
		t.Fatal(err)
	}
	if len(tids) < 2 {
		t.Fatalf("expected several runtime threads, got %v", tids)
	}
	for _, tid := range tids {
		if got := threadCPUs(t, tid); got != nil && !slices.Equal(got, target) {
			t.Errorf("thread %d runs on %v, want %v", tid, got, target)
		}
	}
	if err := PinProcess(nil); !errors.Is(err, ErrBadCPUSet) {
		t.Errorf("empty set: err = %v", err)
	}
	if err := PinProcess([]int{maxCPU}); !errors.Is(err, ErrBadCPUSet) {
		t.Errorf("out of range: err = %v", err)
	}
}
