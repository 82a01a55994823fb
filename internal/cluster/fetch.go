package cluster

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/wedge-run/wedge/internal/kv"
)

// Limits of the node-to-node KV endpoints.
const (
	entriesPageLimit  = 2000    // entries per page of GET ?entries
	recordsBatchKeys  = 256     // keys per POST ?records
	maxRecordsBody    = 8 << 20 // a records response stops after this many bytes (at least one record)
	maxEntriesBody    = 4 << 20 // bound on an entries page
	maxFunctionRecord = 1 << 20 // bound on a function record fetched over HTTP
	keysDoneHeader    = "X-Wedge-Keys-Done"
)

// baseURL turns an admin address into a URL prefix.
func baseURL(admin string) string {
	if strings.Contains(admin, "://") {
		return strings.TrimRight(admin, "/")
	}
	return "http://" + admin
}

// peerDo sends a request signed for node to (PeerAuthHeader) to its
// admin address and returns the body of a 200 answer, read up to limit
// bytes; other statuses and longer bodies are errors wrapping
// ErrPeerRequest.
func (c *Cluster) peerDo(ctx context.Context, to, admin, method, path string, query url.Values, body []byte, limit int64) ([]byte, http.Header, error) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.FetchTimeout)
	defer cancel()
	u := baseURL(admin) + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %s %s: %v", ErrPeerRequest, method, u, err)
	}
	req.Header.Set(PeerAuthHeader, signPeer(c.secrets.Load().sign, c.cfg.NodeName, to, method, req.URL.RequestURI(), body, c.clock.Now()))
	if body != nil {
		req.Header.Set("Content-Type", "application/octet-stream")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %s %s: %v", ErrPeerRequest, method, u, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %s %s: reading answer: %v", ErrPeerRequest, method, u, err)
	}
	if resp.StatusCode != http.StatusOK {
		msg := strings.TrimSpace(string(b[:min(len(b), 200)]))
		return nil, nil, fmt.Errorf("%w: %s %s: status %d: %s", ErrPeerRequest, method, u, resp.StatusCode, msg)
	}
	if int64(len(b)) > limit {
		return nil, nil, fmt.Errorf("%w: %s %s: answer larger than %d bytes", ErrPeerRequest, method, u, limit)
	}
	return b, resp.Header, nil
}

// peersFor returns the alive peers with an admin address to ask, first
// those named in prefer (in order), then, if others, the rest in random
// order. Never this node.
func (c *Cluster) peersFor(prefer []string, others bool) []Member {
	var out []Member
	seen := map[string]bool{c.cfg.NodeName: true}
	for _, name := range prefer {
		if seen[name] {
			continue
		}
		seen[name] = true
		if m, ok := c.members.get(name); ok && m.State == StateAlive && m.Meta.AdminAddr != "" {
			out = append(out, m)
		}
	}
	if others {
		rest := c.members.aliveMembers()
		rand.Shuffle(len(rest), func(i, j int) { rest[i], rest[j] = rest[j], rest[i] })
		for _, m := range rest {
			if !seen[m.Name] && m.Meta.AdminAddr != "" {
				seen[m.Name] = true
				out = append(out, m)
			}
		}
	}
	return out
}

// ValidSHA256 reports whether s is a lower-case hex sha256.
func ValidSHA256(s string) bool {
	if len(s) != 2*sha256.Size {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !('0' <= s[i] && s[i] <= '9' || 'a' <= s[i] && s[i] <= 'f') {
			return false
		}
	}
	return true
}

