package wedge

import "github.com/wedge-run/wedge/abi"

// Publish stores body as a message on queue and returns once the host has
// stored it durably; functions with a queue trigger on that queue receive
// it, in batches, through OnQueue. It works from HTTP and event handlers
// alike. Queue names are 1 to 128 of [A-Za-z0-9._-] (ErrInvalid
// otherwise) and bodies at most 1 MiB (ErrTooLarge, checked before the
// host is called).
//
// A message published by an event handler whose delivery later fails is
// not taken back: the retry publishes it again, so consumers should be
// idempotent.
func Publish(queue string, body []byte) error {
	if len(body) > abi.MaxValueLen {
		return localError("queue publish", queue, abi.ErrTooLarge)
	}
	if rc := sys.queuePublish(queue, body); rc < 0 {
		return opError("queue publish", queue, int64(rc))
	}
	return nil
}
