package wedge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wedge-run/wedge/abi"
)

// setEvents replaces the registered event handlers for one test.
func setEvents(t *testing.T, h eventHandlers) {
	t.Helper()
	eventMu.Lock()
	old, oldDispatch := events, dispatch
	events, dispatch = h, nil
	if h.any() {
		dispatch = dispatchEvent
	}
	eventMu.Unlock()
	t.Cleanup(func() {
		eventMu.Lock()
		events, dispatch = old, oldDispatch
		eventMu.Unlock()
	})
}

// envelope builds an event envelope as the host encodes it; data is
// spliced in as raw JSON.
func envelope(kind, data string) []byte {
	return []byte(`{"kind":"` + kind + `","source":"` + kind + `:src","id":"42","time":"2026-11-26T08:00:00Z",` +
		`"function":"notify","trigger":1,"attempt":2,"traceparent":"` + testTraceParent + `","data":` + data + `}`)
}

// deliver runs wedge_event with env through the fake host.
func (f *fakeHost) deliver(t *testing.T, env []byte) int32 {
	t.Helper()
	f.install(t)
	f.event = env
	return serveEvent(f, int32(len(env)))
}

const (
	testTraceParent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	kvData          = `{"namespace":"chat","key":"msg/1","op":"put","old_version":3,"new_version":4,"value":"aGVsbG8="}`
	uploadData      = `{"bucket":"photos","object":"cat.jpg","size":5,"content_type":"image/jpeg","sha256":"abc"}`
	scheduleData    = `{"cron":"*/5 * * * *","timezone":"Europe/Paris","scheduled":"2026-11-26T09:00:00+01:00","missed":2}`
	queueData1      = `{"queue":"orders","messages":[` +
		`{"id":"m1","body":"b25l","attempts":0,"published":"2026-11-26T07:59:00Z"},` +
		`{"id":"m2","body":"","attempts":1,"published":"2026-11-26T07:59:30.5Z"},` +
		`{"id":"m3","body":null,"attempts":2,"published":"2026-11-26T07:59:31Z"}]}`
)

func TestEventDispatchByKind(t *testing.T) {
	var got []string
	setEvents(t, eventHandlers{})
	OnKVChange(func(ctx context.Context, c KVChange) error {
		got = append(got, "kv:"+c.Key)
		if e, _ := EventFromContext(ctx); e.TraceParent != testTraceParent {
			t.Errorf("the kv handler sees traceparent %q", e.TraceParent)
		}
		return nil
	})
	OnUpload(func(ctx context.Context, u Upload) error { got = append(got, "upload:"+u.Object); return nil })
	OnSchedule(func(ctx context.Context, tk Tick) error { got = append(got, "schedule:"+tk.Cron); return nil })
	OnQueue(func(ctx context.Context, msgs []Message) error {
		got = append(got, fmt.Sprintf("queue:%d", len(msgs)))
		return nil
	})
	HandleEvent(func(ctx context.Context, e Event) error { got = append(got, "generic:"+e.Kind); return nil })
	for _, env := range [][]byte{
		envelope(KindKV, kvData),
		envelope(KindUpload, uploadData),
		envelope(KindSchedule, scheduleData),
		envelope(KindQueue, queueData1),
		envelope("future", `{"x":1}`),
	} {
		f := newFake()
		if rc := f.deliver(t, env); rc != 0 {
			t.Errorf("%s: rc = %d, logs:\n%s", env, rc, f.logText())
		}
	}
	want := "kv:msg/1 upload:cat.jpg schedule:*/5 * * * * queue:3 generic:future"
	if s := strings.Join(got, " "); s != want {
		t.Errorf("dispatched %q, want %q", s, want)
	}
}

func TestGenericHandlerGetsTheEnvelope(t *testing.T) {
	setEvents(t, eventHandlers{})
	var got Event
	HandleEvent(func(ctx context.Context, e Event) error { got = e; return nil })
	f := newFake()
	if rc := f.deliver(t, envelope(KindKV, kvData)); rc != 0 {
		t.Fatalf("rc = %d, logs:\n%s", rc, f.logText())
	}
	want := Event{Kind: "kv", Source: "kv:src", ID: "42", Time: time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC),
		Function: "notify", Trigger: 1, Attempt: 2, TraceParent: testTraceParent}
	data := got.Data
	got.Data = nil
	if !got.Time.Equal(want.Time) {
		t.Errorf("time %v", got.Time)
	}
	got.Time = want.Time
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("event %+v, want %+v", got, want)
	}
	if string(data) != kvData {
		t.Errorf("data %s", data)
	}
	var c KVChange
	if err := (Event{Data: data}).Decode(&c); err != nil || c.Key != "msg/1" {
		t.Errorf("Decode = %+v, %v", c, err)
	}
}

