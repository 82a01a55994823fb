//go:build !linux

package suite

import "os/exec"

// dieWithParent does nothing where the platform has no parent-death
// signal; the session's cleanups stop the servers.
func dieWithParent(cmd *exec.Cmd) {}
