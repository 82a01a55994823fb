package loadgen

import (
	"errors"
	"os/exec"
	"slices"
	"testing"
)

func TestFormatCPUList(t *testing.T) {
	if got := FormatCPUList([]int{0, 2, 3}); got != "0,2,3" {
		t.Fatalf("got %q", got)
	}
}

func TestSplitCPUs(t *testing.T) {
	all, err := AllowedCPUs()
	if err != nil {
		t.Fatal(err)
	}
	server, gen, err := SplitCPUs()
	if len(all) < 2 {
		if !errors.Is(err, ErrTooFewCPUs) {
			t.Fatalf("one CPU: err = %v, want ErrTooFewCPUs", err)
		}
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	if len(server) == 0 || len(gen) == 0 || !slices.Equal(append(slices.Clone(server), gen...), all) {
		t.Fatalf("split %v | %v of %v", server, gen, all)
	}
}

func TestPinnedCommand(t *testing.T) {
	cmd, err := PinnedCommand(t.Context(), []int{-1}, "true")
	if !errors.Is(err, ErrBadCPUSet) || cmd == nil || cmd.Args[0] != "true" {
		t.Fatalf("bad set: cmd %v err %v", cmd, err)
	}
	all, err := AllowedCPUs()
	if err != nil {
		t.Fatal(err)
	}
	cmd, err = PinnedCommand(t.Context(), all[:1], "true", "x")
	if _, lookErr := exec.LookPath("taskset"); lookErr != nil {
		if !errors.Is(err, ErrTasksetNotFound) || !slices.Equal(cmd.Args, []string{"true", "x"}) {
			t.Fatalf("no taskset: args %v err %v", cmd.Args, err)
		}
		t.Skip("taskset not installed; checked the unpinned fallback")
	}
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"taskset", "-c", FormatCPUList(all[:1]), "true", "x"}
	if len(cmd.Args) != len(want) || !slices.Equal(cmd.Args[1:], want[1:]) {
		t.Fatalf("args %v, want %v", cmd.Args, want)
	}
	if err := cmd.Run(); err != nil {
		t.Fatalf("running pinned command: %v", err)
	}
}
