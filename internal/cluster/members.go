package cluster

import (
	"encoding/json"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/memberlist"
)

// MemberState is a member's state as this node knows it.
//
// memberlist also has a "suspect" state between alive and dead, but it
// raises no event for it and its node table cannot be read without a
// data race, so a suspect member reads alive here until it is declared
// dead (after the suspicion timeout) or refutes the suspicion.
type MemberState string

// Member states.
const (
	StateAlive MemberState = "alive"
	StateDead  MemberState = "dead" // stopped answering probes
	StateLeft  MemberState = "left" // left gracefully (Leave)
)

// Member is one node of the cluster.
type Member struct {
	// Name is the node name.
	Name string
	// Addr is the gossip address, "host:port".
	Addr string
	// State is alive, dead or left.
	State MemberState
	// Since is when this node saw the state begin.
	Since time.Time
	// Meta is what the node advertises; addresses with an unspecified
	// host are completed with the gossip IP.
	Meta NodeMeta
	// Load is the node's load when it last gossiped it.
	Load Load
	// Serving maps each function the node advertises as installed (see
	// SetServing) to when it becomes a candidate owner of that
	// function's keys, in Unix milliseconds of the node's clock.
	Serving map[string]int64
	// Self marks the local node.
	Self bool
}

// wireMeta is the JSON form of the node metadata.
type wireMeta struct {
	Public   string `json:"p,omitempty"`
	Admin    string `json:"a,omitempty"`
	Version  string `json:"v,omitempty"`
	InFlight int    `json:"i,omitempty"`
	Limit    int    `json:"l,omitempty"`
	// Serving: function -> Unix ms from which this node may own its keys.
	Serving map[string]int64 `json:"s,omitempty"`
}

func encodeMeta(m NodeMeta, l Load, serving map[string]int64) []byte {
	b, _ := json.Marshal(wireMeta{Public: m.PublicAddr, Admin: m.AdminAddr, Version: m.Version, InFlight: l.InFlight, Limit: l.Limit, Serving: serving})
	return b
}

func decodeMeta(b []byte, ip net.IP) (NodeMeta, Load, map[string]int64) {
	var w wireMeta
	if len(b) > 0 && json.Unmarshal(b, &w) != nil {
		return NodeMeta{}, Load{}, nil
	}
	return NodeMeta{PublicAddr: completeAddr(w.Public, ip), AdminAddr: completeAddr(w.Admin, ip), Version: w.Version},
		Load{InFlight: w.InFlight, Limit: w.Limit}, w.Serving
}

// completeAddr fills an empty or unspecified host with ip.
func completeAddr(addr string, ip net.IP) string {
	if addr == "" || strings.Contains(addr, "://") || ip == nil {
		return addr
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if h := net.ParseIP(host); host == "" || (h != nil && h.IsUnspecified()) {
		return net.JoinHostPort(ip.String(), port)
	}
	return addr
}

// memberTable is the membership as memberlist's events report it. It
// is the only membership view the package reads: memberlist's own node
// table is not safe to read outside its callbacks.
type memberTable struct {
	self   string
	forget time.Duration
	alive  atomic.Int64

	mu sync.RWMutex
	m  map[string]*Member
	// leaving holds the nodes that announced they are leaving (Leave),
	// with when the announcement arrived: memberlist reports a graceful
	// leave and a failure alike, so the announcement tells them apart.
	leaving map[string]time.Time
	// onChange is called (without the lock) after a member's state
	// changes; set before memberlist starts.
	onChange func(Member)
}

func newMemberTable(self string, forget time.Duration) *memberTable {
	return &memberTable{self: self, forget: forget, m: make(map[string]*Member), leaving: make(map[string]time.Time)}
}

// update records n (copied: it belongs to memberlist) in state st.
func (t *memberTable) update(n *memberlist.Node, st MemberState) {
	meta, load, serving := decodeMeta(n.Meta, n.Addr)
	mem := Member{Name: n.Name, Addr: n.Address(), State: st, Meta: meta, Load: load, Serving: serving, Self: n.Name == t.self, Since: time.Now()}
	t.mu.Lock()
	if at, ok := t.leaving[n.Name]; ok {
		switch {
		case st == StateAlive:
			delete(t.leaving, n.Name) // back
		case time.Since(at) < leaveIntentTTL:
			st = StateLeft
			mem.State = st
		}
	}
	old, ok := t.m[n.Name]
	changed := !ok || old.State != st
	if ok && !changed {
		mem.Since = old.Since
	}
	switch {
	case changed && st == StateAlive:
		t.alive.Add(1)
	case changed && ok && old.State == StateAlive:
		t.alive.Add(-1)
	}
	t.m[n.Name] = &mem
	t.mu.Unlock()
	if changed && t.onChange != nil {
		t.onChange(mem)
	}
}

// leaveIntentTTL is how long an announced departure explains a node's
// disappearance.
const leaveIntentTTL = time.Minute

// noteLeaving records that name announced its departure; it reports
// whether this is news (to be relayed).
func (t *memberTable) noteLeaving(name string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if at, ok := t.leaving[name]; ok && time.Since(at) < leaveIntentTTL {
		return false
	}
	now := time.Now()
	for k, at := range t.leaving {
		if now.Sub(at) > leaveIntentTTL {
			delete(t.leaving, k)
		}
	}
	t.leaving[name] = now
	if m, ok := t.m[name]; ok && m.State == StateDead {
		m.State = StateLeft // the failure was a departure
	}
	return true
}

// list returns every member known, alive first then by name, dropping
// members gone for longer than forget.
func (t *memberTable) list() []Member {
	now := time.Now()
	t.mu.Lock()
	out := make([]Member, 0, len(t.m))
	for name, m := range t.m {
		if m.State != StateAlive && now.Sub(m.Since) > t.forget {
			delete(t.m, name)
			continue
		}
		out = append(out, *m)
	}
	t.mu.Unlock()
	slices.SortFunc(out, func(a, b Member) int {
		if (a.State == StateAlive) != (b.State == StateAlive) {
			if a.State == StateAlive {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Name, b.Name)
	})
	return out
}

// get returns the member named name.
func (t *memberTable) get(name string) (Member, bool) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	m, ok := t.m[name]
	if !ok {
		return Member{}, false
	}
	return *m, true
}

// aliveMembers returns the alive members, self included.
func (t *memberTable) aliveMembers() []Member {
	t.mu.RLock()
	defer t.mu.RUnlock()
	out := make([]Member, 0, len(t.m))
	for _, m := range t.m {
		if m.State == StateAlive {
			out = append(out, *m)
		}
	}
	return out
}

// aliveNames returns the names of the alive members, self included.
func (t *memberTable) aliveNames() []string {
	t.mu.RLock()
	defer t.mu.RUnlock()
	out := make([]string, 0, len(t.m))
	for name, m := range t.m {
		if m.State == StateAlive {
			out = append(out, name)
		}
	}
	return out
}

func (t *memberTable) numAlive() int { return max(1, int(t.alive.Load())) }

// events adapts memberTable to memberlist.EventDelegate. memberlist
// calls it with its node lock held: it must not block nor call back
// into memberlist.
type events struct{ t *memberTable }

func (e events) NotifyJoin(n *memberlist.Node)   { e.t.update(n, StateAlive) }
func (e events) NotifyUpdate(n *memberlist.Node) { e.t.update(n, StateAlive) }
func (e events) NotifyLeave(n *memberlist.Node)  { e.t.update(n, StateDead) }
