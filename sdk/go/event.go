package wedge

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/wedge-run/wedge/abi"
)

// Kinds of event, as found in Event.Kind.
const (
	KindKV       = "kv"       // a key-value change: KVChange
	KindUpload   = "upload"   // an object uploaded to a bucket: Upload
	KindSchedule = "schedule" // a cron schedule's tick: Tick
	KindQueue    = "queue"    // a batch of queue messages: []Message
)

// Event is one delivery to the function's event entry: the envelope the
// host passes, with the kind-specific part left as raw JSON. Typed
// handlers (OnKVChange, OnUpload, OnSchedule, OnQueue) receive Data
// decoded; HandleEvent receives the Event itself.
type Event struct {
	Kind     string    `json:"kind"`     // KindKV, KindUpload, KindSchedule or KindQueue
	Source   string    `json:"source"`   // what fired it: "kv:chat/msg/", "upload:photos", "queue:orders", ...
	ID       string    `json:"id"`       // the delivery's id, the same on every attempt: use it for idempotency
	Time     time.Time `json:"time"`     // when the fact behind the event happened (the write, the upload, ...)
	Function string    `json:"function"` // the function the event is delivered to
	Trigger  int       `json:"trigger"`  // the index of the trigger in the function's deployment
	Attempt  int       `json:"attempt"`  // 1 on the first delivery, then 2, 3, ... on retries
	// TraceParent is the W3C traceparent of what caused the event on a
	// node with tracing on: the span of the KV write, publish or upload,
	// inside the request that made it (for a queue batch, its first
	// message's); "" when that was not traced, and for schedule ticks.
	// Typed handlers read it with EventFromContext(ctx).TraceParent.
	TraceParent string `json:"traceparent,omitempty"`
	// Data is the kind-specific payload, as JSON; Decode parses it into
	// KVChange, Upload, Tick or a queue batch.
	Data json.RawMessage `json:"data"`
}

// KVChange is the data of a key-value event: a write or delete of a key
// matching a kv trigger's namespace and prefix.
type KVChange struct {
	Namespace  string `json:"namespace"`   // the namespace written (its name, also when it is the function's own)
	Key        string `json:"key"`         // the key written
	Op         string `json:"op"`          // OpPut or OpDelete
	OldVersion uint64 `json:"old_version"` // the key's version before the write (0: it did not exist)
	NewVersion uint64 `json:"new_version"` // its version after the write
	// Value is the value written by a put, when it is at most 64 KiB;
	// larger values are not carried (ValueTooLarge is set): LoadValue
	// reads them from the store.
	Value         []byte `json:"value,omitempty"`
	ValueTooLarge bool   `json:"value_too_large,omitempty"`
}

// Values of KVChange.Op.
const (
	OpPut    = "put"
	OpDelete = "delete"
)

// LoadValue returns the value the change wrote: Value when the event
// carries it, otherwise (ValueTooLarge) the key's current value read with
// KV(Namespace).Get, which may already be newer than NewVersion, or fail
// with ErrNotFound if the key was deleted since. Reading a namespace other
// than the function's own needs a grant (ErrDenied otherwise). A delete
// has no value: LoadValue returns nil, nil.
func (c KVChange) LoadValue() ([]byte, error) {
	if !c.ValueTooLarge {
		return c.Value, nil
	}
	v, _, err := KV(c.Namespace).Get(c.Key)
	return v, err
}

// Upload is the data of an upload event: an object stored in a bucket
// with an upload trigger. Open and ReadAll read its content through the
// object_read host function.
type Upload struct {
	Bucket      string `json:"bucket"`
	Object      string `json:"object"`       // the object's name in the bucket
	Size        int64  `json:"size"`         // in bytes
	ContentType string `json:"content_type"` // as given by the uploader
	SHA256      string `json:"sha256"`       // hex, of the content
}

