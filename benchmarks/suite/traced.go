package suite

import (
	"context"
	"path/filepath"
	"time"

	"github.com/wedge-run/wedge/client"
)

// SeriesWedgeWATTraced is the WAT hello on a second node started with
// `--trace-sample 1`: every request recorded as a trace (request,
// admission, instantiate and guest-run spans) into the node's in-memory
// ring. Read beside wedge-wat, it is the cost of tracing on; wedge-wat is
// tracing off.
const SeriesWedgeWATTraced = "wedge-wat-traced"

// tracedNodeDir is the traced node's data directory, under the work
// directory.
const tracedNodeDir = "node-http-traced"

// tracedGroup is a wedge node with tracing on serving the WAT hello at
// /wat-hello. Never against Options.Target (its tracing is its own).
func (e *Env) tracedGroup() *serverGroup {
	g := &serverGroup{name: "wedge node (tracing on)", series: []string{SeriesWedgeWATTraced}, estimate: 2 * time.Second}
	var node *Node
	g.start = func(ctx context.Context) (map[string]string, map[string]error) {
		dataDir := filepath.Join(e.workDir, tracedNodeDir)
		var err error
		if node, err = e.StartNodeArgs(ctx, dataDir, "", "--trace-sample", "1"); err != nil {
			return nil, allFailed(g.series, err)
		}
		if err := e.seedArtifacts(dataDir); err != nil {
			return nil, allFailed(g.series, err)
		}
		b, err := e.HelloWasm()
		if err == nil {
			_, _, err = node.Client().Deploy(ctx, "wat-hello", b, client.DeployOptions{Routes: []string{"/wat-hello"}})
		}
		url := node.Public + "/wat-hello"
		if err == nil {
			err = checkAnswer(ctx, url, helloBody)
		}
		if err != nil {
			return nil, allFailed(g.series, err)
		}
		return map[string]string{SeriesWedgeWATTraced: url}, nil
	}
	g.stop = func() error {
		if node != nil {
			return node.Stop()
		}
		return nil
	}
	return g
}
