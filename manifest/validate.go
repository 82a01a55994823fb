package manifest

import (
	"fmt"
	pathpkg "path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/wedge-run/wedge/model"
)

// validator turns a decoded rawFile into an App, reporting every rule it
// breaks. The same rules serve the TOML file and the JSON spec; spec
// selects the few differences (the spec carries resolved secret values).
type validator struct {
	c    *errs
	spec bool

	routes []use // every route declared, for uniqueness
	queues []use // every queue consumed, for uniqueness
}

// use is one declaration of something the app may declare once.
type use struct {
	name  string
	at    path
	order int
}

// Trigger fields by kind, in documentation order.
var kindFields = map[string][]string{
	KindKV:       {"namespace", "prefix"},
	KindUpload:   {"bucket"},
	KindSchedule: {"cron", "timezone"},
	KindQueue:    {"queue", "batch_size", "max_attempts", "concurrency"},
}

func (v *validator) app(raw *rawFile) *App {
	a := &App{}
	ap := path{}.key("app")
	if raw.App == nil || raw.App.Name == nil {
		v.c.invalid(ap.key("name"), "required: the app's name")
	} else {
		a.Name = *raw.App.Name
		if msg, err := checkName(a.Name); err != nil {
			v.c.add(ap.key("name"), ErrInvalid, err, msg)
		}
	}
	if raw.App != nil && raw.App.KVNamespace != nil {
		a.KVNamespace = *raw.App.KVNamespace
		v.resourceName(ap.key("kv_namespace"), "namespace", a.KVNamespace)
	}

	if len(raw.Functions) == 0 {
		v.c.invalid(path{}.key("functions"), "the app declares no functions: add a [functions.NAME] table")
	}
	for _, name := range sortedKeys(raw.Functions) {
		a.Functions = append(a.Functions, v.function(a, name, raw.Functions[name]))
	}
	for _, name := range sortedKeys(raw.Buckets) {
		a.Buckets = append(a.Buckets, v.bucket(name, raw.Buckets[name]))
	}
	v.unique(v.routes, func(u, first use) string {
		return fmt.Sprintf("route %q is already used by %s", u.name, first.at)
	})
	v.unique(v.queues, func(u, first use) string {
		return fmt.Sprintf("queue %q is already consumed by %s: a queue has one consumer in an app", u.name, first.at.parent())
	})
	return a
}

