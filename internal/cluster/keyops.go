package cluster

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"sync"

	"github.com/valyala/fasthttp"
)

// KeyOp is a step of a gossip key rotation run on every member (see
// keys.go), or KeyList to only report each member's keyring.
type KeyOp string

const (
	KeyList    KeyOp = "list"
	KeyInstall KeyOp = "install"
	KeyUse     KeyOp = "use"
	KeyRemove  KeyOp = "remove"
)

// NodeKeys is one member's keyring after a key operation, as
// fingerprints (KeyFingerprint), or the error that member gave.
type NodeKeys struct {
	Node    string   `json:"node"`
	Primary string   `json:"primary,omitempty"`
	Keys    []string `json:"keys,omitempty"` // primary first
	Error   string   `json:"error,omitempty"`
}

// KeyOperation runs op with key on this node, then on every alive
// member, and returns each member's keyring afterwards (members that
// are not alive are reported with an error: run the step again once
// they are back). It fails only when op cannot run here at all (an
// unknown op, no encryption, an invalid key); a member's failure is in
// its NodeKeys. Requests to members carry the key encrypted under this
// node's primary key, so the admin network never sees it.
func (c *Cluster) KeyOperation(ctx context.Context, op KeyOp, key []byte) ([]NodeKeys, error) {
	self, err := c.applyKeyOp(op, key)
	if err != nil {
		return nil, err
	}
	out := []NodeKeys{self}
	sealed, err := c.sealKeyOp(op, key)
	if err != nil {
		return nil, err
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, m := range c.Members() {
		if m.Self {
			continue
		}
		if m.State != StateAlive || m.Meta.AdminAddr == "" {
			mu.Lock()
			out = append(out, NodeKeys{Node: m.Name, Error: "member is " + string(m.State) + ": not changed"})
			mu.Unlock()
			continue
		}
		wg.Add(1)
		go func(m Member) {
			defer wg.Done()
			nk := NodeKeys{Node: m.Name}
			b, _, err := c.peerDo(ctx, m.Name, m.Meta.AdminAddr, "POST", InternalPrefix+"keys", nil, sealed, 1<<16)
			if err == nil {
				err = json.Unmarshal(b, &nk)
			}
			if err != nil {
				nk = NodeKeys{Node: m.Name, Error: err.Error()}
			}
			mu.Lock()
			out = append(out, nk)
			mu.Unlock()
		}(m)
	}
	wg.Wait()
	sort.Slice(out[1:], func(i, j int) bool { return out[1+i].Node < out[1+j].Node })
	return out, nil
}

// applyKeyOp runs op on this node and returns its keyring after it.
func (c *Cluster) applyKeyOp(op KeyOp, key []byte) (NodeKeys, error) {
	var err error
	switch op {
	case KeyList:
		_, err = c.keyring()
	case KeyInstall:
		err = c.InstallKey(key)
	case KeyUse:
		err = c.UseKey(key)
	case KeyRemove:
		err = c.RemoveKey(key)
	default:
		err = fmt.Errorf("%w: unknown key operation %q (want list, install, use or remove)", ErrInvalidKey, op)
	}
	if err != nil {
		return NodeKeys{}, err
	}
	nk := NodeKeys{Node: c.cfg.NodeName}
	for _, k := range c.Keys() {
		nk.Keys = append(nk.Keys, KeyFingerprint(k))
	}
	if len(nk.Keys) > 0 {
		nk.Primary = nk.Keys[0]
	}
	return nk, nil
}

// keyOpMsg is the plaintext of a sealed key operation.
type keyOpMsg struct {
	Op  KeyOp  `json:"op"`
	Key []byte `json:"key,omitempty"`
}

// keyOpAEAD is AES-256-GCM under a key derived from a gossip key.
func keyOpAEAD(gossipKey []byte) (cipher.AEAD, error) {
	mac := hmac.New(sha256.New, gossipKey)
	mac.Write([]byte("wedge cluster key operation v1"))
	block, err := aes.NewCipher(mac.Sum(nil))
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// sealKeyOp encrypts a key operation under this node's primary key:
// nonce, then ciphertext.
func (c *Cluster) sealKeyOp(op KeyOp, key []byte) ([]byte, error) {
	keys := c.Keys()
	if len(keys) == 0 {
		return nil, ErrNotEncrypted
	}
	aead, err := keyOpAEAD(keys[0])
	if err != nil {
		return nil, err
	}
	plain, _ := json.Marshal(keyOpMsg{Op: op, Key: key})
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plain)+aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return aead.Seal(nonce, nonce, plain, nil), nil
}

// openKeyOp decrypts a key operation under any installed key.
func (c *Cluster) openKeyOp(sealed []byte) (keyOpMsg, error) {
	for _, k := range c.Keys() {
		aead, err := keyOpAEAD(k)
		if err != nil || len(sealed) < aead.NonceSize() {
			continue
		}
		plain, err := aead.Open(nil, sealed[:aead.NonceSize()], sealed[aead.NonceSize():], nil)
		if err != nil {
			continue
		}
		var m keyOpMsg
		if err := json.Unmarshal(plain, &m); err != nil {
			return keyOpMsg{}, err
		}
		return m, nil
	}
	return keyOpMsg{}, errors.New("the key operation is not encrypted under any key installed here")
}

// serveKeys is POST /v1/internal/keys: a sealed key operation from a
// peer, answered with this node's NodeKeys.
func (c *Cluster) serveKeys(ctx *fasthttp.RequestCtx) {
	if !ctx.IsPost() {
		writeError(ctx, fasthttp.StatusMethodNotAllowed, "method_not_allowed", "allowed: POST")
		return
	}
	msg, err := c.openKeyOp(ctx.PostBody())
	if err != nil {
		writeError(ctx, fasthttp.StatusBadRequest, "bad_request", err.Error())
		return
	}
	nk, err := c.applyKeyOp(msg.Op, msg.Key)
	if err != nil {
		writeError(ctx, fasthttp.StatusBadRequest, "key_operation_failed", err.Error())
		return
	}
	if msg.Op != KeyList {
		c.log.Info("cluster: keyring changed by a peer", "op", string(msg.Op), "primary", nk.Primary, "keys", len(nk.Keys))
	}
	b, _ := json.Marshal(nk)
	ctx.SetContentType("application/json")
	ctx.SetBody(b)
}
