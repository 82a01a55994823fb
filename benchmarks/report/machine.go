package report

import (
	"bufio"
	"io"
	"maps"
	"os"
	"runtime"
	"strings"
	"time"
)

// Clock tells the time; tests pass a fixed one.
type Clock interface{ Now() time.Time }

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

// CollectMachine describes this machine: CPU count and model (from
// /proc/cpuinfo where it exists), Go version, OS and architecture, the
// clock's current time in UTC, and a copy of versions. A nil clock means
// the system clock.
func CollectMachine(clock Clock, versions map[string]string) Machine {
	if clock == nil {
		clock = systemClock{}
	}
	m := Machine{
		Cores:     runtime.NumCPU(),
		CPUModel:  "unknown",
		GoVersion: runtime.Version(),
		OS:        runtime.GOOS,
		Arch:      runtime.GOARCH,
		Date:      clock.Now().UTC().Truncate(time.Second),
		Versions:  maps.Clone(versions),
	}
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		defer f.Close()
		if model := parseCPUModel(f); model != "" {
			m.CPUModel = model
		}
	}
	return m
}

// parseCPUModel returns the CPU model named in a /proc/cpuinfo listing:
// "model name" on x86, else "Hardware", "cpu model", "Processor" or "cpu"
// as other architectures spell it; "" if none.
func parseCPUModel(r io.Reader) string {
	found := map[string]string{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		key, val = strings.TrimSpace(key), strings.TrimSpace(val)
		if _, dup := found[key]; !dup && val != "" {
			found[key] = val
		}
	}
	for _, key := range []string{"model name", "Hardware", "cpu model", "Processor", "cpu"} {
		if v := found[key]; v != "" {
			return v
		}
	}
	return ""
}