func TestKVChangeDecoding(t *testing.T) {
	setEvents(t, eventHandlers{})
	var got []KVChange
	OnKVChange(func(ctx context.Context, c KVChange) error { got = append(got, c); return nil })
	f := newFake()
	for _, d := range []string{
		kvData,
		`{"namespace":"chat","key":"msg/1","op":"delete","old_version":4,"new_version":5}`,
		`{"namespace":"chat","key":"big","op":"put","old_version":0,"new_version":6,"value_too_large":true}`,
		`{"namespace":"chat","key":"empty","op":"put","old_version":0,"new_version":7}`,
	} {
		if rc := f.deliver(t, envelope(KindKV, d)); rc != 0 {
			t.Fatalf("%s: rc = %d, logs:\n%s", d, rc, f.logText())
		}
	}
	if len(got) != 4 {
		t.Fatalf("%d changes", len(got))
	}
	put := got[0]
	if put.Namespace != "chat" || put.Key != "msg/1" || put.Op != OpPut || put.OldVersion != 3 ||
		put.NewVersion != 4 || string(put.Value) != "hello" || put.ValueTooLarge {
		t.Errorf("put = %+v", put)
	}
	if del := got[1]; del.Op != OpDelete || del.Value != nil || del.NewVersion != 5 {
		t.Errorf("delete = %+v", del)
	}

	// LoadValue: from the event when it carries the value, without a
	// host call; from the store when it was too large.
	f.calls = nil
	if v, err := put.LoadValue(); err != nil || string(v) != "hello" || len(f.calls) != 0 {
		t.Errorf("LoadValue = %q, %v (calls %v)", v, err, f.calls)
	}
	if v, err := got[1].LoadValue(); err != nil || v != nil {
		t.Errorf("LoadValue of a delete = %q, %v", v, err)
	}
	if v, err := got[3].LoadValue(); err != nil || len(v) != 0 {
		t.Errorf("LoadValue of an empty value = %q, %v", v, err)
	}
	big := got[2]
	if !big.ValueTooLarge || big.Value != nil {
		t.Errorf("too large = %+v", big)
	}
	if _, err := big.LoadValue(); !errors.Is(err, ErrNotFound) {
		t.Errorf("LoadValue of a deleted key: %v", err)
	}
	large := strings.Repeat("v", 70<<10)
	KV("chat").Put("big", []byte(large))
	if v, err := big.LoadValue(); err != nil || string(v) != large {
		t.Errorf("LoadValue of a large value: %d bytes, %v", len(v), err)
	}
	f.denied["chat"] = true
	if _, err := big.LoadValue(); !errors.Is(err, ErrDenied) {
		t.Errorf("LoadValue without a grant: %v", err)
	}
}

// TestKVValueMatchesHostEncoding decodes data marshalled the way the
// host's events package does (a []byte value is base64 in JSON).
func TestKVValueMatchesHostEncoding(t *testing.T) {
	type hostKVData struct {
		Namespace     string `json:"namespace"`
		Key           string `json:"key"`
		Op            string `json:"op"`
		OldVersion    uint64 `json:"old_version"`
		NewVersion    uint64 `json:"new_version"`
		Value         []byte `json:"value,omitempty"`
		ValueTooLarge bool   `json:"value_too_large,omitempty"`
	}
	val := []byte{0, 1, 2, 0xff, '\n', '"'}
	b, _ := json.Marshal(hostKVData{Namespace: "n", Key: "k", Op: "put", NewVersion: 9, Value: val})
	var c KVChange
	if err := (Event{Data: b}).Decode(&c); err != nil || string(c.Value) != string(val) || c.NewVersion != 9 {
		t.Errorf("Decode(%s) = %+v, %v", b, c, err)
	}
}

