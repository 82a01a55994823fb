// Package atomicfile replaces files atomically and durably: a reader sees
// the old content or the new, never a mix, and after a crash the file
// holds one of them (the temporary file is synced before the rename, the
// directory after it). It is the one implementation of
// write-temp-then-rename for the node's keyring, the compiled-artifact
// cache and the event objects' blobs.
package atomicfile
