package suite

import (
	"os"
	"syscall"
	"time"
)

// lastUsed is the later of fi's access and modification times. With
// relatime (Linux's default) a read updates the access time at least
// once a day, which is all a 30-day limit needs.
func lastUsed(fi os.FileInfo) time.Time {
	t := fi.ModTime()
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		if a := time.Unix(st.Atim.Sec, st.Atim.Nsec); a.After(t) {
			return a
		}
	}
	return t
}