func TestUploadDecodingAndReadAll(t *testing.T) {
	setEvents(t, eventHandlers{})
	var got Upload
	var content []byte
	OnUpload(func(ctx context.Context, u Upload) error {
		got = u
		var err error
		content, err = u.ReadAll()
		return err
	})
	f := newFake()
	f.objects["photos/cat.jpg"] = []byte("meow!")
	if rc := f.deliver(t, envelope(KindUpload, uploadData)); rc != 0 {
		t.Fatalf("rc = %d, logs:\n%s", rc, f.logText())
	}
	want := Upload{Bucket: "photos", Object: "cat.jpg", Size: 5, ContentType: "image/jpeg", SHA256: "abc"}
	if got != want || string(content) != "meow!" {
		t.Errorf("upload %+v, content %q", got, content)
	}
	// One read of the whole object, one that finds the end; the buffer
	// was sized from the event.
	if len(f.objectReads) != 2 || f.objectReads[0] != (objectReadCall{0, 6}) || f.objectReads[1] != (objectReadCall{5, 1}) {
		t.Errorf("object reads %+v", f.objectReads)
	}

	// A missing object fails the delivery.
	delete(f.objects, "photos/cat.jpg")
	if rc := f.deliver(t, envelope(KindUpload, uploadData)); rc == 0 || !strings.Contains(f.logText(), "not found") {
		t.Errorf("rc = %d, logs:\n%s", rc, f.logText())
	}
}

func TestTickDecoding(t *testing.T) {
	setEvents(t, eventHandlers{})
	var got Tick
	OnSchedule(func(ctx context.Context, tk Tick) error { got = tk; return nil })
	f := newFake()
	if rc := f.deliver(t, envelope(KindSchedule, scheduleData)); rc != 0 {
		t.Fatalf("rc = %d, logs:\n%s", rc, f.logText())
	}
	if got.Cron != "*/5 * * * *" || got.Timezone != "Europe/Paris" || got.Missed != 2 ||
		!got.Scheduled.Equal(time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC)) {
		t.Errorf("tick %+v", got)
	}
	if _, off := got.Scheduled.Zone(); off != 3600 {
		t.Errorf("the tick's offset was lost: %v", got.Scheduled)
	}
}

func TestQueueDecoding(t *testing.T) {
	setEvents(t, eventHandlers{})
	var got []Message
	OnQueue(func(ctx context.Context, msgs []Message) error { got = msgs; return nil })
	f := newFake()
	if rc := f.deliver(t, envelope(KindQueue, queueData1)); rc != 0 {
		t.Fatalf("rc = %d, logs:\n%s", rc, f.logText())
	}
	if len(got) != 3 {
		t.Fatalf("%d messages", len(got))
	}
	m := got[0]
	if m.ID != "m1" || string(m.Body) != "one" || m.Attempts != 0 || m.Queue != "orders" ||
		!m.Published.Equal(time.Date(2026, 11, 26, 7, 59, 0, 0, time.UTC)) {
		t.Errorf("message 0 = %+v", m)
	}
	if m := got[1]; m.ID != "m2" || len(m.Body) != 0 || m.Attempts != 1 || m.Queue != "orders" ||
		m.Published.Nanosecond() != 500_000_000 {
		t.Errorf("message 1 = %+v", m)
	}
	if m := got[2]; m.Body != nil || m.Attempts != 2 {
		t.Errorf("message 2 = %+v", m)
	}
}

func TestTypedHandlersTakePrecedence(t *testing.T) {
	setEvents(t, eventHandlers{})
	var got []string
	HandleEvent(func(ctx context.Context, e Event) error { got = append(got, "generic:"+e.Kind); return nil })
	OnQueue(func(ctx context.Context, msgs []Message) error { got = append(got, "queue"); return nil })
	f := newFake()
	f.deliver(t, envelope(KindQueue, queueData1))
	f.deliver(t, envelope(KindKV, kvData))
	if s := strings.Join(got, " "); s != "queue generic:kv" {
		t.Errorf("dispatched %q", s)
	}
	// The last registration wins.
	OnQueue(func(ctx context.Context, msgs []Message) error { got = append(got, "queue2"); return nil })
	f.deliver(t, envelope(KindQueue, queueData1))
	if got[len(got)-1] != "queue2" {
		t.Errorf("dispatched %q", got)
	}
}

