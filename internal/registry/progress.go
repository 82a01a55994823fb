package registry

// Deploy phases reported to DeployRequest.Progress as each starts. A
// WebAssembly module is compiling; then, if it has an initializer (and
// snapshots are on), snapshotting (running the initializer and writing
// the snapshot module) and compiling snapshot (the snapshot is what is
// served). A script is snapshotting (evaluated in the engine), then
// compiling snapshot. The caller reports "ready" once Deploy returns.
const (
	PhaseCompiling         = "compiling"
	PhaseSnapshotting      = "snapshotting"
	PhaseCompilingSnapshot = "compiling snapshot"
)

// say reports a phase to req.Progress, if set.
func (req DeployRequest) say(phase string) {
	if req.Progress != nil {
		req.Progress(phase)
	}
}
