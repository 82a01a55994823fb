package cluster

import "errors"

// Errors returned by the package, wrapped with %w and details: test for
// them with errors.Is.
var (
	// ErrInvalidConfig: New was given an unusable Config.
	ErrInvalidConfig = errors.New("cluster: invalid config")
	// ErrJoin: Join reached none of the given nodes (wrong address, or a
	// different gossip key).
	ErrJoin = errors.New("cluster: join failed")
	// ErrClosed: the Cluster was shut down.
	ErrClosed = errors.New("cluster: shut down")
	// ErrNotEncrypted: a key operation on a cluster started without Keys.
	ErrNotEncrypted = errors.New("cluster: gossip encryption is not enabled")
	// ErrInvalidKey: a gossip key that is not 16, 24 or 32 bytes, or a
	// key operation the keyring refuses (removing the primary key, using
	// a key not installed).
	ErrInvalidKey = errors.New("cluster: invalid gossip key")
	// ErrNoPeers: no alive peer to ask.
	ErrNoPeers = errors.New("cluster: no peer available")
	// ErrBlobMismatch: a peer sent a blob whose sha256 is not the one
	// asked for. The blob is discarded.
	ErrBlobMismatch = errors.New("cluster: blob hash mismatch")
	// ErrBlobUnavailable: no peer could provide a blob.
	ErrBlobUnavailable = errors.New("cluster: blob unavailable")
	// ErrPeerAuth: a node-to-node request without a valid peer
	// signature, or one already received (a replay).
	ErrPeerAuth = errors.New("cluster: peer authentication failed")
	// ErrPeerRequest: a node-to-node HTTP request failed.
	ErrPeerRequest = errors.New("cluster: peer request failed")
	// ErrMalformed: a gossip message or peer response that does not
	// decode.
	ErrMalformed = errors.New("cluster: malformed message")
	// ErrSealed: a sealed value (Seal) that this node cannot open: sealed
	// under a key it does not hold, altered, or for another context.
	ErrSealed = errors.New("cluster: cannot open sealed value")
)
