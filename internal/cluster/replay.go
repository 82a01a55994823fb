package cluster

import (
	"container/heap"
	"fmt"
	"sync"
	"time"
)

// replayCacheSize bounds the nonces a node remembers: 4.2 MB of heap
// when full (a map entry and a heap entry each, measured). It covers 109 signed
// requests per second sustained over the 10 minutes a nonce must be
// kept (a timestamp up to PeerAuthWindow ahead stays valid until
// PeerAuthWindow after it); past that, the oldest nonces are dropped
// and the floor rises (see replayCache), so the window narrows but a
// replay is still refused.
const replayCacheSize = 1 << 16

// replayCache remembers the nonce of every signed request accepted
// within the window, so that each is accepted once. Memory is bounded
// twice over: a nonce is dropped once its timestamp is out of the
// window (its request would be refused anyway), and when max nonces
// are held the one with the oldest timestamp is dropped and the floor
// rises to its timestamp: a request stamped at or before the floor is
// refused, whether or not its nonce was seen, so dropping a nonce never
// lets its request back in. The floor starts at the time the cache was
// made, so a node that restarted (and forgot its nonces) refuses
// anything signed before it started.
type replayCache struct {
	mu     sync.Mutex
	max    int
	window time.Duration
	floor  int64 // Unix ms: requests stamped at or before it are refused
	seen   map[[peerNonceLen]byte]struct{}
	order  nonceHeap // by timestamp, oldest first
}

func newReplayCache(max int, window time.Duration, now time.Time) *replayCache {
	return &replayCache{max: max, window: window, floor: now.UnixMilli() - 1, seen: make(map[[peerNonceLen]byte]struct{})}
}

// accept records the nonce of a verified request stamped at unixMilli
// and reports an error wrapping ErrPeerAuth if the request must be
// refused: its nonce was seen, or it is older than the cache covers.
func (rc *replayCache) accept(nonce [peerNonceLen]byte, unixMilli int64, now time.Time) error {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	// Forget nonces whose requests the window check now refuses.
	expired := now.Add(-rc.window).UnixMilli()
	for len(rc.order) > 0 && rc.order[0].at < expired {
		delete(rc.seen, heap.Pop(&rc.order).(nonceEntry).nonce)
	}
	if unixMilli <= rc.floor {
		return fmt.Errorf("%w: request signed at or before %s, older than this node's replay cache covers",
			ErrPeerAuth, time.UnixMilli(rc.floor).UTC().Format(time.RFC3339Nano))
	}
	if _, ok := rc.seen[nonce]; ok {
		return fmt.Errorf("%w: replayed request (nonce already used)", ErrPeerAuth)
	}
	if len(rc.order) >= rc.max {
		if unixMilli <= rc.order[0].at {
			return fmt.Errorf("%w: request older than every one in this node's full replay cache", ErrPeerAuth)
		}
		old := heap.Pop(&rc.order).(nonceEntry)
		delete(rc.seen, old.nonce)
		rc.floor = max(rc.floor, old.at)
	}
	rc.seen[nonce] = struct{}{}
	heap.Push(&rc.order, nonceEntry{at: unixMilli, nonce: nonce})
	return nil
}

// len returns the number of nonces held.
func (rc *replayCache) len() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.seen)
}

type nonceEntry struct {
	at    int64
	nonce [peerNonceLen]byte
}

// nonceHeap is a min-heap of nonces by timestamp (container/heap).
type nonceHeap []nonceEntry

func (h nonceHeap) Len() int           { return len(h) }
func (h nonceHeap) Less(i, j int) bool { return h[i].at < h[j].at }
func (h nonceHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *nonceHeap) Push(x any)        { *h = append(*h, x.(nonceEntry)) }
func (h *nonceHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}
