package registry

// Deploy phases reported to DeployRequest.Progress, in order. A deploy
// reports compiling, then snapshotting for a module that has an
// initializer (or a script); the caller reports "ready" once Deploy
// returns.
const (
	PhaseCompiling    = "compiling"
	PhaseSnapshotting = "snapshotting"
)

// say reports a phase to req.Progress, if set.
func (req DeployRequest) say(phase string) {
	if req.Progress != nil {
		req.Progress(phase)
	}
}
