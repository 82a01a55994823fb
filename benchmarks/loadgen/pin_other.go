//go:build !linux

package loadgen

import "runtime"

// AllowedCPUs returns 0..NumCPU-1: without an affinity call every CPU is
// assumed usable.
func AllowedCPUs() ([]int, error) {
	cpus := make([]int, runtime.NumCPU())
	for i := range cpus {
		cpus[i] = i
	}
	return cpus, nil
}

// PinProcess returns ErrPinUnsupported: pinning is implemented on Linux
// only.
func PinProcess(cpus []int) error {
	if err := checkCPUs(cpus); err != nil {
		return err
	}
	return ErrPinUnsupported
}
