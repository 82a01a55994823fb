package kv

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"
)

var modes = []writeMode{modeGroup, modeBatch, modeUpdate}

// TestHammerIncrement: N goroutines x M increments of one counter end at
// exactly N*M, in every write mode.
func TestHammerIncrement(t *testing.T) {
	for _, m := range modes {
		t.Run(m.String(), func(t *testing.T) {
			e := newEnv(t, withMode(m))
			const n, per = 16, 50
			var wg sync.WaitGroup
			errs := make(chan error, n)
			for range n {
				wg.Go(func() {
					for range per {
						if _, _, err := e.s.Increment(context.Background(), "app", "counter", 1); err != nil {
							errs <- err
							return
						}
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			g := mustGet(t, e.s, "app", "counter")
			if string(g.Value) != strconv.Itoa(n*per) || g.Version != n*per {
				t.Fatalf("counter = %q at version %d, want %d", g.Value, g.Version, n*per)
			}
		})
	}
}

// TestHammerCAS: N goroutines each add M to one counter with a
// read/compare-and-swap loop; conflicts are retried, none is lost.
func TestHammerCAS(t *testing.T) {
	for _, m := range modes {
		t.Run(m.String(), func(t *testing.T) {
			e := newEnv(t, withMode(m))
			s := e.s
			const n, per = 8, 25
			deadline := time.Now().Add(60 * time.Second)
			var wg sync.WaitGroup
			errs := make(chan error, n)
			var mu sync.Mutex
			conflicts := 0
			for range n {
				wg.Go(func() {
					for done := 0; done < per; {
						if time.Now().After(deadline) {
							errs <- errors.New("CAS loop did not finish in time")
							return
						}
						var cur int
						var ver uint64
						g, err := s.Get("app", "cas")
						switch {
						case errors.Is(err, ErrNotFound):
						case err != nil:
							errs <- err
							return
						default:
							cur, _ = strconv.Atoi(string(g.Value))
							ver = g.Version
						}
						_, err = s.Put(context.Background(), "app", "cas", []byte(strconv.Itoa(cur+1)), PutOptions{IfVersion: &ver})
						switch {
						case errors.Is(err, ErrVersionConflict):
							mu.Lock()
							conflicts++
							mu.Unlock()
						case err != nil:
							errs <- err
							return
						default:
							done++
						}
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			g := mustGet(t, s, "app", "cas")
			if string(g.Value) != strconv.Itoa(n*per) || g.Version != n*per {
				t.Fatalf("counter = %q at version %d, want %d", g.Value, g.Version, n*per)
			}
			t.Logf("%d conflicts retried", conflicts)
		})
	}
}

// TestConflictDoesNotFailNeighbours: many concurrent creates of one key
// with IfVersion 0 (exactly one wins) run alongside unconditional writes
// of other keys, which all succeed although they share transactions with
// the failing ones.
func TestConflictDoesNotFailNeighbours(t *testing.T) {
	for _, m := range modes {
		t.Run(m.String(), func(t *testing.T) {
			e := newEnv(t, withMode(m))
			s := e.s
			const n = 32
			var wg sync.WaitGroup
			wins := make(chan int, n)
			errs := make(chan error, 2*n)
			for i := range n {
				wg.Go(func() {
					_, err := s.Put(context.Background(), "app", "lock", []byte(strconv.Itoa(i)), PutOptions{IfVersion: ptr(0)})
					switch {
					case err == nil:
						wins <- i
					case !errors.Is(err, ErrVersionConflict):
						errs <- err
					}
				})
				wg.Go(func() {
					if _, err := s.Put(context.Background(), "app", keyN(i), []byte("v"), PutOptions{}); err != nil {
						errs <- err
					}
				})
			}
			wg.Wait()
			close(wins)
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			var winners []int
			for w := range wins {
				winners = append(winners, w)
			}
			if len(winners) != 1 {
				t.Fatalf("%d creates succeeded, want 1", len(winners))
			}
			if g := mustGet(t, s, "app", "lock"); string(g.Value) != strconv.Itoa(winners[0]) || g.Version != 1 {
				t.Fatalf("lock = %+v, winner %d", g, winners[0])
			}
			if st, _ := s.Stat("app"); st.Keys != n+1 {
				t.Fatalf("Stat = %+v, want %d keys", st, n+1)
			}
		})
	}
}
