// Package node assembles one wedge node from its parts: storage (the bbolt
// file), the runtime engine, the function registry, logs, the key-value
// store, the gateway servers and, when configured, the cluster. It owns
// start-up order, the data directory layout and shutdown. It wires the
// parts together and keeps no logic of theirs: replication of the
// function and app records is the registry's (registry.Replication),
// served to the cluster as it is.
//
// Data directory:
//
//	<data>/wedge.db        bbolt: functions, apps, module blobs, key-value data, node identity
//	<data>/artifacts/      compiled native code, content-addressed, memory-mapped
//	<data>/admin-token     the generated admin token (mode 0600), when none was given
package node