// FetchBlob gets the module blob with the given sha256 (lower-case hex)
// from a peer: GET /v1/internal/blobs/{sha} on its admin address, with
// peer authentication. It asks the alive nodes named in from first, in
// order (the node that deployed the function holds the blob), then the
// other alive nodes in random order, and returns the first blob whose
// sha256 matches. A blob that does not match is discarded and logged
// (error ErrBlobMismatch) and the next peer is asked. If no peer
// provides it, the error wraps ErrBlobUnavailable and the error of each
// attempt (errors.Is works on them: ErrBlobMismatch, ErrPeerRequest);
// with no peer to ask, ErrNoPeers.
func (c *Cluster) FetchBlob(ctx context.Context, sha string, from []string) ([]byte, error) {
	if !ValidSHA256(sha) {
		return nil, fmt.Errorf("%w: %q is not a lower-case hex sha256", ErrBlobUnavailable, sha)
	}
	if c.closed.Load() {
		return nil, ErrClosed
	}
	// Shutdown aborts the fetch, whatever ctx the caller passed.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(c.ctx, cancel)()
	peers := c.peersFor(from, true)
	if len(peers) == 0 {
		return nil, fmt.Errorf("%w: %w for blob %s", ErrBlobUnavailable, ErrNoPeers, sha)
	}
	var errs []error
	for _, p := range peers {
		if ctx.Err() != nil {
			errs = append(errs, ctx.Err())
			break
		}
		b, _, err := c.peerDo(ctx, p.Name, p.Meta.AdminAddr, http.MethodGet, "/v1/internal/blobs/"+sha, nil, nil, c.cfg.MaxBlobBytes)
		if err != nil {
			errs = append(errs, fmt.Errorf("from %s: %w", p.Name, err))
			continue
		}
		sum := sha256.Sum256(b)
		if got := hex.EncodeToString(sum[:]); got != sha {
			err := fmt.Errorf("%w: %s sent %d bytes with sha256 %s, want %s; discarded", ErrBlobMismatch, p.Name, len(b), got, sha)
			c.log.Warn("cluster: "+err.Error(), "peer", p.Name)
			c.stats.blobMismatch.Add(1)
			errs = append(errs, err)
			continue
		}
		c.stats.blobsFetched.Add(1)
		return b, nil
	}
	return nil, fmt.Errorf("%w: blob %s from %d peer(s): %w", ErrBlobUnavailable, sha, len(peers), errors.Join(errs...))
}

// fetchFunction is the worker for function announcements: pull the
// record from the node that announced it (else the writer, else anyone)
// and queue it for the registry.
func (c *Cluster) fetchFunction(_ string, a wireAnnounce) {
	for _, p := range c.peersFor([]string{a.From, a.Node}, true) {
		b, _, err := c.peerDo(c.ctx, p.Name, p.Meta.AdminAddr, http.MethodGet, "/v1/internal/functions/"+url.PathEscape(a.Name), nil, nil, maxFunctionRecord)
		if err != nil {
			c.log.Debug("cluster: fetching function record", "function", a.Name, "peer", p.Name, "err", err)
			continue
		}
		rec, err := decodeFunction(b)
		if err != nil || rec.Name != a.Name {
			c.log.Warn("cluster: bad function record from peer", "function", a.Name, "peer", p.Name, "err", err)
			continue
		}
		if !c.fnQ.put(rec.Name, fnWork{rec: rec, announce: true}) { // the function workers serialize per name
			c.stats.dropped.Add(1)
		}
		return
	}
	c.stats.fetchErrors.Add(1)
	c.log.Warn("cluster: could not fetch announced function record; push/pull will repair", "function", a.Name, "from", a.From)
}

// fetchKV is the worker for KV announcements: unless this node already
// holds the announced write or a newer one, pull the record from the
// announcer (else the writer), apply it, and if it won, announce it
// from here.
func (c *Cluster) fetchKV(_ string, a announce) {
	if cur, err := c.kv.Export(a.Namespace, a.Key); err == nil && !Newer(a.Stamp, a.Node, cur.Stamp, cur.Node) {
		return
	}
	var last error
	for _, p := range c.peersFor([]string{a.From, a.Node}, false) {
		recs, err := c.fetchRecords(p, a.Namespace, []string{a.Key})
		if err != nil {
			last = err
			continue
		}
		for _, rec := range recs {
			c.applyPulled(rec, true)
		}
		return
	}
	c.stats.fetchErrors.Add(1)
	c.log.Warn("cluster: could not pull announced kv record; push/pull will repair", "ns", a.Namespace, "key", a.Key, "from", a.From, "err", last)
}

// applyPulled applies a record pulled over HTTP; if it won and relay is
// set, it is gossiped on (inline, or announced from this node).
func (c *Cluster) applyPulled(rec kv.Change, relay bool) bool {
	applied, err := c.kv.Apply(rec)
	if err != nil {
		c.stats.kvErrors.Add(1)
		c.log.Warn("cluster: applying pulled kv record", "ns", rec.Namespace, "key", rec.Key, "err", err)
		return false
	}
	if !applied {
		return false
	}
	c.stats.kvApplied.Add(1)
	if relay {
		c.out.queue(kvBroadcastName(rec.Namespace, rec.Key), rec.Stamp, rec.Node, encodeKVMessage(&rec, c.cfg.NodeName), false)
	}
	return true
}

