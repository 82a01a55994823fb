package cluster

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/hashicorp/memberlist"
)

// Presets name a set of memberlist timings (Config.Preset).
const (
	// PresetLocal: fast probes and gossip, for tests and for several
	// nodes on one machine. Failures are detected in about a second.
	PresetLocal = "local"
	// PresetLAN: memberlist's DefaultLANConfig (probe every second,
	// gossip every 200 ms, push/pull every 30 s). The default.
	PresetLAN = "lan"
	// PresetWAN: memberlist's DefaultWANConfig, for nodes far apart.
	PresetWAN = "wan"
)

// Defaults of Config fields left zero.
const (
	DefaultMaxBlobBytes     = 64 << 20
	DefaultFetchTimeout     = 30 * time.Second
	DefaultTombstoneHorizon = 12 * time.Hour // half of kv.DefaultTombstoneRetention
	DefaultForgetAfter      = 10 * time.Minute
)

// Config configures a Cluster.
type Config struct {
	// NodeName names this node in the cluster: unique and stable across
	// restarts. It must equal the node id the KV store stamps its writes
	// with (kv.Options.NodeID), because large values are pulled from
	// the node that wrote them.
	NodeName string
	// BindAddr is the gossip address, "host:port" (UDP and TCP on the
	// same port). Port 0 picks a free port; Addr reports it.
	BindAddr string
	// AdvertiseAddr is the "host:port" other nodes reach this one at,
	// if not BindAddr (NAT, binding 0.0.0.0).
	AdvertiseAddr string
	// Keys is the gossip encryption keyring: Keys[0] is the primary key
	// (used to encrypt), every key decrypts. Each is 16, 24 or 32 bytes
	// (AES-128/192/256). Empty: gossip is not encrypted. With keys, the
	// node accepts only encrypted gossip.
	Keys [][]byte
	// Preset selects the timings: PresetLocal, PresetLAN (default when
	// empty) or PresetWAN. Tuning overrides single values.
	Preset string
	// Tuning overrides the preset's timings; zero fields keep it.
	Tuning Tuning
	// Meta is gossiped in this node's memberlist metadata.
	Meta NodeMeta
	// Load reports the node's current load; nil reports zero. It is
	// polled every LoadInterval and gossiped when it changed.
	Load func() Load
	// LoadInterval is the polling period of Load; 0 means the preset's
	// (250 ms local, 2 s lan, 5 s wan).
	LoadInterval time.Duration
	// PeerSecret authenticates node-to-node HTTP requests (blob and KV
	// record fetches) when Keys is empty: every node of the cluster must
	// have the same one (derive it from an admin token all nodes share,
	// see DerivePeerSecret). With Keys, the secrets are derived from the
	// keyring instead and PeerSecret is ignored: they follow rotation.
	// Without Keys nothing can be sealed (Seal fails): send no secret.
	PeerSecret []byte
	// OnKeysChange, if set, is called with the keyring (primary first)
	// after every change, to persist it: a node restarted with the key
	// it was started with would be cut off after a rotation.
	OnKeysChange func(keys [][]byte) error
	// HTTPClient makes the node-to-node HTTP requests; nil means a
	// client with sensible pooling and no overall timeout (each request
	// gets FetchTimeout).
	HTTPClient *http.Client
	// FetchTimeout bounds one node-to-node HTTP request; 0 means
	// DefaultFetchTimeout.
	FetchTimeout time.Duration
	// MaxBlobBytes bounds a module blob fetched from a peer; 0 means
	// DefaultMaxBlobBytes.
	MaxBlobBytes int64
	// TombstoneHorizon: tombstones (KV and function records) stamped
	// longer ago than this are settled: push/pull leaves them out and a
	// node that lacks the key does not take them. It must be well below
	// the KV store's tombstone retention (and the registry's); 0 means
	// DefaultTombstoneHorizon.
	TombstoneHorizon time.Duration
	// OwnerSettle is how long after this node advertises a function
	// (SetServing) it becomes a candidate owner of that function's keys
	// (FunctionOwner): long enough for the advertisement to reach every
	// member first, so that they all move the keys at the same moment.
	// 0 means the preset's (2 s local, 3 s lan, 10 s wan).
	OwnerSettle time.Duration
	// Clock is read for peer-auth timestamps and the tombstone horizon;
	// nil means the system clock.
	Clock interface{ Now() time.Time }
	// Log receives the package's and memberlist's messages; nil means
	// slog.Default().
	Log *slog.Logger
}

// Tuning overrides memberlist timings of the preset. Zero fields keep
// the preset's value.
type Tuning struct {
	ProbeInterval    time.Duration // how often a node probes a random peer
	ProbeTimeout     time.Duration // how long it waits for an ack
	GossipInterval   time.Duration // how often it gossips queued messages
	GossipNodes      int           // to how many peers per gossip round
	PushPullInterval time.Duration // full state exchange with a random peer (scaled up past 32 nodes)
	SuspicionMult    int           // suspicion timeout = SuspicionMult * log10(N) * ProbeInterval
	RetransmitMult   int           // each broadcast is sent RetransmitMult * log10(N+1) times
	// TCPTimeout bounds a push/pull exchange and a TCP probe.
	TCPTimeout time.Duration
	// DeadNodeReclaimTime lets a node that was declared dead come back
	// under the same name from a different address after this long.
	DeadNodeReclaimTime time.Duration
	// ForgetAfter is how long Members keeps reporting a dead or departed
	// node; 0 means DefaultForgetAfter.
	ForgetAfter time.Duration
}