// Tick is the data of a schedule event.
type Tick struct {
	Cron      string    `json:"cron"`      // the trigger's cron expression
	Timezone  string    `json:"timezone"`  // the zone it is evaluated in ("" or "UTC" for UTC)
	Scheduled time.Time `json:"scheduled"` // the tick's time, which may be a little before now
	Missed    int       `json:"missed"`    // ticks skipped while no node could run them
}

// Message is one queue message of a batch.
type Message struct {
	ID        string    `json:"id"`
	Body      []byte    `json:"body"`
	Attempts  int       `json:"attempts"`  // earlier failed deliveries of this message (0 the first time)
	Published time.Time `json:"published"` // when Publish stored it
	// Queue is the queue the message was published to (the batch's
	// queue).
	Queue string `json:"-"`
}

type queueData struct {
	Queue    string    `json:"queue"`
	Messages []Message `json:"messages"`
}

// Decode parses e.Data into v: a *KVChange, *Upload, *Tick or
// *[]Message matching e.Kind, or any other type JSON can decode into.
func (e Event) Decode(v any) error {
	if msgs, ok := v.(*[]Message); ok {
		var d queueData
		if err := json.Unmarshal(e.Data, &d); err != nil {
			return err
		}
		for i := range d.Messages {
			d.Messages[i].Queue = d.Queue
		}
		*msgs = d.Messages
		return nil
	}
	return json.Unmarshal(e.Data, v)
}

// eventHandlers holds what the module registered; a typed handler takes
// precedence over the generic one for its kind.
type eventHandlers struct {
	generic  func(context.Context, Event) error
	kv       func(context.Context, KVChange) error
	upload   func(context.Context, Upload) error
	schedule func(context.Context, Tick) error
	queue    func(context.Context, []Message) error
}

var (
	eventMu sync.Mutex
	events  eventHandlers
	// dispatch decodes an envelope and runs its handler. Only the
	// registration functions set it, so that a module registering no event
	// handler does not link the JSON decoder (about 0.7 MB of code): the
	// wedge_event export is always there, but then only reads the kind.
	dispatch func(h host, raw []byte) int32
)

// registerEvent applies set under the lock; isNil is the caller's check
// of its handler (a nil func stored in an interface would not be nil).
func registerEvent(isNil bool, set func(*eventHandlers)) {
	if isNil {
		panic("wedge: nil event handler")
	}
	eventMu.Lock()
	set(&events)
	dispatch = dispatchEvent
	eventMu.Unlock()
}

// HandleEvent registers f for every kind of event that has no typed
// handler (OnKVChange, OnUpload, OnSchedule, OnQueue), including kinds a
// newer host may add. A later call replaces an earlier one. Register from
// an init function, as for Handle.
//
// f returns nil once the event is handled. An error (or a panic) fails the
// delivery: the host retries it with backoff, up to the trigger's
// max_attempts, and then moves it to the dead letters. Delivery is at
// least once, so f should be idempotent; Event.ID is the same on every
// attempt.
func HandleEvent(f func(ctx context.Context, e Event) error) {
	registerEvent(f == nil, func(h *eventHandlers) { h.generic = f })
}

// OnKVChange registers f for key-value events (KindKV). A later call
// replaces an earlier one. See HandleEvent for errors and retries.
//
// A kv trigger on the function's own namespace also fires for the
// function's own writes: write to keys outside the trigger's prefix, or
// skip them in f, or the function triggers itself without end.
func OnKVChange(f func(ctx context.Context, c KVChange) error) {
	registerEvent(f == nil, func(h *eventHandlers) { h.kv = f })
}

// OnUpload registers f for upload events (KindUpload). A later call
// replaces an earlier one. See HandleEvent for errors and retries.
func OnUpload(f func(ctx context.Context, u Upload) error) {
	registerEvent(f == nil, func(h *eventHandlers) { h.upload = f })
}