func TestNoHandlerForKind(t *testing.T) {
	setEvents(t, eventHandlers{})
	f := newFake()
	if rc := f.deliver(t, envelope(KindUpload, uploadData)); rc != eventNoHandler ||
		!strings.Contains(f.logText(), "error: wedge: no handler for \"upload\" events (upload:src): register one with wedge.OnUpload") ||
		!strings.Contains(f.logText(), "main is not run") {
		t.Errorf("rc = %d, logs:\n%s", rc, f.logText())
	}
	OnKVChange(func(ctx context.Context, c KVChange) error { return nil })
	for kind, fn := range map[string]string{
		KindUpload: "wedge.OnUpload", KindSchedule: "wedge.OnSchedule", KindQueue: "wedge.OnQueue", "other": "wedge.HandleEvent",
	} {
		f := newFake()
		rc := f.deliver(t, envelope(kind, `{}`))
		if rc == 0 || !strings.Contains(f.logText(), fn) || strings.Contains(f.logText(), "main is not run") {
			t.Errorf("%s: rc = %d, logs:\n%s", kind, rc, f.logText())
		}
	}
	if rc := newFake().deliver(t, envelope(KindKV, kvData)); rc != 0 {
		t.Errorf("kv: rc = %d", rc)
	}
}

func TestHandlerErrorFailsTheDelivery(t *testing.T) {
	setEvents(t, eventHandlers{})
	OnQueue(func(ctx context.Context, msgs []Message) error {
		return fmt.Errorf("message %s: %w", msgs[0].ID, ErrConflict)
	})
	f := newFake()
	rc := f.deliver(t, envelope(KindQueue, queueData1))
	if rc != eventFailed || len(f.logs) != 1 || f.logs[0].level != abi.LogError ||
		f.logs[0].msg != `queue event "42" from queue:src (attempt 2) failed: message m1: wedge: version conflict` {
		t.Errorf("rc = %d, logs:\n%s", rc, f.logText())
	}
}

func TestHandlerPanicFailsTheDeliveryAndIsLogged(t *testing.T) {
	setEvents(t, eventHandlers{})
	OnSchedule(func(ctx context.Context, tk Tick) error {
		var m map[string]int
		m["boom"]++ // a runtime error
		return nil
	})
	HandleEvent(func(ctx context.Context, e Event) error { panic(fmt.Sprintf("bad %s", e.Kind)) })
	f := newFake()
	rc := f.deliver(t, envelope(KindSchedule, scheduleData))
	logs := f.logText()
	if rc != eventPanicked || len(f.logs) != 1 || f.logs[0].level != abi.LogError ||
		!strings.Contains(logs, `panic handling schedule event "42" from schedule:src (attempt 2): assignment to entry in nil map`) ||
		!strings.Contains(logs, "goroutine ") || !strings.Contains(logs, "event_test.go") {
		t.Errorf("rc = %d, logs:\n%s", rc, logs)
	}
	f = newFake()
	if rc := f.deliver(t, envelope("custom", `null`)); rc != eventPanicked || !strings.Contains(f.logText(), "bad custom") {
		t.Errorf("rc = %d, logs:\n%s", rc, f.logText())
	}
}

func TestMalformedEvents(t *testing.T) {
	setEvents(t, eventHandlers{})
	called := false
	OnKVChange(func(ctx context.Context, c KVChange) error { called = true; return nil })
	OnQueue(func(ctx context.Context, msgs []Message) error { called = true; return nil })
	cases := []struct {
		name string
		env  []byte
		fail abi.Code
		log  string
	}{
		{"not JSON", []byte(`{"kind":`), 0, "decoding the event envelope"},
		{"kv data of the wrong type", envelope(KindKV, `{"key":7}`), 0, "decoding the event data"},
		{"base64 that is not", envelope(KindKV, `{"key":"k","value":"!!"}`), 0, "decoding the event data"},
		{"queue data", envelope(KindQueue, `[1]`), 0, "decoding the event data"},
		{"event_get fails", envelope(KindKV, kvData), abi.ErrNotFound, "reading the event: wedge: event get: not found"},
	}
	for _, c := range cases {
		f := newFake()
		if c.fail != 0 {
			f.failWith[abi.FnEventGet] = c.fail
		}
		rc := f.deliver(t, c.env)
		if rc != eventBadRequest || !strings.Contains(f.logText(), c.log) || called {
			t.Errorf("%s: rc = %d, called %v, logs:\n%s", c.name, rc, called, f.logText())
		}
	}
}

