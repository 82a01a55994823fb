package cluster

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	"github.com/wedge-run/wedge/internal/hlc"
	"github.com/wedge-run/wedge/internal/kv"
)

// msgType is the first byte of every gossip message. The enum is
// append-only: never renumber or reuse a value. A node ignores types it
// does not know, so new types can be introduced by a rolling upgrade.
type msgType byte

const (
	// msgFunction: a whole FunctionRecord, JSON (wireFunction).
	msgFunction msgType = 1
	// msgKVChange: a KV write with its value, binary (appendChange).
	msgKVChange msgType = 2
	// msgKVAnnounce: a KV write too large for a packet, binary
	// (appendAnnounce); receivers pull the record over HTTP.
	msgKVAnnounce msgType = 3
	// msgFunctionAnnounce: a function record too large for a packet,
	// JSON (wireAnnounce); receivers pull it over HTTP.
	msgFunctionAnnounce msgType = 4
	// msgLeaving: a node announces it is leaving (Leave), JSON
	// (wireLeaving), so that the others report it left, not dead.
	msgLeaving msgType = 5
)

// wireLeaving is the JSON form of a departure announcement.
type wireLeaving struct {
	Node string `json:"n"`
	At   int64  `json:"t"` // Unix ms, makes each announcement distinct
}

// maxInlineMsg is the largest gossip message the package queues. A
// memberlist gossip packet is 1400 bytes (UDPBufferSize) minus its own
// headers, encryption (29 bytes) and the membership messages it
// piggybacks; 1100 leaves room for all three.
const maxInlineMsg = 1100

// wireFunction is the JSON form of a FunctionRecord.
type wireFunction struct {
	Name    string `json:"n"`
	SHA256  string `json:"h,omitempty"`
	Spec    []byte `json:"s,omitempty"`
	Deleted bool   `json:"d,omitempty"`
	Wall    int64  `json:"w"`
	Logical uint32 `json:"l,omitempty"`
	Node    string `json:"o"`
}

func toWire(r FunctionRecord) wireFunction {
	return wireFunction{Name: r.Name, SHA256: r.SHA256, Spec: r.Spec, Deleted: r.Deleted, Wall: r.Stamp.Wall, Logical: r.Stamp.Logical, Node: r.Node}
}

func (w wireFunction) record() FunctionRecord {
	return FunctionRecord{Name: w.Name, SHA256: w.SHA256, Spec: w.Spec, Deleted: w.Deleted, Stamp: hlc.Timestamp{Wall: w.Wall, Logical: w.Logical}, Node: w.Node}
}

func (w wireFunction) check() error {
	switch {
	case w.Name == "":
		return fmt.Errorf("%w: function record without a name", ErrMalformed)
	case w.Node == "":
		return fmt.Errorf("%w: function record %q without a node", ErrMalformed, w.Name)
	case w.Wall <= 0:
		return fmt.Errorf("%w: function record %q without a stamp", ErrMalformed, w.Name)
	}
	return nil
}

// wireAnnounce is the JSON form of a function announcement.
type wireAnnounce struct {
	Name    string `json:"n"`
	Wall    int64  `json:"w"`
	Logical uint32 `json:"l,omitempty"`
	Node    string `json:"o"`
	From    string `json:"f"` // a node that holds the record
}

func encodeFunction(r FunctionRecord) []byte {
	b, _ := json.Marshal(toWire(r)) // cannot fail: no maps, no floats
	return append([]byte{byte(msgFunction)}, b...)
}

func decodeFunction(b []byte) (FunctionRecord, error) {
	var w wireFunction
	if err := json.Unmarshal(b, &w); err != nil {
		return FunctionRecord{}, fmt.Errorf("%w: function record: %v", ErrMalformed, err)
	}
	if err := w.check(); err != nil {
		return FunctionRecord{}, err
	}
	return w.record(), nil
}

func encodeFunctionAnnounce(r FunctionRecord, from string) []byte {
	b, _ := json.Marshal(wireAnnounce{Name: r.Name, Wall: r.Stamp.Wall, Logical: r.Stamp.Logical, Node: r.Node, From: from})
	return append([]byte{byte(msgFunctionAnnounce)}, b...)
}

func decodeFunctionAnnounce(b []byte) (wireAnnounce, error) {
	var a wireAnnounce
	if err := json.Unmarshal(b, &a); err != nil {
		return a, fmt.Errorf("%w: function announcement: %v", ErrMalformed, err)
	}
	if a.Name == "" || a.Node == "" || a.From == "" || a.Wall <= 0 {
		return a, fmt.Errorf("%w: incomplete function announcement", ErrMalformed)
	}
	return a, nil
}

// Binary encoding of a KV change (gossip msgKVChange after the type
// byte, and the records of the HTTP record endpoint). Self-delimiting:
//
//	op          1 byte (kv.OpPut, kv.OpDelete)
//	namespace   uvarint length + bytes
//	key         uvarint length + bytes
//	stamp       12 bytes (hlc binary encoding)
//	node        uvarint length + bytes
//	version     uvarint (NewVersion)
//	expires     varint, Unix milliseconds, 0 = never
//	value       uvarint length + bytes (empty for a delete)
func appendChange(b []byte, c *kv.Change) []byte {
	b = append(b, byte(c.Op))
	b = appendStr(b, c.Namespace)
	b = appendStr(b, c.Key)
	b = c.Stamp.Append(b)
	b = appendStr(b, c.Node)
	b = binary.AppendUvarint(b, c.NewVersion)
	var exp int64
	if !c.Expires.IsZero() {
		exp = c.Expires.UnixMilli()
	}
	b = binary.AppendVarint(b, exp)
	b = binary.AppendUvarint(b, uint64(len(c.Value)))
	return append(b, c.Value...)
}

