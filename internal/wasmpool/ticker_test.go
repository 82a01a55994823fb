package wasmpool

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/bytecodealliance/wasmtime-go/v39"
)

// TestTickerStopsASpinningGuestOnTime: a deadline of 100 ms set from the
// ticker (the limit in ticks, plus the ticks the epoch owes the clock,
// plus one) interrupts an infinite loop, never before 100 ms have passed;
// then the thread parks after its grace period, wakes for the next
// invocation, and stops.
func TestTickerStopsASpinningGuestOnTime(t *testing.T) {
	const tick, limit = 2 * time.Millisecond, 100 * time.Millisecond
	e := newEngine(t, nil, true)
	tk, err := StartTicker(e, tick, 20*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	defer tk.Stop()
	mod := compile(t, e, `(module (func (export "spin") (loop $l (br $l))))`)
	spin := func() time.Duration {
		tk.Enter()
		defer tk.Leave()
		s := wasmtime.NewStore(e)
		defer s.Close()
		start := time.Now()
		s.SetEpochDeadline(uint64(limit/tick) + tk.Lag() + 1)
		inst, err := wasmtime.NewInstance(s, mod, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, err = inst.GetFunc(s, "spin").Call(s)
		took := time.Since(start)
		var trap *wasmtime.Trap
		if !errors.As(err, &trap) || trap.Code() == nil || *trap.Code() != wasmtime.Interrupt {
			t.Fatalf("want an interrupt, got %v", err)
		}
		return took
	}
	for i := 0; i < 3; i++ {
		if took := spin(); took < limit {
			t.Fatalf("interrupted after %v, before the %v limit", took, limit)
		}
	}
	eventually(t, "the ticker parks when idle", tk.Parked)
	if tk.Lag() != 0 {
		t.Fatal("a parked ticker reports a lag")
	}
	if took := spin(); took < limit { // woken by Enter
		t.Fatalf("after parking: interrupted after %v", took)
	}
	eventually(t, "the ticker parks again", tk.Parked)
	tk.Stop()
	tk.Stop() // idempotent
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting: %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestTickerWallClockDeadline: SetDeadline stops a spinning guest once its
// wall-clock deadline has passed, never before, with an "interrupt" error,
// checking (and yielding) every slice meanwhile.
func TestTickerWallClockDeadline(t *testing.T) {
	const limit = 100 * time.Millisecond
	e := newEngine(t, nil, true)
	tk, err := StartTicker(e, 2*time.Millisecond, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer tk.Stop()
	mod := compile(t, e, `(module (func (export "spin") (loop $l (br $l))))`)
	for i := 0; i < 3; i++ {
		tk.Enter()
		s := wasmtime.NewStore(e)
		start := time.Now()
		tk.SetDeadline(s, limit, 10*time.Millisecond)
		inst, err := wasmtime.NewInstance(s, mod, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, err = inst.GetFunc(s, "spin").Call(s)
		took := time.Since(start)
		s.Close()
		tk.Leave()
		if err == nil || !strings.Contains(err.Error(), "interrupt") {
			t.Fatalf("want an interrupt error, got %v", err)
		}
		if took < limit {
			t.Fatalf("stopped after %v, before the %v limit", took, limit)
		}
	}
}
