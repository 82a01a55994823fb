package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/memberlist"

	"github.com/wedge-run/wedge/internal/hlc"
	"github.com/wedge-run/wedge/internal/kv"
)

// Sizes of the inbound work queues (keys with pending work) and their
// worker pools.
const (
	maxPendingFunctions = 1 << 16
	maxPendingKV        = 1 << 16
	maxPendingRepairs   = 1 << 12
	functionWorkers     = 4
	kvWorkers           = 4
	fetchWorkers        = 4
	repairWorkers       = 2
)

// Cluster is this node's membership in the cluster and the replication
// of the function registry and the KV store. Create it with New; it is
// safe for concurrent use.
type Cluster struct {
	cfg     Config
	st      settings
	log     *slog.Logger
	reg     Registry
	kv      KVReplica
	clock   interface{ Now() time.Time }
	http    *http.Client
	mlc     *memberlist.Config
	ml      *memberlist.Memberlist
	members *memberTable
	out     *outbox
	addr    string
	load    atomic.Pointer[Load]
	serving servingSet
	// handover and ho: the fence of key hand-overs (handover.go).
	handover atomic.Pointer[Handover]
	ho       handoverState
	// metaKick asks metaLoop to gossip the metadata now (SetServing).
	metaKick chan struct{}

	seenMu sync.Mutex
	seen   map[string]version // newest function write seen per name: relays only what is new

	fnQ      *keyedQueue[fnWork]
	fnFetchQ *keyedQueue[wireAnnounce]
	kvQ      *keyedQueue[kvWork]
	kvFetchQ *keyedQueue[announce]
	repairQ  *keyedQueue[repairJob]

	repairMu   sync.Mutex
	lastRepair map[string]time.Time

	ctx      context.Context // cancelled by Shutdown: aborts fetches
	cancel   context.CancelFunc
	stop     chan struct{}
	wg       sync.WaitGroup
	closed   atomic.Bool
	shutOnce sync.Once
	shutErr  error
	stats    counters
	traffic  *trafficCounters
	secrets  atomic.Pointer[peerSecrets]
	replays  *replayCache

	seedMu sync.Mutex
	seeds  []string // addresses given to Join, retried by reconnectLoop
}

// version identifies a write for last-writer-wins.
type version struct {
	stamp hlc.Timestamp
	node  string
}

type fnWork struct {
	rec      FunctionRecord
	announce bool // learned from an announcement: re-announce from here once applied
}

type kvWork struct {
	change kv.Change
	msg    []byte // the gossip message, relayed as is if the change wins
}

type repairJob struct {
	peer, admin string
}

type system struct{}

func (system) Now() time.Time { return time.Now() }