// decodeChange reads one change from b and returns the rest. The
// change's strings and value are copies.
func decodeChange(b []byte) (kv.Change, []byte, error) {
	r := reader{b: b}
	var c kv.Change
	c.Op = kv.Op(r.byte())
	c.Namespace = r.str()
	c.Key = r.str()
	c.Stamp = r.stamp()
	c.Node = r.str()
	c.NewVersion = r.uvarint()
	if exp := r.varint(); exp != 0 {
		c.Expires = time.UnixMilli(exp)
	}
	if v := r.bytes(); len(v) > 0 {
		c.Value = append([]byte(nil), v...)
	}
	if r.err != nil {
		return kv.Change{}, nil, fmt.Errorf("%w: kv change: %v", ErrMalformed, r.err)
	}
	if err := checkChange(&c); err != nil {
		return kv.Change{}, nil, err
	}
	if c.Op == kv.OpPut && c.Value == nil {
		c.Value = []byte{}
	}
	return c, r.b, nil
}

func checkChange(c *kv.Change) error {
	switch {
	case c.Op != kv.OpPut && c.Op != kv.OpDelete:
		return fmt.Errorf("%w: kv change with op %d", ErrMalformed, c.Op)
	case c.Namespace == "" || c.Key == "" || c.Node == "" || c.Stamp.IsZero():
		return fmt.Errorf("%w: incomplete kv change", ErrMalformed)
	}
	return nil
}

// announce is a KV write whose value is pulled over HTTP.
type announce struct {
	Op        kv.Op
	Namespace string
	Key       string
	Stamp     hlc.Timestamp
	Node      string // the writer
	From      string // a node that holds the record (the writer or a relay)
	Size      uint64 // value length, informative
}

// Binary encoding of an announcement (after the type byte):
//
//	op, namespace, key, stamp, node   as in a change
//	from                              uvarint length + bytes
//	size                              uvarint
func appendAnnounce(b []byte, a *announce) []byte {
	b = append(b, byte(a.Op))
	b = appendStr(b, a.Namespace)
	b = appendStr(b, a.Key)
	b = a.Stamp.Append(b)
	b = appendStr(b, a.Node)
	b = appendStr(b, a.From)
	return binary.AppendUvarint(b, a.Size)
}

func decodeAnnounce(b []byte) (announce, error) {
	r := reader{b: b}
	var a announce
	a.Op = kv.Op(r.byte())
	a.Namespace = r.str()
	a.Key = r.str()
	a.Stamp = r.stamp()
	a.Node = r.str()
	a.From = r.str()
	a.Size = r.uvarint()
	if r.err == nil && len(r.b) != 0 {
		r.err = fmt.Errorf("%d trailing bytes", len(r.b))
	}
	if r.err != nil {
		return announce{}, fmt.Errorf("%w: kv announcement: %v", ErrMalformed, r.err)
	}
	if (a.Op != kv.OpPut && a.Op != kv.OpDelete) || a.Namespace == "" || a.Key == "" || a.Node == "" || a.From == "" || a.Stamp.IsZero() {
		return announce{}, fmt.Errorf("%w: incomplete kv announcement", ErrMalformed)
	}
	return a, nil
}

// encodeKVMessage returns the gossip message for c: the change itself
// if it fits a packet, else an announcement naming from as the holder.
func encodeKVMessage(c *kv.Change, from string) []byte {
	if len(c.Value) < maxInlineMsg {
		b := make([]byte, 1, 48+len(c.Namespace)+len(c.Key)+len(c.Node)+len(c.Value))
		b[0] = byte(msgKVChange)
		if b = appendChange(b, c); len(b) <= maxInlineMsg {
			return b
		}
	}
	return encodeKVAnnounce(c.Op, c.Namespace, c.Key, c.Stamp, c.Node, from, len(c.Value))
}

func encodeKVAnnounce(op kv.Op, ns, key string, stamp hlc.Timestamp, node, from string, size int) []byte {
	a := announce{Op: op, Namespace: ns, Key: key, Stamp: stamp, Node: node, From: from, Size: uint64(size)}
	return appendAnnounce([]byte{byte(msgKVAnnounce)}, &a)
}

func appendStr(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// reader decodes the binary encodings; the first error sticks and
// later reads return zero values.
type reader struct {
	b   []byte
	err error
}

func (r *reader) fail(what string) {
	if r.err == nil {
		r.err = fmt.Errorf("truncated or bad %s", what)
	}
	r.b = nil
}

func (r *reader) byte() byte {
	if r.err != nil || len(r.b) < 1 {
		r.fail("byte")
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

func (r *reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail("uvarint")
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) varint() int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.fail("varint")
		return 0
	}
	r.b = r.b[n:]
	return v
}

// bytes returns a length-prefixed byte string aliasing the input.
func (r *reader) bytes() []byte {
	n := r.uvarint()
	if r.err != nil {
		return nil
	}
	if n > uint64(len(r.b)) {
		r.fail("length")
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

func (r *reader) str() string { return string(r.bytes()) }

func (r *reader) stamp() hlc.Timestamp {
	if r.err != nil || len(r.b) < hlc.EncodedLen {
		r.fail("stamp")
		return hlc.Timestamp{}
	}
	ts, err := hlc.Decode(r.b[:hlc.EncodedLen])
	if err != nil {
		r.fail("stamp")
		return hlc.Timestamp{}
	}
	r.b = r.b[hlc.EncodedLen:]
	return ts
}
