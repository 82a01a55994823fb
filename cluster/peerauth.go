package cluster

import (
	"crypto/hmac"
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
//	X-Wedge-Peer-Auth: v1 <node> <unix-seconds> <hex HMAC-SHA256>
//
// The HMAC, keyed with Config.PeerSecret, covers the line
// "wedge-peer-v1", the method, the request URI (path and query, as
// sent), the timestamp, the node name and the hex sha256 of the body,
// separated by '\n'. A request is accepted within PeerAuthWindow of the
// receiver's clock, either way. The signature authenticates the sending
// node and the request; it does not hide anything: run the admin API on
// a private network or behind TLS.
const PeerAuthHeader = "X-Wedge-Peer-Auth"

// PeerAuthWindow is the accepted clock difference for a signed request.
const PeerAuthWindow = 5 * time.Minute

// DerivePeerSecret derives the PeerSecret from key material the nodes
// share (the cluster key, else the admin token when every node has the
// same one), so that the material itself is never sent or reused as
// is.
func DerivePeerSecret(material []byte) []byte {
	mac := hmac.New(sha256.New, material)
	mac.Write([]byte("wedge cluster peer auth v1"))
	return mac.Sum(nil)
}

func peerMAC(secret []byte, method, uri string, unix int64, node string, body []byte) []byte {
	bh := sha256.Sum256(body)
	mac := hmac.New(sha256.New, secret)
	fmt.Fprintf(mac, "wedge-peer-v1\n%s\n%s\n%d\n%s\n%x", method, uri, unix, node, bh)
	return mac.Sum(nil)
}

// signPeer returns the PeerAuthHeader value for a request.
func signPeer(secret []byte, node, method, uri string, body []byte, now time.Time) string {
	unix := now.Unix()
	return "v1 " + url.QueryEscape(node) + " " + strconv.FormatInt(unix, 10) + " " +
		hex.EncodeToString(peerMAC(secret, method, uri, unix, node, body))
}

// verifyPeer checks a PeerAuthHeader value and returns the signing
// node's name.
func verifyPeer(secret []byte, header, method, uri string, body []byte, now time.Time) (string, error) {
	if header == "" {
		return "", fmt.Errorf("%w: missing %s header", ErrPeerAuth, PeerAuthHeader)
	}
	f := strings.Fields(header)
	if len(f) != 4 || f[0] != "v1" {
		return "", fmt.Errorf("%w: malformed %s header", ErrPeerAuth, PeerAuthHeader)
	}
	node, err := url.QueryUnescape(f[1])
	if err != nil {
		return "", fmt.Errorf("%w: malformed node name", ErrPeerAuth)
	}
	unix, err := strconv.ParseInt(f[2], 10, 64)
	if err != nil {
		return "", fmt.Errorf("%w: malformed timestamp", ErrPeerAuth)
	}
	sig, err := hex.DecodeString(f[3])
	if err != nil || len(sig) != sha256.Size {
		return "", fmt.Errorf("%w: malformed signature", ErrPeerAuth)
	}
	if d := now.Sub(time.Unix(unix, 0)); d > PeerAuthWindow || d < -PeerAuthWindow {
		return "", fmt.Errorf("%w: timestamp %v away from this node's clock (limit %v)", ErrPeerAuth, d.Round(time.Second), PeerAuthWindow)
	}
	if !hmac.Equal(sig, peerMAC(secret, method, uri, unix, node, body)) {
		return "", fmt.Errorf("%w: bad signature", ErrPeerAuth)
	}
	return node, nil
}
