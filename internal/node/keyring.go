package node

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/wedge-run/wedge/internal/atomicfile"
	"github.com/wedge-run/wedge/internal/cluster"
	"github.com/wedge-run/wedge/internal/gateway"
)

// keyringFile holds the node's gossip keys in its data directory, one
// base64 key per line, the primary first. It is written after every key
// operation so that a node restarted after a rotation comes back with
// the keys the cluster uses now, whatever --cluster-key says.
const keyringFile = "cluster-keys"

// startKeys returns the keyring to start gossip with: the saved one when
// the data directory has it (flagKey added as a secondary key when it is
// not in it, so a node restarted with a new key can still be rotated to
// it), else flagKey alone, which is then saved.
func startKeys(dataDir string, flagKey []byte, log *slog.Logger) ([][]byte, error) {
	path := filepath.Join(dataDir, keyringFile)
	saved, err := readKeyring(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return [][]byte{flagKey}, writeKeyring(path, [][]byte{flagKey})
	case err != nil:
		return nil, err
	}
	for _, k := range saved {
		if bytes.Equal(k, flagKey) {
			return saved, nil
		}
	}
	log.Warn("--cluster-key is not in the keyring this node saved after a key rotation: it is installed as a secondary key; "+
		"the saved primary key stays in use (see `wedge keys`)", "keyring", path, "primary", cluster.KeyFingerprint(saved[0]))
	return append(saved, flagKey), nil
}

func readKeyring(path string) ([][]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var keys [][]byte
	sc := bufio.NewScanner(bytes.NewReader(b))
	for line := 1; sc.Scan(); line++ {
		s := strings.TrimSpace(sc.Text())
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		k, err := ParseClusterKey(s)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, line, err)
		}
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("%s: no keys; delete the file to start from --cluster-key", path)
	}
	return keys, nil
}

// writeKeyring replaces the keyring file atomically, readable by the
// owner only.
func writeKeyring(path string, keys [][]byte) error {
	var b strings.Builder
	b.WriteString("# wedge gossip keys, primary first; written by the node after each key operation\n")
	for _, k := range keys {
		b.WriteString(base64.StdEncoding.EncodeToString(k) + "\n")
	}
	return atomicfile.WriteFile(path, []byte(b.String()), 0o600)
}

// keysRoute is the admin API's /v1/cluster/keys:
//
//	GET  /v1/cluster/keys                           every member's keyring (fingerprints)
//	POST /v1/cluster/keys {"op":"install","key":K}  a rotation step on every member (op: install, use, remove)
func (n *Node) keysRoute(ctx *fasthttp.RequestCtx) {
	if string(ctx.Path()) != "/v1/cluster/keys" {
		gateway.WriteJSONError(ctx, 404, "not_found", "no such endpoint: "+string(ctx.Path()))
		return
	}
	op, key := cluster.KeyList, []byte(nil)
	switch {
	case ctx.IsGet():
	case ctx.IsPost():
		var req struct {
			Op  string `json:"op"`
			Key string `json:"key"`
		}
		if err := json.Unmarshal(ctx.PostBody(), &req); err != nil {
			gateway.WriteJSONError(ctx, 400, "invalid_request", "body: want {\"op\": \"install|use|remove\", \"key\": BASE64}: "+err.Error())
			return
		}
		switch op = cluster.KeyOp(req.Op); op {
		case cluster.KeyInstall, cluster.KeyUse, cluster.KeyRemove:
		default:
			gateway.WriteJSONError(ctx, 400, "invalid_request", fmt.Sprintf("op %q: want install, use or remove (GET lists the keys)", req.Op))
			return
		}
		k, err := ParseClusterKey(req.Key)
		if err != nil {
			gateway.WriteJSONError(ctx, 400, "invalid_request", err.Error())
			return
		}
		key = k
	default:
		gateway.WriteJSONError(ctx, 405, "method_not_allowed", "allowed: GET, POST")
		return
	}
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := n.Cluster.KeyOperation(c, op, key)
	switch {
	case errors.Is(err, cluster.ErrNotEncrypted):
		gateway.WriteJSONError(ctx, 409, "not_encrypted", "this cluster runs without --cluster-key: there are no keys to rotate")
		return
	case err != nil:
		gateway.WriteJSONError(ctx, 400, "invalid_request", err.Error())
		return
	}
	failed := 0
	for _, r := range res {
		if r.Error != "" {
			failed++
		}
	}
	if op != cluster.KeyList {
		n.Config.Log.Info("cluster: key operation", "op", string(op), "key", cluster.KeyFingerprint(key), "nodes", len(res), "failed", failed)
	}
	gateway.WriteJSON(ctx, 200, map[string]any{"op": string(op), "nodes": res, "failed": failed})
}