func TestEventSizeNeeded(t *testing.T) {
	setEvents(t, eventHandlers{})
	var got Event
	HandleEvent(func(ctx context.Context, e Event) error { got = e; return nil })
	big := envelope("custom", `{"pad":"`+strings.Repeat("x", 10_000)+`"}`)
	for _, hint := range []int32{int32(len(big)), 0, 100, -1} {
		f := newFake()
		f.install(t)
		f.event = big
		if rc := serveEvent(f, hint); rc != 0 || got.Kind != "custom" || len(got.Data) < 10_000 {
			t.Errorf("hint %d: rc = %d, logs:\n%s", hint, rc, f.logText())
		}
		want := 2
		if hint == int32(len(big)) {
			want = 1 // the hint is right: one host call
		}
		if n := f.callsOf(abi.FnEventGet); n != want {
			t.Errorf("hint %d: %d event_get calls, want %d", hint, n, want)
		}
	}
}

func TestEventContext(t *testing.T) {
	setEvents(t, eventHandlers{})
	var ctx context.Context
	var e Event
	var ok bool
	OnKVChange(func(c context.Context, _ KVChange) error {
		ctx = c
		e, ok = EventFromContext(c)
		if c.Err() != nil {
			t.Error("the context is already done")
		}
		return nil
	})
	newFake().deliver(t, envelope(KindKV, kvData))
	if !ok || e.ID != "42" || e.Attempt != 2 || e.Kind != KindKV || string(e.Data) != kvData {
		t.Errorf("EventFromContext = %+v, %v", e, ok)
	}
	if ctx.Err() == nil {
		t.Error("the context was not cancelled after the handler returned")
	}
	if _, ok := EventFromContext(context.Background()); ok {
		t.Error("EventFromContext outside an event")
	}
}

func TestRegisterNilEventHandlerPanics(t *testing.T) {
	setEvents(t, eventHandlers{})
	for name, reg := range map[string]func(){
		"HandleEvent": func() { HandleEvent(nil) },
		"OnKVChange":  func() { OnKVChange(nil) },
		"OnUpload":    func() { OnUpload(nil) },
		"OnSchedule":  func() { OnSchedule(nil) },
		"OnQueue":     func() { OnQueue(nil) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s(nil) did not panic", name)
				}
			}()
			reg()
		}()
	}
}

func TestHTTPAndEventsInOneModule(t *testing.T) {
	setEvents(t, eventHandlers{})
	OnQueue(func(ctx context.Context, msgs []Message) error {
		for _, m := range msgs {
			if _, err := KV("").Put("msg/"+m.ID, m.Body); err != nil {
				return err
			}
		}
		return nil
	})
	f := newFake()
	rc := f.do(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := Publish("orders", []byte("from http")); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	}), "POST", "/orders", "")
	if rc != 0 || f.status != http.StatusAccepted || len(f.published) != 1 || f.published[0].queue != "orders" {
		t.Errorf("HTTP: rc = %d, status %d, published %+v", rc, f.status, f.published)
	}
	if rc := f.deliver(t, envelope(KindQueue, queueData1)); rc != 0 {
		t.Fatalf("event: rc = %d, logs:\n%s", rc, f.logText())
	}
	if e := f.kv[""]["msg/m1"]; e == nil || string(e.value) != "one" {
		t.Errorf("msg/m1 = %+v", e)
	}
}

func TestEventsOnlyModuleAnswersHTTPWith500(t *testing.T) {
	setEvents(t, eventHandlers{})
	setHandler(t, nil)
	OnSchedule(func(ctx context.Context, tk Tick) error { return nil })
	f := newFake()
	rc := f.do(t, nil, "GET", "/", "")
	if rc != 0 || f.status != 500 || !strings.Contains(f.logText(), "the module only handles events") {
		t.Errorf("rc = %d, status %d, logs:\n%s", rc, f.status, f.logText())
	}
}

func TestEnvelopeField(t *testing.T) {
	env := envelope(KindKV, kvData)
	if k, src := envelopeField(env, "kind"), envelopeField(env, "source"); k != "kv" || src != "kv:src" {
		t.Errorf("kind %q, source %q", k, src)
	}
	for _, raw := range []string{``, `{"kind"}`, `{"kind": 7}`, `{"kind":"unterminated`, `{"kind":"a\\"b"}`, `{"other":"x"}`} {
		if k := envelopeField([]byte(raw), "kind"); k != "" {
			t.Errorf("%s: %q", raw, k)
		}
	}
	if k := envelopeField([]byte("{ \"kind\" :\n \"queue\" }"), "kind"); k != "queue" {
		t.Errorf("with spaces: %q", k)
	}
}
