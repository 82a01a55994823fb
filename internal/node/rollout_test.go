package node_test

import (
	"fmt"
	"testing"

	"github.com/wedge-run/wedge/client"
	"github.com/wedge-run/wedge/internal/node"
	"github.com/wedge-run/wedge/internal/testutil"
)

// versionOf asks n for path with hdr and returns the X-Wedge-Version
// header, checking the body is the one that version serves.
func versionOf(t testing.TB, n *node.Node, path string, hdr map[string]string) string {
	t.Helper()
	r := testutil.Do(t, "GET", n.PublicURL()+path, nil, hdr)
	v := r.Header.Get("X-Wedge-Version")
	if r.Status != 200 || r.Body != "release "+v {
		t.Fatalf("GET %s: %d %q version %q", path, r.Status, r.Body, v)
	}
	return v
}

// TestGradualRollout: a deploy with traffic 10 serves 10% ± 2% of 5,000
// requests, the stable version the rest, each answer naming its
// version; with a traffic key every client stays on one side, and about
// 10% of clients are on the new one; promote moves every request to the
// new version, and a rollback during a rollout goes back to the stable
// one.
func TestGradualRollout(t *testing.T) {
	n := testutil.StartNode(t, "")
	cl := testutil.Client(n)
	deploy(t, n, "roll", text(t, "release 1"), "/roll")
	f, _, err := cl.Deploy(ctx, "roll", text(t, "release 2"), client.DeployOptions{Routes: []string{"/roll"}, Traffic: 10})
	if err != nil || f.Version != 2 || f.Traffic != 10 || f.StableVersion != 1 {
		t.Fatalf("rollout deploy: %+v %v", f, err)
	}
	count := map[string]int{}
	const total = 5000
	for range total {
		count[versionOf(t, n, "/roll", nil)]++
	}
	share := float64(count["2"]) / total * 100
	t.Logf("traffic 10: %d of %d requests (%.2f%%) on version 2, %d on version 1", count["2"], total, share, count["1"])
	if len(count) != 2 || share < 8 || share > 12 {
		t.Fatalf("traffic 10 gave %v over %d requests (%.2f%% on the new version)", count, total, share)
	}
	// /metrics counts each version's answers, to compare the two.
	m := testutil.Do(t, "GET", n.AdminURL()+"/metrics", nil, map[string]string{"Authorization": "Bearer " + testutil.Token})
	testutil.Contains(t, m.Body,
		fmt.Sprintf("wedge_version_requests_total{function=\"roll\",version=\"2\",code=\"2xx\"} %d\n", count["2"]),
		fmt.Sprintf("wedge_version_request_duration_seconds_count{function=\"roll\",version=\"1\"} %d\n", count["1"]))
	// Rollback during the rollout: back to version 1, every request.
	if f, err := cl.Rollback(ctx, "roll", 0); err != nil || f.Version != 1 || f.StableVersion != 0 {
		t.Fatalf("rollback of the rollout: %+v %v", f, err)
	}
	for range 200 {
		if v := versionOf(t, n, "/roll", nil); v != "1" {
			t.Fatalf("after the rollback version %s answered", v)
		}
	}
	if _, err := cl.Promote(ctx, "roll"); !client.IsStatus(err, 409) {
		t.Fatalf("promote with no rollout: %v, want 409", err)
	}

	// Keyed: a new rollout with a header key; each user always gets the
	// same version.
	f, _, err = cl.Deploy(ctx, "roll", text(t, "release 3"), client.DeployOptions{Routes: []string{"/roll"}, Traffic: 10, TrafficKey: "header:X-User"})
	if err != nil || f.Version != 3 || f.StableVersion != 1 || f.TrafficKey != "header:X-User" {
		t.Fatalf("keyed rollout: %+v %v", f, err)
	}
	onNew := 0
	const users = 500
	for u := range users {
		hdr := map[string]string{"X-User": fmt.Sprintf("user-%d", u)}
		first := versionOf(t, n, "/roll", hdr)
		for range 4 {
			if v := versionOf(t, n, "/roll", hdr); v != first {
				t.Fatalf("user-%d got version %s, then %s", u, first, v)
			}
		}
		if first == "3" {
			onNew++
		}
	}
	t.Logf("keyed traffic 10: %d of %d users on version 3", onNew, users)
	if onNew < users*5/100 || onNew > users*15/100 {
		t.Fatalf("%d of %d users on the new version, want about 10%%", onNew, users)
	}
	// A bad key or percentage is refused.
	if _, _, err := cl.Deploy(ctx, "roll", text(t, "release 9"), client.DeployOptions{Routes: []string{"/roll"}, Traffic: 10, TrafficKey: "query:u"}); !client.IsStatus(err, 400) {
		t.Errorf("traffic_key query:u: %v, want 400", err)
	}
	// Promote: version 3 serves everyone.
	if f, err := cl.Promote(ctx, "roll"); err != nil || f.Version != 3 || f.StableVersion != 0 || f.Traffic != 0 {
		t.Fatalf("promote: %+v %v", f, err)
	}
	for u := range 100 {
		if v := versionOf(t, n, "/roll", map[string]string{"X-User": fmt.Sprintf("user-%d", u)}); v != "3" {
			t.Fatalf("after promote user-%d got version %s", u, v)
		}
	}
	// A cookie key.
	if _, _, err := cl.Deploy(ctx, "roll", text(t, "release 4"), client.DeployOptions{Routes: []string{"/roll"}, Traffic: 50, TrafficKey: "cookie:session"}); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for u := range 40 {
		hdr := map[string]string{"Cookie": fmt.Sprintf("theme=dark; session=s%d", u)}
		first := versionOf(t, n, "/roll", hdr)
		if v := versionOf(t, n, "/roll", hdr); v != first {
			t.Fatalf("session s%d got version %s, then %s", u, first, v)
		}
		seen[first] = true
	}
	if !seen["3"] || !seen["4"] {
		t.Fatalf("a 50%% cookie split served only %v", seen)
	}
}
