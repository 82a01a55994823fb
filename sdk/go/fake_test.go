package wedge

import (
	"bytes"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/wedge-run/wedge/abi"
)

// fakeHost is an in-memory wedge host implementing the ABI as
// abi/README.md describes it, recording every call.
type fakeHost struct {
	mu sync.Mutex

	head    []byte
	body    []byte
	bodyOff int

	status     int32
	headers    []abi.Header
	headCalls  int
	out        bytes.Buffer
	writeCalls int
	writeLimit int // response limit; 0 = none

	logs []logLine

	config map[string]string

	kv        map[string]map[string]*kvEntry // namespace -> key -> entry
	version   uint64
	denied    map[string]bool
	failWith  map[string]abi.Code // host function -> forced error code
	listCalls []listCall

	event         []byte            // the envelope event_get returns; nil outside the event entry
	objects       map[string][]byte // "bucket/name" -> content
	deniedBuckets map[string]bool
	readLimit     int // most bytes one object_read copies; 0 = cap
	objectReads   []objectReadCall
	published     []publishedMsg

	calls []string
}

type logLine struct {
	level int32
	msg   string
}

type kvEntry struct {
	value   []byte
	version uint64
	ttl     int64
}

type objectReadCall struct {
	offset int64
	cap    int
}

type publishedMsg struct {
	queue string
	body  []byte
}

type listCall struct {
	prefix, cursor string
	limit          int32
	cap            int
}

func newFake() *fakeHost {
	return &fakeHost{
		status:   200,
		config:   map[string]string{},
		kv:       map[string]map[string]*kvEntry{},
		denied:   map[string]bool{},
		failWith: map[string]abi.Code{},
		objects:  map[string][]byte{},

		deniedBuckets: map[string]bool{},
	}
}

// install makes f the SDK's host for the test.
func (f *fakeHost) install(t *testing.T) {
	t.Helper()
	old := sys
	sys = f
	t.Cleanup(func() { sys = old })
}

func (f *fakeHost) call(name string) (abi.Code, bool) {
	f.calls = append(f.calls, name)
	c, ok := f.failWith[name]
	return c, ok
}

func (f *fakeHost) callsOf(name string) int {
	n := 0
	for _, c := range f.calls {
		if c == name {
			n++
		}
	}
	return n
}

func (f *fakeHost) requestHead(buf []byte) int32 {
	if c, ok := f.call(abi.FnRequestHead); ok {
		return -int32(c)
	}
	if len(f.head) <= len(buf) {
		copy(buf, f.head)
	}
	return int32(len(f.head))
}

func (f *fakeHost) requestBody(buf []byte) int32 {
	if c, ok := f.call(abi.FnRequestBody); ok {
		return -int32(c)
	}
	n := copy(buf, f.body[f.bodyOff:])
	f.bodyOff += n
	return int32(n)
}

func (f *fakeHost) responseHead(status int32, headers []byte) int32 {
	if c, ok := f.call(abi.FnResponseHead); ok {
		return -int32(c)
	}
	f.headCalls++
	if status < 100 || status > 999 {
		return -int32(abi.ErrInvalid)
	}
	var hs []abi.Header
	err := abi.DecodeHeaders(headers, func(name, value []byte) error {
		hs = append(hs, abi.Header{Name: string(name), Value: string(value)})
		return nil
	})
	if err != nil {
		if err == abi.ErrMalformed {
			return -int32(abi.ErrInvalid)
		}
		return -int32(abi.ErrTooLarge)
	}
	f.status, f.headers = status, hs
	return 0
}

func (f *fakeHost) responseWrite(buf []byte) int32 {
	if c, ok := f.call(abi.FnResponseWrite); ok {
		return -int32(c)
	}
	f.writeCalls++
	if f.writeLimit > 0 && f.out.Len()+len(buf) > f.writeLimit {
		return -int32(abi.ErrTooLarge)
	}
	f.out.Write(buf)
	return int32(len(buf))
}

func (f *fakeHost) log(level int32, msg string) int32 {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, abi.FnLog)
	if len(msg) > abi.MaxLogLine {
		msg = msg[:abi.MaxLogLine]
	}
	f.logs = append(f.logs, logLine{level, msg})
	return 0
}

func (f *fakeHost) configGet(key string, buf []byte) int32 {
	if c, ok := f.call(abi.FnConfigGet); ok {
		return -int32(c)
	}
	v, ok := f.config[key]
	if !ok {
		return -int32(abi.ErrNotFound)
	}
	if len(v) <= len(buf) {
		copy(buf, v)
	}
	return int32(len(v))
}

func (f *fakeHost) ns(ns string) (map[string]*kvEntry, abi.Code) {
	if f.denied[ns] {
		return nil, abi.ErrDenied
	}
	m := f.kv[ns]
	if m == nil {
		m = map[string]*kvEntry{}
		f.kv[ns] = m
	}
	return m, abi.OK
}

func checkFakeKey(key string) abi.Code {
	switch {
	case key == "":
		return abi.ErrInvalid
	case len(key) > abi.MaxKeyLen:
		return abi.ErrTooLarge
	}
	return abi.OK
}

func (f *fakeHost) kvGet(ns, key string, buf []byte, version *uint64) int32 {
	if c, ok := f.call(abi.FnKVGet); ok {
		return -int32(c)
	}
	m, c := f.ns(ns)
	if c == abi.OK {
		c = checkFakeKey(key)
	}
	if c != abi.OK {
		return -int32(c)
	}
	e, ok := m[key]
	if !ok {
		return -int32(abi.ErrNotFound)
	}
	if len(e.value) <= len(buf) {
		copy(buf, e.value)
	}
	if version != nil {
		*version = e.version
	}
	return int32(len(e.value))
}

