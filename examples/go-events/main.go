// Command go-events is a wedge function run by triggers rather than (only)
// by HTTP requests. It handles one event of each kind, keeping what it saw
// in its own key-value namespace:
//
//	kv change   seen/<key>    = the new value (deleted when the key is)
//	upload      upload/<name> = "<size> <sha256>", read back from the object
//	schedule    ticks         = the number of ticks
//	queue       msg/<id>      = the message body; a body "fail" fails the batch
//
// and it serves POST /publish/{queue}, which publishes the request body to
// a queue. Triggers are declared at deploy time, in wedge.toml:
//
//	[functions.events]
//	module = "go-events/go-events.wasm"
//	routes = ["/publish/..."]
//
//	[[functions.events.triggers]]
//	kind = "kv"
//	prefix = "watch/"            # its own namespace, under watch/
//
//	[[functions.events.triggers]]
//	kind = "upload"
//	bucket = "files"
//
//	[[functions.events.triggers]]
//	kind = "schedule"
//	cron = "*/5 * * * *"
//
//	[[functions.events.triggers]]
//	kind = "queue"
//	queue = "jobs"
//	batch_size = 10
//
// Build:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o go-events.wasm .
package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	wedge "github.com/wedge-run/wedge/sdk/go"
)

func init() {
	// Registered from init: a -buildmode=c-shared module runs init
	// functions in _initialize but never calls main. One module may handle
	// HTTP requests and every kind of event.
	wedge.OnKVChange(onKVChange)
	wedge.OnUpload(onUpload)
	wedge.OnSchedule(onTick)
	wedge.OnQueue(onQueue)
	wedge.Handle(newMux())
}

func main() {} // never run in a -buildmode=c-shared module

// kvStore is the part of *wedge.Store the handlers use; tests replace it
// with a map, since natively there is no wedge host.
type kvStore interface {
	Put(key string, value []byte, opts ...wedge.Option) (uint64, error)
	Delete(key string, opts ...wedge.Option) error
	Increment(key string, delta int64) (int64, error)
}

var (
	store kvStore = wedge.KV("") // the function's own namespace
	// openObject reads an uploaded object (through object_read).
	openObject = wedge.Upload.Open
)

const (
	seenPrefix   = "seen/"
	uploadPrefix = "upload/"
	msgPrefix    = "msg/"
	ticksKey     = "ticks"
	maxKeyLen    = 512
)

// onKVChange mirrors a changed key under seen/. Delivery is at least
// once, and the handler is idempotent: a repeated event writes the same
// marker again.
func onKVChange(ctx context.Context, c wedge.KVChange) error {
	if strings.HasPrefix(c.Key, seenPrefix) {
		// Our own marker: a trigger on our own namespace without a
		// prefix would otherwise fire for every marker we write.
		return nil
	}
	marker := seenPrefix + c.Key
	if len(marker) > maxKeyLen {
		wedge.Logger().Warn("key too long to mark", "key", c.Key)
		return nil // a retry cannot do better
	}
	if c.Op == wedge.OpDelete {
		return store.Delete(marker)
	}
	v, err := c.LoadValue() // reads the store only for values over 64 KiB
	if errors.Is(err, wedge.ErrNotFound) {
		return nil // deleted since: its own delete event follows
	}
	if err != nil {
		return err
	}
	_, err = store.Put(marker, v)
	return err
}

// onUpload reads the uploaded object back, hashing it as it streams, and
// records its size and SHA-256.
func onUpload(ctx context.Context, u wedge.Upload) error {
	h := sha256.New()
	n, err := io.Copy(h, openObject(u))
	if err != nil {
		return fmt.Errorf("reading %s/%s: %w", u.Bucket, u.Object, err)
	}
	sum := hex.EncodeToString(h.Sum(nil))
	if n != u.Size || sum != u.SHA256 {
		// The object was replaced since the event: record what we read;
		// the newer upload has an event of its own.
		wedge.Logger().Warn("object differs from the event", "object", u.Object,
			"event_size", u.Size, "size", n, "event_sha256", u.SHA256, "sha256", sum)
	}
	_, err = store.Put(uploadPrefix+u.Object, []byte(strconv.FormatInt(n, 10)+" "+sum))
	return err
}

// onTick counts schedule ticks. A retried tick counts twice: a counter is
// not idempotent, which is fine for this example.
func onTick(ctx context.Context, t wedge.Tick) error {
	n, err := store.Increment(ticksKey, 1)
	if err != nil {
		return err
	}
	wedge.Logger().Info("tick", "n", n, "scheduled", t.Scheduled, "missed", t.Missed)
	return nil
}

// onQueue stores each message of the batch. A message whose body is
// "fail" fails the whole batch: every message in it is delivered again,
// up to the trigger's max_attempts, then dead-lettered. Messages stored
// before the failure are stored again on the retry, which is harmless
// because msg/<id> always gets the same body.
func onQueue(ctx context.Context, msgs []wedge.Message) error {
	for _, m := range msgs {
		if string(m.Body) == "fail" {
			return fmt.Errorf("message %s (attempt %d) asked to fail", m.ID, m.Attempts+1)
		}
		if _, err := store.Put(msgPrefix+m.ID, m.Body); err != nil {
			return err
		}
	}
	return nil
}

// publish is an HTTP handler: POST /publish/{queue} publishes the body.
func publish(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil {
		http.Error(w, "a message is at most 1 MiB", http.StatusRequestEntityTooLarge)
		return
	}
	switch err := wedge.Publish(r.PathValue("queue"), body); {
	case err == nil:
		w.WriteHeader(http.StatusAccepted)
	case errors.Is(err, wedge.ErrInvalid):
		http.Error(w, "invalid queue name", http.StatusBadRequest)
	case errors.Is(err, wedge.ErrTooLarge):
		http.Error(w, "a message is at most 1 MiB", http.StatusRequestEntityTooLarge)
	default:
		http.Error(w, "queue unavailable: "+err.Error(), http.StatusServiceUnavailable)
	}
}

func newMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /publish/{queue}", publish)
	return mux
}