func (v *validator) function(a *App, name string, rf *rawFunction) Function {
	fp := path{}.key("functions").key(name)
	if rf == nil {
		rf = &rawFunction{}
	}
	f := Function{Name: name}
	if msg, err := checkName(name); err != nil {
		v.c.add(fp, ErrInvalid, err, msg)
	}

	if rf.Module == nil {
		v.c.invalid(fp.key("module"), "required: the path of the function's .wasm file, relative to the manifest's directory")
	} else {
		f.Module = v.module(fp.key("module"), *rf.Module)
	}
	if rf.Build != nil {
		if strings.TrimSpace(*rf.Build) == "" {
			v.c.invalid(fp.key("build"), "must not be empty (leave it out when there is no build step)")
		}
		f.Build = *rf.Build
	}

	for i, r := range rf.Routes {
		rp := fp.key("routes").index(i)
		if msg, err := checkRoute(r); err != nil {
			v.c.add(rp, ErrInvalid, err, msg)
			continue
		}
		f.Routes = append(f.Routes, r)
		v.routes = append(v.routes, use{name: r, at: rp, order: len(v.routes)})
	}
	if rf.Affinity != nil {
		if err := model.ValidateAffinity(*rf.Affinity, f.Routes); err != nil || *rf.Affinity == "" {
			msg := "must not be empty (leave it out for no affinity)"
			if err != nil {
				msg = strings.TrimPrefix(err.Error(), model.ErrInvalidAffinity.Error()+" ")
			}
			v.c.add(fp.key("affinity"), ErrInvalid, err, msg)
		} else {
			f.Affinity = *rf.Affinity
		}
	}
	if rf.Traffic != nil {
		if err := model.ValidateTraffic(*rf.Traffic); err != nil {
			v.c.add(fp.key("traffic"), ErrInvalid, err, "must be between 0 and 100 (percent)")
		} else {
			f.Traffic = *rf.Traffic
		}
	}
	if rf.TrafficKey != nil {
		if err := model.ValidateTrafficKey(*rf.TrafficKey); err != nil || *rf.TrafficKey == "" {
			v.c.add(fp.key("traffic_key"), ErrInvalid, err, `must be "header:NAME" or "cookie:NAME"`)
		} else {
			f.TrafficKey = *rf.TrafficKey
		}
	}

	switch {
	case rf.KVNamespace != nil:
		f.KVNamespace = *rf.KVNamespace
		v.resourceName(fp.key("kv_namespace"), "namespace", f.KVNamespace)
	case a.KVNamespace != "":
		f.KVNamespace = a.KVNamespace
	default:
		f.KVNamespace = name
	}
	granted := map[string]int{}
	for i, g := range rf.KVGrants {
		gp := fp.key("kv_grants").index(i)
		if g != "*" && !v.resourceName(gp, "namespace", g) {
			continue
		}
		if j, dup := granted[g]; dup {
			v.c.invalid(gp, fmt.Sprintf("%q is already granted by kv_grants[%d]", g, j))
			continue
		}
		granted[g] = i
		f.KVGrants = append(f.KVGrants, g)
	}

	seenHost := map[string]int{}
	for i, h := range rf.AllowedHosts {
		hp := fp.key("allowed_hosts").index(i)
		r, err := model.ParseHostRule(h)
		if err != nil {
			v.c.invalid(hp, strings.TrimPrefix(err.Error(), model.ErrInvalidHost.Error()+" "))
			continue
		}
		if j, dup := seenHost[r.String()]; dup {
			v.c.invalid(hp, fmt.Sprintf("%q is already allowed by allowed_hosts[%d]", h, j))
			continue
		}
		seenHost[r.String()] = i
		f.AllowedHosts = append(f.AllowedHosts, r.String())
	}

	f.Limits = v.limits(fp.key("limits"), rf.Limits)

	for _, k := range sortedKeys(rf.Config) {
		kp := fp.key("config").key(k)
		if !validVariableName(k) {
			v.c.invalid(kp, variableNameMsg("configuration variable name", k))
			continue
		}
		if f.Config == nil {
			f.Config = map[string]string{}
		}
		f.Config[k] = rf.Config[k]
	}
	for _, k := range sortedKeys(rf.Secrets) {
		kp := fp.key("secrets").key(k)
		if !validVariableName(k) {
			v.c.invalid(kp, variableNameMsg("secret name", k))
			continue
		}
		if _, dup := rf.Config[k]; dup {
			v.c.invalid(kp, fmt.Sprintf("%s is also a configuration variable (%s): a variable is either configuration or a secret", k, fp.key("config").key(k)))
			continue
		}
		if s, ok := v.secret(kp, rf.Secrets[k]); ok {
			if f.Secrets == nil {
				f.Secrets = map[string]Secret{}
			}
			f.Secrets[k] = s
		}
	}

	var at []int // file index of each of f.Triggers
	for i, rt := range rf.Triggers {
		tp := fp.key("triggers").index(i)
		t, ok := v.trigger(tp, rt, &f)
		if !ok {
			continue
		}
		if j := slices.Index(f.Triggers, t); j >= 0 {
			v.c.invalid(tp, fmt.Sprintf("same trigger as %s", fp.key("triggers").index(at[j])))
		}
		f.Triggers = append(f.Triggers, t)
		at = append(at, i)
	}

	if len(rf.Routes) == 0 && len(rf.Triggers) == 0 {
		v.c.invalid(fp, "unreachable function: it has no routes and no triggers")
	}
	return f
}

