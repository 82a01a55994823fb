//go:build wasip1 && !wedge_nowarm

package wedge

// The warm-up runs in every wasip1 build; -tags wedge_nowarm leaves it
// out, to measure what it saves (docs/RATIONALE.md).
func init() { warmUp() }
