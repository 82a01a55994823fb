package wasmpool

import (
	"errors"
	"testing"

	"github.com/bytecodealliance/wasmtime-go/v39"
)

// TestEpochInterruption checks that epoch deadlines still stop runaway
// guests when instances come from the pool and from an InstancePre. The
// guest tells the host when it starts spinning; only then does another
// goroutine advance the epoch, so the test neither sleeps nor races.
func TestEpochInterruption(t *testing.T) {
	pool := testPool()
	e := newEngine(t, &pool, true)
	l := wasmtime.NewLinker(e)
	defer l.Close()
	spinning := make(chan struct{}, 1)
	err := l.FuncWrap("env", "spinning", func() {
		select {
		case spinning <- struct{}{}:
		default:
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	pre := newPre(t, l, compile(t, e, `(module
	  (import "env" "spinning" (func $spinning))
	  (func (export "spin") (call $spinning) (loop $l (br $l)))
	  (func (export "one") (result i32) (i32.const 1)))`))

	for i := range scaled(20) {
		s := wasmtime.NewStore(e)
		s.SetEpochDeadline(1)
		inst, err := pre.Instantiate(s)
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			<-spinning
			e.IncrementEpoch()
		}()
		_, err = inst.GetFunc(s, "spin").Call(s)
		<-done
		var trap *wasmtime.Trap
		if !errors.As(err, &trap) || trap.Code() == nil || *trap.Code() != wasmtime.Interrupt {
			t.Fatalf("iteration %d: spin returned %v, want an interrupt trap", i, err)
		}
		// The store can be used again once given a new deadline.
		s.SetEpochDeadline(1)
		if v, err := inst.GetFunc(s, "one").Call(s); err != nil || v.(int32) != 1 {
			t.Fatalf("iteration %d: after interrupt: %v, %v", i, v, err)
		}
		s.Close()
	}
}

// TestEpochInterruptsStartFunction covers the trap path of Instantiate: a
// start function that never returns is interrupted and reported as a trap.
func TestEpochInterruptsStartFunction(t *testing.T) {
	pool := testPool()
	e := newEngine(t, &pool, true)
	l := wasmtime.NewLinker(e)
	defer l.Close()
	spinning := make(chan struct{}, 1)
	if err := l.FuncWrap("env", "spinning", func() { spinning <- struct{}{} }); err != nil {
		t.Fatal(err)
	}
	pre := newPre(t, l, compile(t, e, `(module
	  (import "env" "spinning" (func $spinning))
	  (func $start (call $spinning) (loop $l (br $l)))
	  (start $start))`))

	s := wasmtime.NewStore(e)
	defer s.Close()
	s.SetEpochDeadline(1)
	go func() {
		<-spinning
		e.IncrementEpoch()
	}()
	inst, err := pre.Instantiate(s)
	var trap *wasmtime.Trap
	if inst != nil || !errors.As(err, &trap) || trap.Code() == nil || *trap.Code() != wasmtime.Interrupt {
		t.Fatalf("Instantiate = %v, %v; want an interrupt trap", inst, err)
	}
	if IsPoolExhausted(err) {
		t.Fatal("a trap was reported as pool exhaustion")
	}
}
