package events

import (
	"github.com/wedge-run/wedge/model"
)

// Triggers are model.Trigger, checked by its Validate when a function
// is deployed; this file indexes them for matching.

// FunctionTriggers is what the manager needs to know of a function.
type FunctionTriggers struct {
	Name        string
	KVNamespace string // the function's own namespace, the default for kv triggers
	Grants      []string
	Triggers    []model.Trigger
}

// table indexes triggers by kind for matching.
type table struct {
	byFunc map[string]FunctionTriggers
	kv     []ref
	upload map[string][]ref // bucket -> triggers
	queue  map[string][]ref // queue -> consumers
	sched  []ref
}

type ref struct {
	fn  string
	idx int
	t   model.Trigger
}

func buildTable(fns []FunctionTriggers) *table {
	t := &table{byFunc: map[string]FunctionTriggers{}, upload: map[string][]ref{}, queue: map[string][]ref{}}
	for _, f := range fns {
		t.byFunc[f.Name] = f
		for i, tr := range f.Triggers {
			r := ref{fn: f.Name, idx: i, t: tr}
			switch tr.Kind {
			case KindKV:
				if r.t.Namespace == "" {
					r.t.Namespace = f.KVNamespace
				}
				t.kv = append(t.kv, r)
			case KindUpload:
				t.upload[tr.Bucket] = append(t.upload[tr.Bucket], r)
			case KindQueue:
				t.queue[tr.Queue] = append(t.queue[tr.Queue], r)
			case KindSchedule:
				t.sched = append(t.sched, r)
			}
		}
	}
	return t
}

func (t *table) trigger(fn string, idx int) (model.Trigger, bool) {
	f, ok := t.byFunc[fn]
	if !ok || idx < 0 || idx >= len(f.Triggers) {
		return model.Trigger{}, false
	}
	return f.Triggers[idx], true
}
