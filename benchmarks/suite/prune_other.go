//go:build !linux

package suite

import (
	"os"
	"time"
)

// lastUsed is fi's modification time where the access time is not read.
func lastUsed(fi os.FileInfo) time.Time { return fi.ModTime() }