// fetchRecords pulls the records of keys in namespace ns from peer p
// (POST /v1/internal/kv/{ns}?records). Keys p does not hold are absent
// from the result.
func (c *Cluster) fetchRecords(p Member, ns string, keys []string) ([]kv.Change, error) {
	var out []kv.Change
	for len(keys) > 0 {
		batch := keys[:min(len(keys), recordsBatchKeys)]
		var body []byte
		for _, k := range batch {
			body = appendStr(body, k)
		}
		b, hdr, err := c.peerDo(c.ctx, p.Name, p.Meta.AdminAddr, http.MethodPost, "/v1/internal/kv/"+url.PathEscape(ns), url.Values{"records": {""}}, body, maxRecordsBody+2*kv.MaxValueLen)
		if err != nil {
			return out, err
		}
		done, err := strconv.Atoi(hdr.Get(keysDoneHeader))
		if err != nil || done < 1 || done > len(batch) {
			return out, fmt.Errorf("%w: records from %s: bad %s header %q", ErrMalformed, p.Name, keysDoneHeader, hdr.Get(keysDoneHeader))
		}
		asked := make(map[string]bool, done)
		for _, k := range batch[:done] {
			asked[k] = true
		}
		for len(b) > 0 {
			rec, rest, err := decodeChange(b)
			if err != nil {
				return out, fmt.Errorf("records from %s: %w", p.Name, err)
			}
			if rec.Namespace != ns || !asked[rec.Key] {
				return out, fmt.Errorf("%w: records from %s: unexpected key %s/%q", ErrMalformed, p.Name, rec.Namespace, rec.Key)
			}
			out = append(out, rec)
			b = rest
		}
		c.stats.kvFetched.Add(uint64(done))
		keys = keys[done:]
	}
	return out, nil
}

// fetchEntries pulls one page of peer p's entries of namespace ns
// (GET /v1/internal/kv/{ns}?entries) at its admin address.
func (c *Cluster) fetchEntries(peer, admin, ns, after string) ([]EntryMeta, bool, error) {
	q := url.Values{"entries": {""}, "limit": {strconv.Itoa(entriesPageLimit)}}
	if after != "" {
		q.Set("after", after)
	}
	b, _, err := c.peerDo(c.ctx, peer, admin, http.MethodGet, "/v1/internal/kv/"+url.PathEscape(ns), q, nil, maxEntriesBody)
	if err != nil {
		return nil, false, err
	}
	return decodeEntries(b)
}

// Binary encoding of an entries page:
//
//	more      1 byte (0 or 1)
//	count     uvarint
//	entries   key (uvarint length + bytes), stamp (12 bytes),
//	          node (uvarint length + bytes), flags (1 byte: 1 = tombstone)
func appendEntries(b []byte, entries []EntryMeta, more bool) []byte {
	if more {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	b = binary.AppendUvarint(b, uint64(len(entries)))
	for i := range entries {
		e := &entries[i]
		b = appendStr(b, e.Key)
		b = e.Stamp.Append(b)
		b = appendStr(b, e.Node)
		if e.Deleted {
			b = append(b, 1)
		} else {
			b = append(b, 0)
		}
	}
	return b
}

// minEntryBytes is the smallest encoded entry: an empty key and node
// (one length byte each), a stamp, the flags byte.
const minEntryBytes = 1 + 12 + 1 + 1

func decodeEntries(b []byte) ([]EntryMeta, bool, error) {
	r := reader{b: b}
	more := r.byte() == 1
	n := r.uvarint()
	if r.err == nil && n > uint64(len(r.b)/minEntryBytes) { // more entries than the bytes can hold
		r.fail("count")
	}
	var out []EntryMeta
	if r.err == nil {
		out = make([]EntryMeta, 0, n)
	}
	for i := uint64(0); i < n && r.err == nil; i++ {
		e := EntryMeta{Key: r.str(), Stamp: r.stamp(), Node: r.str()}
		e.Deleted = r.byte() == 1
		out = append(out, e)
	}
	if r.err == nil && len(r.b) != 0 {
		r.fail("trailer")
	}
	if r.err != nil {
		return nil, false, fmt.Errorf("%w: entries page: %v", ErrMalformed, r.err)
	}
	return out, more, nil
}