// OnSchedule registers f for schedule ticks (KindSchedule). A later call
// replaces an earlier one. See HandleEvent for errors and retries.
func OnSchedule(f func(ctx context.Context, t Tick) error) {
	registerEvent(f == nil, func(h *eventHandlers) { h.schedule = f })
}

// OnQueue registers f for queue messages (KindQueue), delivered in
// batches of up to the trigger's batch_size. A later call replaces an
// earlier one.
//
// Returning an error fails the whole batch: every message in it is
// delivered again (Message.Attempts counts the failures), and a message
// that used up the trigger's max_attempts is dead-lettered. Messages that
// were handled before the error are therefore seen again; make handling
// idempotent, for example keyed on Message.ID.
func OnQueue(f func(ctx context.Context, msgs []Message) error) {
	registerEvent(f == nil, func(h *eventHandlers) { h.queue = f })
}

func currentEventHandlers() eventHandlers {
	eventMu.Lock()
	defer eventMu.Unlock()
	return events
}

func (h eventHandlers) any() bool {
	return h.generic != nil || h.kv != nil || h.upload != nil || h.schedule != nil || h.queue != nil
}

// typed returns a function that decodes e's data and calls the typed
// handler registered for its kind, or nil.
func (h eventHandlers) typed(e Event) func(context.Context) error {
	switch {
	case e.Kind == KindKV && h.kv != nil:
		return func(ctx context.Context) error {
			var c KVChange
			if err := e.Decode(&c); err != nil {
				return &dataError{err}
			}
			return h.kv(ctx, c)
		}
	case e.Kind == KindUpload && h.upload != nil:
		return func(ctx context.Context) error {
			var u Upload
			if err := e.Decode(&u); err != nil {
				return &dataError{err}
			}
			return h.upload(ctx, u)
		}
	case e.Kind == KindSchedule && h.schedule != nil:
		return func(ctx context.Context) error {
			var t Tick
			if err := e.Decode(&t); err != nil {
				return &dataError{err}
			}
			return h.schedule(ctx, t)
		}
	case e.Kind == KindQueue && h.queue != nil:
		return func(ctx context.Context) error {
			var msgs []Message
			if err := e.Decode(&msgs); err != nil {
				return &dataError{err}
			}
			return h.queue(ctx, msgs)
		}
	case h.generic != nil:
		return func(ctx context.Context) error { return h.generic(ctx, e) }
	}
	return nil
}

// dataError is event data that does not decode into its kind's type.
type dataError struct{ err error }

func (e *dataError) Error() string { return "decoding the event data: " + e.err.Error() }
func (e *dataError) Unwrap() error { return e.err }

type eventKey struct{}

// EventFromContext returns the event being handled, from the context an
// event handler receives: typed handlers use it to see the envelope (ID,
// Attempt, Source, ...). ok is false outside an event handler.
func EventFromContext(ctx context.Context) (e Event, ok bool) {
	p, ok := ctx.Value(eventKey{}).(*Event)
	if !ok {
		return Event{}, false
	}
	return *p, true
}

// What wedge_event returns. The host treats every non-zero value alike
// (the delivery failed and is retried); the values only tell the causes
// apart in the host's "event handler returned N" log line.
const (
	eventOK         int32 = 0
	eventFailed     int32 = 1 // the handler returned an error
	eventPanicked   int32 = 2 // the handler panicked
	eventNoHandler  int32 = 3 // no handler for the event's kind
	eventBadRequest int32 = 4 // the envelope could not be read or decoded
)

// serveEvent handles one delivery: wedge_event's body.
func serveEvent(h host, eventLen int32) int32 {
	raw, err := readEvent(h, eventLen)
	if err != nil {
		hostLog(h, abi.LogError, "wedge: reading the event: "+err.Error())
		return eventBadRequest
	}
	eventMu.Lock()
	d := dispatch
	eventMu.Unlock()
	if d == nil {
		noHandler(h, envelopeField(raw, "kind"), envelopeField(raw, "source"), false)
		return eventNoHandler
	}
	return d(h, raw)
}