// NodeMeta is what a node tells the others about itself, in its
// memberlist metadata (at most 512 bytes, encoded, with the load).
// An address whose host is empty or unspecified (":8081",
// "0.0.0.0:8081") is completed by peers with the node's gossip IP.
type NodeMeta struct {
	// PublicAddr is the public gateway, "host:port", for forwarding.
	PublicAddr string
	// AdminAddr is the admin API, "host:port" or a base URL
	// ("https://host:port"), serving the /v1/internal/ handlers.
	AdminAddr string
	// Version is the software version.
	Version string
}

// Load is a node's load as it last reported it.
type Load struct {
	// InFlight is the number of requests running now.
	InFlight int
	// Limit is the node's concurrency limit; 0 when unknown.
	Limit int
}

// Utilization is InFlight/Limit, or InFlight when Limit is 0.
func (l Load) Utilization() float64 {
	if l.Limit <= 0 {
		return float64(l.InFlight)
	}
	return float64(l.InFlight) / float64(l.Limit)
}

// settings are the resolved values derived from Config.
type settings struct {
	loadInterval time.Duration
	forgetAfter  time.Duration
	ownerSettle  time.Duration
}

// memberlistConfig builds the memberlist configuration of cfg.
func memberlistConfig(cfg *Config) (*memberlist.Config, settings, error) {
	var mc *memberlist.Config
	var st settings
	switch cfg.Preset {
	case PresetLocal:
		mc = memberlist.DefaultLocalConfig()
		mc.ProbeInterval = 250 * time.Millisecond
		mc.ProbeTimeout = 150 * time.Millisecond
		mc.GossipInterval = 50 * time.Millisecond
		mc.PushPullInterval = 2 * time.Second
		mc.GossipToTheDeadTime = 5 * time.Second
		mc.SuspicionMult = 3
		mc.RetransmitMult = 4
		mc.TCPTimeout = 2 * time.Second
		mc.DeadNodeReclaimTime = time.Second
		mc.EnableCompression = false // loopback: compression only costs CPU
		st.loadInterval = 250 * time.Millisecond
		st.ownerSettle = 2 * time.Second
	case PresetLAN, "":
		mc = memberlist.DefaultLANConfig()
		mc.DeadNodeReclaimTime = 30 * time.Second
		st.loadInterval = 2 * time.Second
		st.ownerSettle = 3 * time.Second
	case PresetWAN:
		mc = memberlist.DefaultWANConfig()
		mc.DeadNodeReclaimTime = 60 * time.Second
		st.loadInterval = 5 * time.Second
		st.ownerSettle = 10 * time.Second
	default:
		return nil, st, fmt.Errorf("%w: unknown preset %q (want %q, %q or %q)", ErrInvalidConfig, cfg.Preset, PresetLocal, PresetLAN, PresetWAN)
	}
	t := cfg.Tuning
	setDur(&mc.ProbeInterval, t.ProbeInterval)
	setDur(&mc.ProbeTimeout, t.ProbeTimeout)
	setDur(&mc.GossipInterval, t.GossipInterval)
	setDur(&mc.PushPullInterval, t.PushPullInterval)
	setDur(&mc.DeadNodeReclaimTime, t.DeadNodeReclaimTime)
	setDur(&mc.TCPTimeout, t.TCPTimeout)
	if t.GossipNodes > 0 {
		mc.GossipNodes = t.GossipNodes
	}
	if t.SuspicionMult > 0 {
		mc.SuspicionMult = t.SuspicionMult
	}
	if t.RetransmitMult > 0 {
		mc.RetransmitMult = t.RetransmitMult
	}
	st.forgetAfter = DefaultForgetAfter
	setDur(&st.forgetAfter, t.ForgetAfter)
	setDur(&st.loadInterval, cfg.LoadInterval)
	setDur(&st.ownerSettle, cfg.OwnerSettle)

	mc.Name = cfg.NodeName
	host, port, err := splitHostPort(cfg.BindAddr)
	if err != nil {
		return nil, st, fmt.Errorf("%w: BindAddr: %v", ErrInvalidConfig, err)
	}
	mc.BindAddr, mc.BindPort = host, port
	mc.AdvertiseAddr, mc.AdvertisePort = "", port
	if cfg.AdvertiseAddr != "" {
		host, port, err := splitHostPort(cfg.AdvertiseAddr)
		if err != nil {
			return nil, st, fmt.Errorf("%w: AdvertiseAddr: %v", ErrInvalidConfig, err)
		}
		if net.ParseIP(host) == nil {
			return nil, st, fmt.Errorf("%w: AdvertiseAddr %q: host must be an IP address", ErrInvalidConfig, cfg.AdvertiseAddr)
		}
		mc.AdvertiseAddr, mc.AdvertisePort = host, port
	}
	if len(cfg.Keys) > 0 {
		for i, k := range cfg.Keys {
			if err := memberlist.ValidateKey(k); err != nil {
				return nil, st, fmt.Errorf("%w: Keys[%d]: %v", ErrInvalidConfig, i, err)
			}
		}
		kr, err := memberlist.NewKeyring(cfg.Keys, cfg.Keys[0])
		if err != nil {
			return nil, st, fmt.Errorf("%w: keyring: %v", ErrInvalidConfig, err)
		}
		mc.Keyring = kr
		mc.GossipVerifyIncoming = true
		mc.GossipVerifyOutgoing = true
	}
	return mc, st, nil
}

func setDur(dst *time.Duration, v time.Duration) {
	if v > 0 {
		*dst = v
	}
}

func splitHostPort(addr string) (string, int, error) {
	host, ps, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	port, err := strconv.Atoi(ps)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("bad port in %q", addr)
	}
	if host == "" {
		host = "0.0.0.0"
	}
	return host, port, nil
}
