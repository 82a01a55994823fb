package manifest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// SpecVersion is the version of the spec document Spec writes and
// ParseSpec accepts.
const SpecVersion = 1

// Spec returns the canonical JSON document of the app: the manifest's
// fields with every default applied, maps in key order, functions and
// buckets keyed by name, plus "spec_version". Equal apps give equal
// bytes. Dir and File are left out; module and build stay as written.
//
// The document carries secret values: every Env secret must have been
// resolved (ResolveSecrets), or Spec fails with ErrSecretUnresolved
// errors. It is meant for a node's admin API only, over its
// authenticated channel; the node stores the values but never echoes
// them (not in the API, not in logs).
func (a *App) Spec() ([]byte, error) {
	c := &errs{file: a.File, pos: a.pos}
	v := SpecVersion
	raw := &rawFile{SpecVersion: &v, App: &rawApp{Name: ptr(a.Name)}}
	if a.KVNamespace != "" {
		raw.App.KVNamespace = ptr(a.KVNamespace)
	}
	raw.Functions = map[string]*rawFunction{}
	for i := range a.Functions {
		f := &a.Functions[i]
		rf := &rawFunction{
			Module: ptr(f.Module), Routes: f.Routes, KVNamespace: ptr(f.KVNamespace),
			KVGrants: f.KVGrants, Config: f.Config, AllowedHosts: f.AllowedHosts,
		}
		if f.Build != "" {
			rf.Build = ptr(f.Build)
		}
		if f.Affinity != "" {
			rf.Affinity = ptr(f.Affinity)
		}
		if f.Traffic != 0 {
			rf.Traffic = &f.Traffic
		}
		if f.TrafficKey != "" {
			rf.TrafficKey = ptr(f.TrafficKey)
		}
		if l := f.Limits; l != (Limits{}) {
			rf.Limits = &rawLimits{
				MemoryMB: nonZero(l.MemoryMB()), MaxConcurrency: nonZero(l.MaxConcurrency),
				MaxResponseBytes:         nonZero(l.MaxResponseBytes),
				OutboundMaxResponseBytes: nonZero(int(l.OutboundMaxResponseBytes)), OutboundMaxRequests: nonZero(l.OutboundMaxRequests),
			}
			if l.TimeoutMS != 0 {
				rf.Limits.Timeout = ptr(l.Timeout().String())
			}
			if l.OutboundTimeoutMS != 0 {
				rf.Limits.OutboundTimeout = ptr(l.OutboundTimeout().String())
			}
		}
		for _, k := range sortedKeys(f.Secrets) {
			s := f.Secrets[k]
			if !s.Resolved() {
				c.add(path{}.key("functions").key(f.Name).key("secrets").key(k), ErrSecretUnresolved, nil,
					fmt.Sprintf("not resolved: environment variable %s was not read (ResolveSecrets)", s.Env))
				continue
			}
			if rf.Secrets == nil {
				rf.Secrets = map[string]any{}
			}
			m := map[string]any{"value": s.Value}
			if s.Env != "" {
				m["env"] = s.Env
			}
			rf.Secrets[k] = m
		}
		for _, t := range f.Triggers {
			rt := &rawTrigger{Kind: ptr(t.Kind)}
			switch t.Kind {
			case KindKV:
				rt.Namespace, rt.Prefix = ptr(t.Namespace), ptr(t.Prefix)
			case KindUpload:
				rt.Bucket = ptr(t.Bucket)
			case KindSchedule:
				rt.Cron, rt.Timezone = ptr(t.Cron), ptr(t.Timezone)
			case KindQueue:
				rt.Queue, rt.BatchSize, rt.MaxAttempts = ptr(t.Queue), ptr(t.BatchSize), ptr(t.MaxAttempts)
				rt.Concurrency = ptr(t.Concurrency)
			}
			rf.Triggers = append(rf.Triggers, rt)
		}
		raw.Functions[f.Name] = rf
	}
	for _, b := range a.Buckets {
		if raw.Buckets == nil {
			raw.Buckets = map[string]*rawBucket{}
		}
		rb := &rawBucket{MaxObjectMB: nonZero(b.MaxObjectMB)}
		if b.PublicUpload != "" {
			rb.PublicUpload = ptr(b.PublicUpload)
		}
		raw.Buckets[b.Name] = rb
	}
	if err := c.result(); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(raw); err != nil {
		return nil, fmt.Errorf("manifest: encoding spec: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// ParseSpec decodes a spec document (the node side of Spec) and validates
// it with the manifest's rules. Unknown fields are errors. Errors name
// fields only, as there is no file: "functions.a.limits.memory_mb: ...".
// The App has no Dir or File.
func ParseSpec(data []byte) (*App, error) {
	c := &errs{}
	if len(data) > MaxFileSize {
		c.list = append(c.list, &Error{Msg: fmt.Sprintf("spec larger than %d bytes", MaxFileSize), Err: ErrInvalid})
		return nil, c.result()
	}
	// Functions and buckets are decoded one by one, so that errors can
	// name them (encoding/json's errors leave map keys out).
	var top struct {
		SpecVersion *int                       `json:"spec_version"`
		App         *rawApp                    `json:"app"`
		Functions   map[string]json.RawMessage `json:"functions"`
		Buckets     map[string]json.RawMessage `json:"buckets"`
	}
	if !decodeJSON(c, nil, data, &top) {
		return nil, c.result()
	}
	if top.SpecVersion == nil || *top.SpecVersion != SpecVersion {
		got := "none"
		if top.SpecVersion != nil {
			got = fmt.Sprint(*top.SpecVersion)
		}
		c.invalid(path{}.key("spec_version"), fmt.Sprintf("unsupported spec version %s: this node reads version %d", got, SpecVersion))
		return nil, c.result()
	}
	raw := &rawFile{SpecVersion: top.SpecVersion, App: top.App}
	for _, name := range sortedKeys(top.Functions) {
		var f *rawFunction
		if decodeJSON(c, path{}.key("functions").key(name), top.Functions[name], &f) {
			if raw.Functions == nil {
				raw.Functions = map[string]*rawFunction{}
			}
			raw.Functions[name] = f
		}
	}
	for _, name := range sortedKeys(top.Buckets) {
		var b *rawBucket
		if decodeJSON(c, path{}.key("buckets").key(name), top.Buckets[name], &b) {
			if raw.Buckets == nil {
				raw.Buckets = map[string]*rawBucket{}
			}
			raw.Buckets[name] = b
		}
	}
	if len(c.list) > 0 {
		return nil, c.result()
	}
	v := &validator{c: c, spec: true}
	app := v.app(raw)
	if err := c.result(); err != nil {
		return nil, err
	}
	return app, nil
}

// decodeJSON decodes one JSON value strictly into v, reporting problems
// at p (a prefix of the fields encoding/json names).
func decodeJSON(c *errs, p path, data []byte, v any) bool {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		if _, terr := dec.Token(); terr != io.EOF {
			err = errors.New("data after the document")
		}
	}
	if err == nil {
		return true
	}
	field, msg := p.String(), "invalid spec: "+strings.TrimPrefix(err.Error(), "json: ")
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		if te.Field != "" {
			field = joinField(field, te.Field)
		}
		msg = fmt.Sprintf("want %s, got a JSON %s", describeJSONType(te), te.Value)
	} else if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		msg = "unknown field " + name
	}
	c.list = append(c.list, &Error{Field: field, Msg: msg, Err: ErrInvalid})
	return false
}

func joinField(a, b string) string {
	if a == "" {
		return b
	}
	return a + "." + b
}

func describeJSONType(te *json.UnmarshalTypeError) string {
	if te.Type == nil {
		return "another type"
	}
	if d := describeType(te.Type); d != "" {
		return d
	}
	return te.Type.String()
}

func ptr[T any](v T) *T { return &v }

func nonZero(n int) *int {
	if n == 0 {
		return nil
	}
	return &n
}