// New creates the local node and starts gossiping; it is alone until
// Join. reg and replica may be nil (a node that replicates only
// membership, or only one of the two).
func New(cfg Config, reg Registry, replica KVReplica) (*Cluster, error) {
	if cfg.NodeName == "" {
		return nil, fmt.Errorf("%w: NodeName is required", ErrInvalidConfig)
	}
	if len(cfg.PeerSecret) == 0 && len(cfg.Keys) == 0 {
		return nil, fmt.Errorf("%w: PeerSecret is required without Keys (see DerivePeerSecret)", ErrInvalidConfig)
	}
	mlc, st, err := memberlistConfig(&cfg)
	if err != nil {
		return nil, err
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Clock == nil {
		cfg.Clock = system{}
	}
	if cfg.FetchTimeout <= 0 {
		cfg.FetchTimeout = DefaultFetchTimeout
	}
	if cfg.MaxBlobBytes <= 0 {
		cfg.MaxBlobBytes = DefaultMaxBlobBytes
	}
	if cfg.TombstoneHorizon <= 0 {
		cfg.TombstoneHorizon = DefaultTombstoneHorizon
	}
	traffic := new(trafficCounters)
	if cfg.HTTPClient == nil {
		dialer := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
		cfg.HTTPClient = &http.Client{Transport: &http.Transport{
			Proxy: nil,
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				c, err := dialer.DialContext(ctx, network, addr)
				if err != nil {
					return nil, err
				}
				return &countingConn{Conn: c, in: &traffic.httpIn, out: &traffic.httpOut}, nil
			},
			MaxIdleConnsPerHost: 4,
			IdleConnTimeout:     90 * time.Second,
		}}
	}
	if n := len(encodeMeta(cfg.Meta, Load{InFlight: 1 << 30, Limit: 1 << 30}, nil)); n > memberlist.MetaMaxSize {
		return nil, fmt.Errorf("%w: node metadata is %d bytes encoded, limit %d", ErrInvalidConfig, n, memberlist.MetaMaxSize)
	}
	c := &Cluster{
		cfg:        cfg,
		st:         st,
		log:        cfg.Log.With("node", cfg.NodeName),
		reg:        reg,
		kv:         replica,
		clock:      cfg.Clock,
		http:       cfg.HTTPClient,
		mlc:        mlc,
		members:    newMemberTable(cfg.NodeName, st.forgetAfter),
		seen:       make(map[string]version),
		lastRepair: make(map[string]time.Time),
		stop:       make(chan struct{}),
		metaKick:   make(chan struct{}, 1),
		traffic:    traffic,
	}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	c.replays = newReplayCache(replayCacheSize, PeerAuthWindow, cfg.Clock.Now())
	c.refreshSecrets()
	c.out = newOutbox(c.members.numAlive, mlc.RetransmitMult)
	c.load.Store(&Load{})
	if cfg.Load != nil {
		l := cfg.Load()
		c.load.Store(&l)
	}
	if reg != nil {
		for _, r := range reg.Records() {
			c.seen[r.Name] = version{r.Stamp, r.Node}
		}
	}
	newer := func(a, b version) bool { return Newer(b.stamp, b.node, a.stamp, a.node) }
	c.fnQ = newKeyedQueue(maxPendingFunctions, func(o, n fnWork) bool { return n.rec.Newer(o.rec) })
	c.fnFetchQ = newKeyedQueue(maxPendingFunctions, func(o, n wireAnnounce) bool {
		return newer(version{hlc.Timestamp{Wall: o.Wall, Logical: o.Logical}, o.Node}, version{hlc.Timestamp{Wall: n.Wall, Logical: n.Logical}, n.Node})
	})
	c.kvQ = newKeyedQueue(maxPendingKV, func(o, n kvWork) bool {
		return Newer(n.change.Stamp, n.change.Node, o.change.Stamp, o.change.Node)
	})
	c.kvFetchQ = newKeyedQueue(maxPendingKV, func(o, n announce) bool { return Newer(n.Stamp, n.Node, o.Stamp, o.Node) })
	c.repairQ = newKeyedQueue(maxPendingRepairs, func(o, n repairJob) bool { return true })
	c.members.onChange = func(m Member) {
		c.forgetTaker(m.Name)
		if !m.Self {
			c.log.Info("cluster: member "+string(m.State), "member", m.Name, "addr", m.Addr)
		}
	}

	mlc.Delegate = delegate{c}
	mlc.Events = events{c.members}
	mlc.Logger = log.New(slogWriter{l: c.log, closing: c.closed.Load}, "", 0)
	tr, err := newMeteredTransport(mlc, mlc.Logger, traffic)
	if err != nil {
		c.cancel()
		return nil, fmt.Errorf("cluster: starting memberlist: %w", err)
	}
	mlc.Transport = tr
	ml, err := memberlist.Create(mlc)
	if err != nil {
		tr.Shutdown()
		c.cancel()
		return nil, fmt.Errorf("cluster: starting memberlist on %s: %w", cfg.BindAddr, err)
	}
	c.ml = ml
	if self, ok := c.members.get(cfg.NodeName); ok {
		c.addr = self.Addr
	} else {
		c.addr = net.JoinHostPort(mlc.AdvertiseAddr, strconv.Itoa(mlc.AdvertisePort))
	}
	c.startWorkers()
	return c, nil
}

func (c *Cluster) startWorkers() {
	start := func(n int, f func()) {
		for range n {
			c.wg.Go(f)
		}
	}
	start(functionWorkers, func() { c.fnQ.run(c.stop, c.applyFunction) })
	start(fetchWorkers/2, func() { c.fnFetchQ.run(c.stop, c.fetchFunction) })
	start(kvWorkers, func() { c.kvQ.run(c.stop, c.applyKV) })
	start(fetchWorkers, func() { c.kvFetchQ.run(c.stop, c.fetchKV) })
	start(repairWorkers, func() { c.repairQ.run(c.stop, c.repair) })
	c.wg.Go(c.metaLoop)
	c.wg.Go(c.reconnectLoop)
}

// Name returns the local node's name.
func (c *Cluster) Name() string { return c.cfg.NodeName }

// Addr returns the gossip address other nodes join, "host:port", with
// the port actually bound.
func (c *Cluster) Addr() string { return c.addr }

// Join contacts the given gossip addresses ("host:port") and merges
// state with each one that answers (a full push/pull: this node
// receives every function record and the KV digests, and repairs from
// there). It returns how many answered; with none, an error wrapping
// ErrJoin (a node with a different gossip key cannot join).
func (c *Cluster) Join(addrs []string) (int, error) {
	if c.closed.Load() {
		return 0, ErrClosed
	}
	c.rememberSeeds(addrs)
	n, err := c.ml.Join(addrs)
	if n == 0 {
		if err == nil {
			err = errors.New("no address given")
		}
		return 0, fmt.Errorf("%w: %v: %w", ErrJoin, addrs, err)
	}
	if err != nil {
		c.log.Warn("cluster: some join addresses did not answer", "joined", n, "err", err)
	}
	return n, nil
}

