package suite

import (
	"encoding/binary"
	"fmt"
	"os"
)

// cpuLatencyFile is the kernel's CPU latency QoS interface (PM QoS): while
// a process holds it open with a value written, idle CPUs only enter idle
// states whose exit latency is within that many microseconds. 0 keeps them
// polling instead of halting.
var cpuLatencyFile = "/dev/cpu_dma_latency"

// holdIdlePolling asks the kernel to keep idle CPUs polling until release
// is called (--idle-poll).
//
// Why: on loopback the server's socket write runs the generator's receive
// path and wakes the generator's thread. When the generator's CPU is idle
// and halted, that wake-up is an inter-processor interrupt, which in a
// virtual machine costs an exit to the hypervisor, charged to the server's
// CPU. A server slower than the generator leaves the generator idle between
// answers and so pays it on nearly every request; one faster than the
// generator never does. Measured on a 2-core VM, the wake-up was 12% of the
// node's CPU in a JavaScript hello run, and holding this file at 0 doubled
// that series' throughput while leaving the saturated fasthttp baseline
// where it was (docs/RATIONALE.md, "Why can the suite keep idle CPUs
// polling?"). On a real network the wake-up happens on the client's
// machine. The setting is system-wide and ends with the session; opening
// the file needs root.
func holdIdlePolling() (release func(), err error) {
	f, err := os.OpenFile(cpuLatencyFile, os.O_WRONLY, 0)
	if err != nil {
		return nil, fmt.Errorf("--idle-poll: %w", err)
	}
	var zero [4]byte // the limit, an int32 in microseconds
	if _, err := f.Write(zero[:]); err != nil {
		f.Close()
		return nil, fmt.Errorf("--idle-poll: writing %s: %w", cpuLatencyFile, err)
	}
	return func() { f.Close() }, nil
}

// cpuLatencyLimit reads the CPU latency limit in force, in microseconds.
func cpuLatencyLimit() (int32, error) {
	f, err := os.Open(cpuLatencyFile)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var b [4]byte
	if _, err := f.Read(b[:]); err != nil {
		return 0, err
	}
	return int32(binary.NativeEndian.Uint32(b[:])), nil
}
