package manifest_test

import (
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wedge-run/wedge/abi"
	"github.com/wedge-run/wedge/manifest"
)

// TestDocumentedLimitsMatchTheCode parses docs/manifest.md and the
// commented example it includes, and checks every range and default they
// state for a limit against package abi, the one definition the node and
// this package enforce. A limit changed in the code and not in the docs
// (or the reverse: the docs once said memory_mb 1..4096 while nodes
// refused more than 1024) fails here.
func TestDocumentedLimitsMatchTheCode(t *testing.T) {
	// The manifest's exported bounds are abi's.
	if manifest.MaxMemoryMB != abi.MaxMemoryMB || manifest.MaxTimeout != abi.MaxTimeout ||
		manifest.MaxResponseBytes != abi.MaxMaxResponseBytes || manifest.MaxBatchSize != abi.MaxBatchSize ||
		manifest.MaxMaxAttempts != abi.MaxMaxAttempts || manifest.MaxObjectMB != abi.MaxObjectMB ||
		manifest.DefaultBatchSize != abi.DefaultBatchSize || manifest.DefaultMaxAttempts != abi.DefaultMaxAttempts {
		t.Fatal("package manifest's bounds differ from package abi's")
	}
	ranges := map[string]string{ // field -> "min..max"
		"memory_mb":          fmt.Sprintf("1..%d", abi.MaxMemoryMB),
		"max_response_bytes": fmt.Sprintf("1..%d", abi.MaxMaxResponseBytes),
		"batch_size":         fmt.Sprintf("1..%d", abi.MaxBatchSize),
		"max_attempts":       fmt.Sprintf("1..%d", abi.MaxMaxAttempts),
		"max_object_mb":      fmt.Sprintf("1..%d", abi.MaxObjectMB),
	}
	atLeast := map[string]int{"max_concurrency": abi.MinMaxConcurrency, "concurrency": 0}
	defaults := map[string]int{"batch_size": abi.DefaultBatchSize, "max_attempts": abi.DefaultMaxAttempts}
	maxTimeout := fmt.Sprintf("%dm", int(abi.MaxTimeout/time.Minute))
	if abi.MaxTimeout%time.Minute != 0 {
		t.Fatalf("MaxTimeout %v is not whole minutes: teach this test to read it", abi.MaxTimeout)
	}

	rangeRE := regexp.MustCompile(`(\d+)\.\.(\d+)|between (\d+) and (\d+)`)
	atLeastRE := regexp.MustCompile(`>= (\d+)`)
	defaultRE := regexp.MustCompile(`default (\d+)`)
	timeoutRE := regexp.MustCompile("(?:<= `?|at most )(\\d+m)\\b")
	seen := map[string]int{}
	for _, file := range []string{"../docs/manifest.md", demoManifest} {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(data), "\n") {
			where := fmt.Sprintf("%s:%d", file, i+1)
			for field, want := range ranges {
				rest, ok := afterField(line, field)
				if !ok {
					continue
				}
				if m := rangeRE.FindStringSubmatch(rest); m != nil {
					got := m[1] + ".." + m[2]
					if m[3] != "" {
						got = m[3] + ".." + m[4]
					}
					seen[field]++
					if got != want {
						t.Errorf("%s: %s is documented as %s; the code says %s", where, field, got, want)
					}
				}
				if d, ok := defaults[field]; ok {
					if m := defaultRE.FindStringSubmatch(rest); m != nil {
						seen[field+" default"]++
						if m[1] != strconv.Itoa(d) {
							t.Errorf("%s: %s's default is documented as %s; the code says %d", where, field, m[1], d)
						}
					}
				}
			}
			for field, want := range atLeast {
				rest, ok := afterField(line, field)
				if !ok {
					continue
				}
				if m := atLeastRE.FindStringSubmatch(rest); m != nil {
					seen[field]++
					if m[1] != strconv.Itoa(want) {
						t.Errorf("%s: %s is documented as >= %s; the code says >= %d", where, field, m[1], want)
					}
				}
			}
			if rest, ok := afterField(line, "timeout"); ok {
				if m := timeoutRE.FindStringSubmatch(rest); m != nil {
					seen["timeout"]++
					if m[1] != maxTimeout {
						t.Errorf("%s: the timeout's maximum is documented as %s; the code says %s", where, m[1], maxTimeout)
					}
				}
			}
		}
	}
	// Each statement the document makes is read (a reworded document must
	// not leave this test checking nothing): the reference tables, the
	// validation rules, the spec error example and the example's comments.
	for field, n := range map[string]int{"memory_mb": 4, "max_response_bytes": 2, "batch_size": 3, "max_attempts": 3,
		"max_object_mb": 3, "batch_size default": 2, "max_attempts default": 2, "max_concurrency": 2, "concurrency": 2, "timeout": 3} {
		if seen[field] < n {
			t.Errorf("found %d statements of %s's range in the docs, want at least %d", seen[field], field, n)
		}
	}

	// The defaults sentence of the limits section.
	data, err := os.ReadFile("../docs/manifest.md")
	if err != nil {
		t.Fatal(err)
	}
	flat := strings.Join(strings.Fields(string(data)), " ")
	m := regexp.MustCompile(`\(currently (\d+) s, (\d+) MiB, the node-wide concurrency limit, (\d+) MiB\)`).FindStringSubmatch(flat)
	if m == nil {
		t.Fatal("docs/manifest.md: the sentence stating the default limits is gone or reworded")
	}
	if want := []string{strconv.Itoa(int(abi.DefaultTimeout / time.Second)), strconv.Itoa(abi.DefaultMemoryMB), strconv.Itoa(abi.DefaultMaxResponseBytes >> 20)}; m[1] != want[0] || m[2] != want[1] || m[3] != want[2] {
		t.Errorf("docs/manifest.md states default limits %s s, %s MiB, %s MiB; the code says %s s, %s MiB, %s MiB", m[1], m[2], m[3], want[0], want[1], want[2])
	}
}

// afterField returns what follows the first mention of field in line (as
// `field`, or as the key of "field = ..."), if any.
func afterField(line, field string) (string, bool) {
	if i := strings.Index(line, "`"+field+"`"); i >= 0 {
		return line[i+len(field)+2:], true
	}
	if strings.HasPrefix(line, field+" ") || strings.HasPrefix(line, field+"=") {
		return line[len(field):], true
	}
	if i := strings.Index(line, "limits."+field+":"); i >= 0 { // the spec error example
		return line[i+len(field)+7:], true
	}
	return "", false
}
