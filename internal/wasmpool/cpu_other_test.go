//go:build !unix

package wasmpool

import "testing"

type cpuMeter struct{}

func startCPU() cpuMeter           { return cpuMeter{} }
func (cpuMeter) report(*testing.B) {}
