// Package certs owns the certificates the public gateway's HTTPS
// listener presents: pairs of PEM files chosen by SNI and reloaded when
// they change (Files), and certificates obtained through ACME
// (golang.org/x/crypto/acme/autocert) whose cache lives in the node's
// key-value store, so that every node of a cluster serves the same
// certificates (Cache).
//
// # Files
//
// Each pair is a certificate chain and its private key. A certificate
// serves the DNS names of its subject alternative names (a wildcard SAN,
// *.example.com, covers one label, as TLS clients check it); a ClientHello
// whose server name no certificate covers, or that has none, gets the
// first pair. Files polls the files' modification times and sizes
// (Watch) and re-reads them all on a change or on Reload (the node calls
// it on SIGHUP); a set that fails to load (a certificate written before
// its key) leaves the previous one in service and is tried again at the
// next change.
//
// # ACME
//
// Manager answers for the --acme-domain names: HTTP-01 challenges on the
// public HTTP port (ChallengeHandler) and certificates on demand during
// the TLS handshake. Its cache (account key, certificates and their
// keys, pending challenge tokens) is the reserved KV namespace
// CacheNamespace: KV replication gives every node the certificate one of
// them obtained, and lets any node answer a challenge another node
// started. Values are sealed with the cluster's keyring before they are
// stored when the node is in a cluster (they replicate over the admin
// network); a clustered node without a cluster key refuses ACME.
package certs
