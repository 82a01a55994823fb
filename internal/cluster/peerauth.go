package cluster

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// PeerAuthHeader carries the signature of a node-to-node request:
//
//	X-Wedge-Peer-Auth: v2 <from> <unix-milliseconds> <nonce> <hex HMAC-SHA256>
//
// from is the sending node's name (query-escaped), nonce 16 random
// bytes in hex, fresh for every request. The HMAC, keyed with a peer
// secret (see Config.PeerSecret), covers the line "wedge-peer-v2", the
// method, the path and the raw query (both as sent), the timestamp, the
// nonce, the sending and the receiving node's names and the hex sha256
// of the body, one per line. The receiver accepts a request within
// PeerAuthWindow of its clock, either way, and each nonce once
// (replayCache): a captured request cannot be sent again, to the same
// node or, since the receiver's name is signed, to another. The
// signature authenticates the request; it hides nothing: what must stay
// secret in a request or an answer is sealed (Seal).
const PeerAuthHeader = "X-Wedge-Peer-Auth"

// PeerAuthWindow is the accepted clock difference for a signed request.
const PeerAuthWindow = 5 * time.Minute

// peerNonceLen is the length of a request nonce, in bytes.
const peerNonceLen = 16

// DerivePeerSecret derives the PeerSecret from key material the nodes
// share (the cluster key, else the admin token when every node has the
// same one), so that the material itself is never sent or reused as
// is.
func DerivePeerSecret(material []byte) []byte {
	mac := hmac.New(sha256.New, material)
	mac.Write([]byte("wedge cluster peer auth v1"))
	return mac.Sum(nil)
}

// peerRequest is what a peer signature covers.
type peerRequest struct {
	from, to    string
	method, uri string // uri: the request URI as sent, path and raw query
	body        []byte
	unixMilli   int64
	nonce       [peerNonceLen]byte
}

func (r *peerRequest) mac(secret []byte) []byte {
	path, query, _ := strings.Cut(r.uri, "?")
	bh := sha256.Sum256(r.body)
	mac := hmac.New(sha256.New, secret)
	fmt.Fprintf(mac, "wedge-peer-v2\n%s\n%s\n%s\n%d\n%x\n%s\n%s\n%x",
		r.method, path, query, r.unixMilli, r.nonce, url.QueryEscape(r.from), url.QueryEscape(r.to), bh)
	return mac.Sum(nil)
}

// signPeer returns the PeerAuthHeader value for a request from node
// from to node to, with a fresh nonce.
func signPeer(secret []byte, from, to, method, uri string, body []byte, now time.Time) string {
	r := peerRequest{from: from, to: to, method: method, uri: uri, body: body, unixMilli: now.UnixMilli()}
	if _, err := rand.Read(r.nonce[:]); err != nil {
		panic("cluster: no randomness for a peer nonce: " + err.Error()) // crypto/rand does not fail on supported systems
	}
	return "v2 " + url.QueryEscape(from) + " " + strconv.FormatInt(r.unixMilli, 10) + " " +
		hex.EncodeToString(r.nonce[:]) + " " + hex.EncodeToString(r.mac(secret))
}

// verifyPeer checks a PeerAuthHeader value received by node to under
// any of secrets, and returns the verified request (its sender, time and
// nonce). It does not look at the nonce: replayCache does.
func verifyPeer(secrets [][]byte, header, to, method, uri string, body []byte, now time.Time) (peerRequest, error) {
	if header == "" {
		return peerRequest{}, fmt.Errorf("%w: missing %s header", ErrPeerAuth, PeerAuthHeader)
	}
	f := strings.Fields(header)
	if len(f) != 5 || f[0] != "v2" {
		return peerRequest{}, fmt.Errorf("%w: malformed %s header (want v2 with 5 fields)", ErrPeerAuth, PeerAuthHeader)
	}
	r := peerRequest{to: to, method: method, uri: uri, body: body}
	var err error
	if r.from, err = url.QueryUnescape(f[1]); err != nil {
		return peerRequest{}, fmt.Errorf("%w: malformed node name", ErrPeerAuth)
	}
	if r.unixMilli, err = strconv.ParseInt(f[2], 10, 64); err != nil {
		return peerRequest{}, fmt.Errorf("%w: malformed timestamp", ErrPeerAuth)
	}
	if len(f[3]) != 2*peerNonceLen {
		return peerRequest{}, fmt.Errorf("%w: malformed nonce", ErrPeerAuth)
	}
	if _, err := hex.Decode(r.nonce[:], []byte(f[3])); err != nil {
		return peerRequest{}, fmt.Errorf("%w: malformed nonce", ErrPeerAuth)
	}
	sig, err := hex.DecodeString(f[4])
	if err != nil || len(sig) != sha256.Size {
		return peerRequest{}, fmt.Errorf("%w: malformed signature", ErrPeerAuth)
	}
	if d := now.Sub(time.UnixMilli(r.unixMilli)); d > PeerAuthWindow || d < -PeerAuthWindow {
		return peerRequest{}, fmt.Errorf("%w: timestamp %v away from this node's clock (limit %v)", ErrPeerAuth, d.Round(time.Second), PeerAuthWindow)
	}
	for _, secret := range secrets {
		if hmac.Equal(sig, r.mac(secret)) {
			return r, nil
		}
	}
	return peerRequest{}, fmt.Errorf("%w: bad signature", ErrPeerAuth)
}