// module checks a module path and returns it cleaned, with '/' separators.
func (v *validator) module(p path, m string) string {
	switch {
	case strings.TrimSpace(m) == "":
		v.c.invalid(p, "must not be empty: the path of the function's .wasm file")
	case strings.Contains(m, `\`):
		v.c.invalid(p, fmt.Sprintf("%q: use / as the path separator", m))
	case pathpkg.IsAbs(m) || filepath.IsAbs(m) || len(m) >= 2 && m[1] == ':':
		v.c.invalid(p, fmt.Sprintf("%q: must be relative to the manifest's directory", m))
	case pathpkg.Clean(m) == ".":
		v.c.invalid(p, fmt.Sprintf("%q: must name a file", m))
	case pathpkg.Clean(m) == ".." || strings.HasPrefix(pathpkg.Clean(m), "../"):
		v.c.invalid(p, fmt.Sprintf("%q: must stay inside the manifest's directory", m))
	default:
		return pathpkg.Clean(m)
	}
	return m
}

func (v *validator) limits(p path, rl *rawLimits) Limits {
	var l Limits
	if rl == nil {
		return l
	}
	l.TimeoutMS = v.timeout(p.key("timeout"), rl.Timeout).Milliseconds()
	l.OutboundTimeoutMS = v.timeout(p.key("outbound_timeout"), rl.OutboundTimeout).Milliseconds()
	l.OutboundMaxResponseBytes = int64(v.intIn(p.key("outbound_max_response_bytes"), rl.OutboundMaxResponseBytes, 1, MaxResponseBytes, 0))
	l.OutboundMaxRequests = v.intIn(p.key("outbound_max_requests"), rl.OutboundMaxRequests, 1, model.MaxOutboundRequests, 0)
	l.MemoryBytes = int64(v.intIn(p.key("memory_mb"), rl.MemoryMB, 1, MaxMemoryMB, 0)) << 20
	l.MaxConcurrency = v.intIn(p.key("max_concurrency"), rl.MaxConcurrency, 0, -1, 0)
	l.MaxResponseBytes = v.intIn(p.key("max_response_bytes"), rl.MaxResponseBytes, 1, MaxResponseBytes, 0)
	return l
}

// timeout checks an optional duration limit.
func (v *validator) timeout(tp path, s *string) time.Duration {
	if s == nil {
		return 0
	}
	d, err := time.ParseDuration(*s)
	switch {
	case err != nil:
		v.c.invalid(tp, fmt.Sprintf("invalid duration %q: write a Go duration such as \"500ms\", \"2s\" or \"1m30s\"", *s))
	case d <= 0 || d > MaxTimeout:
		v.c.invalid(tp, fmt.Sprintf("must be more than 0 and at most %s, got %s", fmtDuration(MaxTimeout), *s))
	case d%time.Millisecond != 0:
		v.c.invalid(tp, fmt.Sprintf("must be a whole number of milliseconds, got %s", *s))
	default:
		return d
	}
	return 0
}

// intIn checks an optional integer against [lo, hi] (hi < 0: no upper
// bound) and returns it, or def when absent or invalid.
func (v *validator) intIn(p path, n *int, lo, hi, def int) int {
	switch {
	case n == nil:
		return def
	case hi < 0 && *n < lo:
		v.c.invalid(p, fmt.Sprintf("must be at least %d, got %d", lo, *n))
	case hi >= 0 && (*n < lo || *n > hi):
		v.c.invalid(p, fmt.Sprintf("must be between %d and %d, got %d", lo, hi, *n))
	default:
		return *n
	}
	return def
}

// secret checks one secret. In a file it is a literal string or a table
// { env = "NAME" }; in a spec it is a table { value = "...", env = "NAME" }
// with env optional.
func (v *validator) secret(p path, x any) (Secret, bool) {
	want := `want a string or a table { env = "NAME" }`
	if v.spec {
		want = `want a table { value = "...", env = "NAME" }`
	}
	if s, ok := x.(string); ok && !v.spec {
		if s == "" {
			v.c.invalid(p, "must not be empty")
			return Secret{}, false
		}
		return Secret{Value: s}, true
	}
	m, ok := x.(map[string]any)
	if !ok {
		v.c.invalid(p, want+", got "+describeValue(x))
		return Secret{}, false
	}
	known := []string{"env"}
	if v.spec {
		known = []string{"env", "value"}
	}
	var sec Secret
	good := true
	for _, k := range sortedKeys(m) {
		kp := p.key(k)
		if !slices.Contains(known, k) {
			v.c.invalid(kp, "unknown field; known fields here: "+strings.Join(known, ", "))
			good = false
			continue
		}
		s, ok := m[k].(string)
		if !ok {
			v.c.invalid(kp, "want a string, got "+describeValue(m[k]))
			good = false
			continue
		}
		switch k {
		case "env":
			if !validVariableName(s) {
				v.c.invalid(kp, variableNameMsg("environment variable name", s))
				good = false
			}
			sec.Env = s
		case "value":
			if s == "" {
				v.c.invalid(kp, "must not be empty")
				good = false
			}
			sec.Value = s
		}
	}
	if _, ok := m["env"]; !ok && !v.spec {
		v.c.invalid(p.key("env"), "required: the environment variable holding the secret")
		good = false
	}
	if _, ok := m["value"]; !ok && v.spec {
		v.c.invalid(p.key("value"), "required: a spec carries resolved secrets")
		good = false
	}
	return sec, good
}

func (v *validator) trigger(p path, rt *rawTrigger, f *Function) (Trigger, bool) {
	if rt == nil {
		rt = &rawTrigger{}
	}
	kp := p.key("kind")
	if rt.Kind == nil {
		v.c.invalid(kp, "required: one of "+strings.Join(Kinds, ", "))
		return Trigger{}, false
	}
	t := Trigger{Kind: *rt.Kind}
	fields, ok := kindFields[t.Kind]
	if !ok {
		v.c.invalid(kp, fmt.Sprintf("unknown kind %q: want one of %s", t.Kind, strings.Join(Kinds, ", ")))
		return Trigger{}, false
	}
	good := true
	present := []struct {
		name string
		set  bool
	}{
		{"namespace", rt.Namespace != nil}, {"prefix", rt.Prefix != nil}, {"bucket", rt.Bucket != nil},
		{"cron", rt.Cron != nil}, {"timezone", rt.Timezone != nil}, {"queue", rt.Queue != nil},
		{"batch_size", rt.BatchSize != nil}, {"max_attempts", rt.MaxAttempts != nil}, {"concurrency", rt.Concurrency != nil},
	}
	for _, x := range present {
		if x.set && !slices.Contains(fields, x.name) {
			v.c.invalid(p.key(x.name), fmt.Sprintf("does not apply to %s triggers (they take %s)", t.Kind, strings.Join(fields, ", ")))
			good = false
		}
	}
	// check records whether a check passed.
	check := func(ok bool) { good = good && ok }

	switch t.Kind {
	case KindKV:
		t.Namespace = f.KVNamespace
		if rt.Namespace != nil {
			t.Namespace = *rt.Namespace
			np := p.key("namespace")
			if !v.resourceName(np, "namespace", t.Namespace) {
				check(false)
			} else if t.Namespace != f.KVNamespace && !slices.Contains(f.KVGrants, t.Namespace) && !slices.Contains(f.KVGrants, "*") {
				v.c.invalid(np, fmt.Sprintf("namespace %q is neither the function's kv_namespace (%q) nor in its kv_grants", t.Namespace, f.KVNamespace))
				check(false)
			}
		}
		if rt.Prefix != nil {
			t.Prefix = *rt.Prefix
			if len(t.Prefix) > MaxPrefixLen {
				v.c.invalid(p.key("prefix"), fmt.Sprintf("longer than %d bytes (the longest key)", MaxPrefixLen))
				check(false)
			}
		}
	case KindUpload:
		if rt.Bucket == nil {
			v.c.invalid(p.key("bucket"), "required for upload triggers: the bucket watched")
			check(false)
		} else {
			t.Bucket = *rt.Bucket
			check(v.resourceName(p.key("bucket"), "bucket", t.Bucket))
		}
	case KindSchedule:
		t.Timezone = DefaultTimezone
		loc := time.UTC
		if rt.Timezone != nil {
			t.Timezone = *rt.Timezone
			l, err := model.LoadLocation(t.Timezone)
			if err != nil {
				v.c.add(p.key("timezone"), ErrInvalid, err, fmt.Sprintf("unknown time zone %q: use an IANA name such as \"UTC\" or \"Europe/Paris\"", t.Timezone))
				check(false)
			} else {
				loc = l
			}
		}
		if rt.Cron == nil {
			v.c.invalid(p.key("cron"), "required for schedule triggers: a cron expression such as \"*/5 * * * *\"")
			check(false)
		} else {
			t.Cron = *rt.Cron
			if _, err := model.ParseCron(t.Cron, loc); err != nil {
				v.c.add(p.key("cron"), ErrInvalid, err, fmt.Sprintf("invalid cron expression %q: %v", t.Cron, err))
				check(false)
			}
		}
	case KindQueue:
		if rt.Queue == nil {
			v.c.invalid(p.key("queue"), "required for queue triggers: the queue consumed")
			check(false)
		} else {
			t.Queue = *rt.Queue
			if v.resourceName(p.key("queue"), "queue", t.Queue) {
				v.queues = append(v.queues, use{name: t.Queue, at: p.key("queue"), order: len(v.queues)})
			} else {
				check(false)
			}
		}
		t.BatchSize = v.intIn(p.key("batch_size"), rt.BatchSize, 1, MaxBatchSize, DefaultBatchSize)
		t.MaxAttempts = v.intIn(p.key("max_attempts"), rt.MaxAttempts, 1, MaxMaxAttempts, DefaultMaxAttempts)
		t.Concurrency = v.intIn(p.key("concurrency"), rt.Concurrency, 0, -1, 0)
	}
	return t, good
}

func (v *validator) bucket(name string, rb *rawBucket) Bucket {
	bp := path{}.key("buckets").key(name)
	if rb == nil {
		rb = &rawBucket{}
	}
	b := Bucket{Name: name}
	v.resourceName(bp, "bucket", name)
	if rb.PublicUpload != nil {
		up := bp.key("public_upload")
		r := *rb.PublicUpload
		if msg, err := checkRoute(r); err != nil {
			v.c.add(up, ErrInvalid, err, msg)
		} else if !strings.HasSuffix(r, "/...") {
			v.c.invalid(up, fmt.Sprintf("route %q must be a prefix route ending in /... (the object's key is the rest of the path)", r))
		} else if !strings.HasPrefix(r, "/") {
			v.c.invalid(up, fmt.Sprintf("route %q: upload routes match the path only, on every host: start it with /", r))
		} else {
			b.PublicUpload = r
			v.routes = append(v.routes, use{name: r, at: up, order: len(v.routes)})
		}
	}
	b.MaxObjectMB = v.intIn(bp.key("max_object_mb"), rb.MaxObjectMB, 1, MaxObjectMB, 0)
	return b
}

// resourceName checks a namespace, bucket or queue name.
func (v *validator) resourceName(p path, what, s string) bool {
	if model.ValidResourceName(s) {
		return true
	}
	v.c.invalid(p, resourceNameMsg(what, s))
	return false
}

// unique reports every use of a name after its first, in file order.
func (v *validator) unique(uses []use, msg func(u, first use) string) {
	sort.SliceStable(uses, func(i, j int) bool {
		li, lj := v.c.pos.line(uses[i].at), v.c.pos.line(uses[j].at)
		if li != lj {
			return li < lj
		}
		return uses[i].order < uses[j].order
	})
	first := map[string]use{}
	for _, u := range uses {
		if f, dup := first[u.name]; dup {
			v.c.invalid(u.at, msg(u, f))
			continue
		}
		first[u.name] = u
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func describeValue(x any) string {
	switch x.(type) {
	case string:
		return "a string"
	case int64, int, float64:
		return "a number"
	case bool:
		return "a boolean"
	case []any:
		return "an array"
	case map[string]any:
		return "a table"
	case nil:
		return "nothing"
	}
	return "a date or time"
}

// fmtDuration prints whole minutes and hours without the trailing zero
// units time.Duration.String adds ("15m", not "15m0s").
func fmtDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