func (f *fakeHost) kvPut(ns, key string, val []byte, ttl, ifVersion int64) int64 {
	if c, ok := f.call(abi.FnKVPut); ok {
		return -int64(c)
	}
	m, c := f.ns(ns)
	if c == abi.OK {
		c = checkFakeKey(key)
	}
	if c == abi.OK && len(val) > abi.MaxValueLen {
		c = abi.ErrTooLarge
	}
	if c != abi.OK {
		return -int64(c)
	}
	e, ok := m[key]
	switch {
	case ifVersion == 0 && ok, ifVersion > 0 && (!ok || e.version != uint64(ifVersion)):
		return -int64(abi.ErrConflict)
	}
	f.version++
	m[key] = &kvEntry{value: bytes.Clone(val), version: f.version, ttl: ttl}
	return int64(f.version)
}

func (f *fakeHost) kvDelete(ns, key string, ifVersion int64) int32 {
	if c, ok := f.call(abi.FnKVDelete); ok {
		return -int32(c)
	}
	m, c := f.ns(ns)
	if c == abi.OK {
		c = checkFakeKey(key)
	}
	if c != abi.OK {
		return -int32(c)
	}
	e, ok := m[key]
	switch {
	case ifVersion == 0 && ok, ifVersion > 0 && (!ok || e.version != uint64(ifVersion)):
		return -int32(abi.ErrConflict)
	}
	delete(m, key)
	return 0
}

func (f *fakeHost) kvIncrement(ns, key string, delta int64, out *int64) int32 {
	if c, ok := f.call(abi.FnKVIncrement); ok {
		return -int32(c)
	}
	m, c := f.ns(ns)
	if c == abi.OK {
		c = checkFakeKey(key)
	}
	if c != abi.OK {
		return -int32(c)
	}
	var n int64
	if e, ok := m[key]; ok {
		var err error
		if n, err = strconv.ParseInt(string(e.value), 10, 64); err != nil {
			return -int32(abi.ErrNotCounter)
		}
	}
	n += delta
	f.version++
	m[key] = &kvEntry{value: []byte(strconv.FormatInt(n, 10)), version: f.version}
	*out = n
	return 0
}

func (f *fakeHost) kvList(ns, prefix, cursor string, limit int32, buf []byte) int32 {
	if c, ok := f.call(abi.FnKVList); ok {
		return -int32(c)
	}
	f.listCalls = append(f.listCalls, listCall{prefix, cursor, limit, len(buf)})
	m, c := f.ns(ns)
	if c != abi.OK {
		return -int32(c)
	}
	if limit < 1 || limit > 1000 {
		return -int32(abi.ErrInvalid)
	}
	var keys []string
	for k := range m {
		if strings.HasPrefix(k, prefix) && k > cursor {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	next := ""
	if len(keys) > int(limit) {
		keys = keys[:limit]
		next = keys[len(keys)-1]
	}
	page := abi.AppendU32(nil, uint32(len(keys)))
	for _, k := range keys {
		page = abi.AppendString(page, k)
	}
	page = abi.AppendString(page, next)
	if len(page) <= len(buf) {
		copy(buf, page)
	}
	return int32(len(page))
}

func (f *fakeHost) eventGet(buf []byte) int32 {
	if c, ok := f.call(abi.FnEventGet); ok {
		return -int32(c)
	}
	if f.event == nil {
		return -int32(abi.ErrNotFound)
	}
	if len(f.event) <= len(buf) {
		copy(buf, f.event)
	}
	return int32(len(f.event))
}

// validQueue is the host's rule for queue names: 1 to 128 of [A-Za-z0-9._-].
func validQueue(q string) bool {
	if q == "" || len(q) > 128 {
		return false
	}
	for _, c := range []byte(q) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

func (f *fakeHost) queuePublish(queue string, body []byte) int32 {
	if c, ok := f.call(abi.FnQueuePublish); ok {
		return -int32(c)
	}
	if len(body) > abi.MaxValueLen {
		return -int32(abi.ErrTooLarge)
	}
	if !validQueue(queue) {
		return -int32(abi.ErrInvalid)
	}
	f.published = append(f.published, publishedMsg{queue, bytes.Clone(body)})
	return 0
}

func (f *fakeHost) objectRead(bucket, name string, offset int64, buf []byte) int64 {
	if c, ok := f.call(abi.FnObjectRead); ok {
		return -int64(c)
	}
	f.objectReads = append(f.objectReads, objectReadCall{offset, len(buf)})
	if f.deniedBuckets[bucket] {
		return -int64(abi.ErrDenied)
	}
	obj, ok := f.objects[bucket+"/"+name]
	if !ok {
		return -int64(abi.ErrNotFound)
	}
	if offset < 0 {
		return -int64(abi.ErrInvalid)
	}
	if offset >= int64(len(obj)) {
		return 0
	}
	dst := buf
	if f.readLimit > 0 && len(dst) > f.readLimit {
		dst = dst[:f.readLimit]
	}
	return int64(copy(dst, obj[offset:]))
}

// encodeHead builds a request head as the host writes it.
func encodeHead(method, uri, host, remote, id, route string, headers ...abi.Header) []byte {
	b := abi.AppendString(nil, method)
	b = abi.AppendString(b, uri)
	b = abi.AppendString(b, host)
	b = abi.AppendString(b, remote)
	b = abi.AppendString(b, id)
	b = abi.AppendString(b, route)
	return abi.EncodeHeaders(b, headers)
}
