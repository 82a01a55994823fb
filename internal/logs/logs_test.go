package logs

import (
	"fmt"
	"testing"
	"time"
)

func TestRingKeepsLastN(t *testing.T) {
	s := New(3)
	for i := 0; i < 5; i++ {
		s.Append("f", "r", 1, "stdout", []byte(fmt.Sprint(i)))
	}
	got := s.Tail("f", 0, 0)
	if len(got) != 3 || got[0].Message != "2" || got[2].Message != "4" {
		t.Fatalf("%+v", got)
	}
	if after := s.Tail("f", got[1].Seq, 0); len(after) != 1 || after[0].Message != "4" {
		t.Fatalf("after: %+v", after)
	}
	if n := s.Tail("f", 0, 2); len(n) != 2 || n[1].Message != "4" {
		t.Fatalf("limit: %+v", n)
	}
	if other := s.Tail("g", 0, 0); other != nil {
		t.Fatalf("other function: %+v", other)
	}
}

func TestFollow(t *testing.T) {
	s := New(10)
	f := s.Follow("f", 1)
	defer f.Close()
	s.Append("f", "r1", 3, "log", []byte("one"))
	s.Append("f", "r2", 1, "log", []byte("two")) // buffer full: missed
	s.Append("g", "r3", 1, "log", []byte("other"))
	select {
	case e := <-f.C():
		if e.Message != "one" || e.Level != "error" || e.RequestID != "r1" {
			t.Fatalf("%+v", e)
		}
	case <-time.After(time.Second):
		t.Fatal("no line")
	}
	if m := f.Missed(); m != 1 {
		t.Fatalf("missed %d", m)
	}
}