// dispatchEvent decodes an envelope and runs the handler of its kind.
func dispatchEvent(h host, raw []byte) int32 {
	var e Event
	if err := json.Unmarshal(raw, &e); err != nil {
		hostLog(h, abi.LogError, "wedge: decoding the event envelope: "+err.Error())
		return eventBadRequest
	}
	hs := currentEventHandlers()
	run := hs.typed(e)
	if run == nil {
		noHandler(h, e.Kind, e.Source, hs.any())
		return eventNoHandler
	}
	ctx, cancel := context.WithCancel(context.WithValue(context.Background(), eventKey{}, &e))
	defer cancel()
	return runEvent(ctx, h, &e, run)
}

// noHandler logs that no handler takes an event of this kind.
func noHandler(h host, kind, source string, someRegistered bool) {
	msg := "wedge: no handler for " + strconv.Quote(kind) + " events (" + source + "): register one with "
	switch kind {
	case KindKV:
		msg += "wedge.OnKVChange"
	case KindUpload:
		msg += "wedge.OnUpload"
	case KindSchedule:
		msg += "wedge.OnSchedule"
	case KindQueue:
		msg += "wedge.OnQueue"
	default:
		msg += "wedge.HandleEvent"
	}
	msg += " from an init function"
	if !someRegistered {
		msg += " (main is not run in a -buildmode=c-shared module)"
	}
	hostLog(h, abi.LogError, msg)
}

// envelopeField extracts a top-level string field of the envelope
// without a JSON decoder, for the log line of a module that registered no
// event handler: best effort, "" when not found. The host writes the
// envelope's own fields before data, so the first match is the
// envelope's.
func envelopeField(raw []byte, name string) string {
	i := bytes.Index(raw, []byte(`"`+name+`"`))
	if i < 0 {
		return ""
	}
	rest := bytes.TrimLeft(raw[i+len(name)+2:], " \t\r\n")
	if len(rest) == 0 || rest[0] != ':' {
		return ""
	}
	rest = bytes.TrimLeft(rest[1:], " \t\r\n")
	if len(rest) == 0 || rest[0] != '"' {
		return ""
	}
	end := bytes.IndexByte(rest[1:], '"')
	if end < 0 || bytes.IndexByte(rest[1:end+1], '\\') >= 0 {
		return ""
	}
	return string(rest[1 : end+1])
}

// runEvent calls the handler, turning an error or a panic into a log line
// and a non-zero result.
func runEvent(ctx context.Context, h host, e *Event, run func(context.Context) error) (rc int32) {
	what := e.Kind + " event " + strconv.Quote(e.ID) + " from " + e.Source + " (attempt " + strconv.Itoa(e.Attempt) + ")"
	defer func() {
		if v := recover(); v != nil {
			stack := make([]byte, 64<<10)
			stack = stack[:runtime.Stack(stack, false)]
			hostLog(h, abi.LogError, "panic handling "+what+": "+panicText(v)+"\n\n"+string(stack))
			rc = eventPanicked
		}
	}()
	if err := run(ctx); err != nil {
		var de *dataError
		if errors.As(err, &de) {
			hostLog(h, abi.LogError, "wedge: "+what+": "+err.Error())
			return eventBadRequest
		}
		hostLog(h, abi.LogError, what+" failed: "+err.Error())
		return eventFailed
	}
	return eventOK
}

// readEvent fetches the envelope with the size-needed protocol; eventLen
// is the host's hint of its length.
func readEvent(h host, eventLen int32) ([]byte, error) {
	buf := make([]byte, max(eventLen, 512))
	for range sizeRetries {
		n := h.eventGet(buf)
		if n < 0 {
			return nil, opError("event get", "", int64(n))
		}
		if int(n) <= len(buf) {
			return buf[:n], nil
		}
		buf = make([]byte, n)
	}
	return nil, localError("event get", "", abi.ErrBusy)
}
