package node

// keyOwner answers the gateway's affinity question (registry/affinity.go):
// the public address of the alive member that owns key by rendezvous
// hashing, and whether it is this node.
func (n *Node) keyOwner(key string) (addr string, self, ok bool) {
	name := n.Cluster.Owner(key)
	if name == "" {
		return "", false, false
	}
	if name == n.Config.NodeName {
		return "", true, true
	}
	m, found := n.Cluster.Member(name)
	if !found || m.Meta.PublicAddr == "" {
		return "", false, false
	}
	return m.Meta.PublicAddr, false, true
}