// Leave tells the cluster this node is leaving, and waits up to timeout
// for the message to go out; the others then report it "left" rather
// than "dead". The node keeps gossiping until Shutdown.
func (c *Cluster) Leave(timeout time.Duration) error {
	if c.closed.Load() {
		return ErrClosed
	}
	deadline := time.Now().Add(timeout)
	// First our own announcement (memberlist's leave message looks like a
	// failure to the other nodes' event handlers), sent a few times,
	// then memberlist's.
	now := c.clock.Now().UnixMilli()
	b, _ := json.Marshal(wireLeaving{Node: c.cfg.NodeName, At: now})
	msg := append([]byte{byte(msgLeaving)}, b...)
	c.out.queue("l\x00"+c.cfg.NodeName, hlc.Timestamp{Wall: now}, c.cfg.NodeName, msg, true)
	if c.members.numAlive() > 1 {
		wait := min(time.Until(deadline)/2, 4*c.mlc.GossipInterval)
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-c.stop:
			t.Stop()
			return ErrClosed
		}
	}
	return c.ml.Leave(max(time.Until(deadline), time.Millisecond))
}

// Shutdown stops gossip and replication without telling the cluster
// (it will notice through failed probes; call Leave first for a clean
// departure). It waits for the work in progress to stop: fetches are
// cancelled, an ApplyRemote in progress completes. Later calls return
// the first result.
func (c *Cluster) Shutdown() error {
	c.shutOnce.Do(func() {
		c.closed.Store(true)
		c.cancel()
		close(c.stop)
		c.shutErr = c.ml.Shutdown()
		c.wg.Wait()
		c.out.reset()
	})
	return c.shutErr
}

// Members returns the members known, alive first, then dead and left
// ones for Tuning.ForgetAfter.
func (c *Cluster) Members() []Member { return c.members.list() }

// Member returns the member named name.
func (c *Cluster) Member(name string) (Member, bool) { return c.members.get(name) }

// NumAlive returns the number of alive members, this one included.
func (c *Cluster) NumAlive() int { return c.members.numAlive() }

// PublishFunction broadcasts a function record changed on this node
// (deployed, updated or deleted: Deleted set). The registry has
// already applied it. An empty rec.Node is this node's name.
func (c *Cluster) PublishFunction(rec FunctionRecord) {
	if c.closed.Load() || rec.Name == "" || rec.Stamp.IsZero() {
		return
	}
	if rec.Node == "" {
		rec.Node = c.cfg.NodeName
	}
	c.noteSeen(rec.Name, version{rec.Stamp, rec.Node})
	c.broadcastFunction(rec)
}

// broadcastFunction queues rec, whole if it fits a packet, else as an
// announcement naming this node as the holder.
func (c *Cluster) broadcastFunction(rec FunctionRecord) {
	msg := encodeFunction(rec)
	if len(msg) > maxInlineMsg {
		msg = encodeFunctionAnnounce(rec, c.cfg.NodeName)
	}
	c.out.queue(functionBroadcastName(rec.Name), rec.Stamp, rec.Node, msg, true)
}

// PublishKV broadcasts a KV write made on this node. Values that fit a
// gossip packet travel inline; larger ones are announced and pulled by
// the receivers from this node over HTTP. Changes applied from other
// nodes (c.Remote) and expiries (each node expires keys itself) are
// ignored, so a subscription's stream can be passed in whole.
func (c *Cluster) PublishKV(ch kv.Change) {
	if c.closed.Load() || ch.Remote || (ch.Op != kv.OpPut && ch.Op != kv.OpDelete) {
		return
	}
	if ch.Node == "" {
		ch.Node = c.cfg.NodeName
	}
	c.out.queue(kvBroadcastName(ch.Namespace, ch.Key), ch.Stamp, ch.Node, encodeKVMessage(&ch, c.cfg.NodeName), false)
}

// FollowKV publishes the local changes arriving on changes (a
// kv.Subscription's channel, all namespaces) until it is closed or the
// cluster shuts down. Changes the subscription dropped are not lost:
// peers repair them at their next push/pull.
func (c *Cluster) FollowKV(changes <-chan kv.Change) {
	c.wg.Go(func() {
		for {
			select {
			case <-c.stop:
				return
			case ch, ok := <-changes:
				if !ok {
					return
				}
				c.PublishKV(ch)
			}
		}
	})
}

// noteSeen records v as seen for name and reports whether it is newer
// than what was seen before.
func (c *Cluster) noteSeen(name string, v version) bool {
	c.seenMu.Lock()
	defer c.seenMu.Unlock()
	if old, ok := c.seen[name]; ok && !Newer(v.stamp, v.node, old.stamp, old.node) {
		return false
	}
	c.seen[name] = v
	return true
}

// horizon is the stamp before which tombstones are settled.
func (c *Cluster) horizon() hlc.Timestamp {
	return hlc.FromTime(c.clock.Now().Add(-c.cfg.TombstoneHorizon))
}

// metaLoop gossips this node's metadata when it changes: the load,
// polled every loadInterval, and the functions it serves (SetServing).
func (c *Cluster) metaLoop() {
	t := time.NewTicker(c.st.loadInterval)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-c.metaKick:
		case <-t.C:
			if c.cfg.Load == nil {
				continue
			}
			l := c.cfg.Load()
			if l == *c.load.Load() {
				continue
			}
			c.load.Store(&l)
		}
		if err := c.ml.UpdateNode(c.st.loadInterval); err != nil && !c.closed.Load() {
			c.log.Debug("cluster: gossiping metadata", "err", err)
		}
	}
}
