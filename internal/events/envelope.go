package events

import (
	"encoding/json"
	"time"
)

// Envelope is what a function's event entry receives (abi/README.md,
// "Events"), encoded as JSON.
type Envelope struct {
	Kind     string    `json:"kind"`
	Source   string    `json:"source"`
	ID       string    `json:"id"`
	Time     time.Time `json:"time"`
	Function string    `json:"function"`
	Trigger  int       `json:"trigger"`
	Attempt  int       `json:"attempt"`
	// TraceParent is the W3C traceparent of the span that caused the
	// event (the KV write, publish or upload of a traced request; for a
	// queue batch, its first message's), the same on every attempt; ""
	// when the cause was not traced and for schedule ticks.
	TraceParent string          `json:"traceparent,omitempty"`
	Data        json.RawMessage `json:"data"`
}

// Kinds of trigger.
const (
	KindKV       = "kv"
	KindUpload   = "upload"
	KindSchedule = "schedule"
	KindQueue    = "queue"
)

// KVData is the data of a kv event.
type KVData struct {
	Namespace     string `json:"namespace"`
	Key           string `json:"key"`
	Op            string `json:"op"`
	OldVersion    uint64 `json:"old_version"`
	NewVersion    uint64 `json:"new_version"`
	Value         []byte `json:"value,omitempty"`
	ValueTooLarge bool   `json:"value_too_large,omitempty"`
}

// MaxEventValue is the largest value carried inside a kv event; larger
// values are flagged and the function reads them with kv_get.
const MaxEventValue = 64 << 10

// UploadData is the data of an upload event.
type UploadData struct {
	Bucket      string `json:"bucket"`
	Object      string `json:"object"`
	Size        int64  `json:"size"`
	ContentType string `json:"content_type"`
	SHA256      string `json:"sha256"`
}

// ScheduleData is the data of a schedule event.
type ScheduleData struct {
	Cron      string    `json:"cron"`
	Timezone  string    `json:"timezone"`
	Scheduled time.Time `json:"scheduled"`
	Missed    int       `json:"missed"`
}

// Message is one queue message in a batch.
type Message struct {
	ID        string    `json:"id"`
	Body      []byte    `json:"body"`
	Attempts  int       `json:"attempts"`
	Published time.Time `json:"published"`
}

// QueueData is the data of a queue event: a batch of messages.
type QueueData struct {
	Queue    string    `json:"queue"`
	Messages []Message `json:"messages"`
}
