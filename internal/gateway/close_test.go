package gateway_test

import (
	"testing"
	"time"

	"github.com/wedge-run/wedge/internal/gateway"
)

// Close right after Start returns: fasthttp's Shutdown closes only the
// listeners its Serve goroutines registered, and a Close that came before
// they ran left them accepting forever (a node whose start failed after
// the gateway's, on a taken gossip port, hung instead of exiting).
func TestCloseRightAfterStart(t *testing.T) {
	for i := 0; i < 50; i++ {
		s, err := gateway.New(gateway.Config{PublicAddr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0", AdminToken: "t"}, gateway.Deps{})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() { s.Close(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Fatalf("Close %d did not return", i)
		}
	}
}
