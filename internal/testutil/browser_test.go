package testutil

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestMissingChromiumFailsWhenRequired: without Chromium the browser tests
// skip, unless WEDGE_REQUIRE_BROWSER=1 (CI) makes that a failure; with an
// executable at the path they run.
func TestMissingChromiumFailsWhenRequired(t *testing.T) {
	dir := t.TempDir()
	absent := filepath.Join(dir, "chromium")
	if why, fail := MissingChromium(absent, false); why == "" || fail {
		t.Errorf("absent, not required: %q, fail %v; want a skip", why, fail)
	}
	if why, fail := MissingChromium(absent, true); !fail || !strings.Contains(why, RequireBrowserEnv+"=1") {
		t.Errorf("absent, required: %q, fail %v; want a failure naming %s", why, fail, RequireBrowserEnv)
	}
	if err := os.WriteFile(absent, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if why, fail := MissingChromium(absent, true); !fail {
		t.Errorf("not executable, required: %q, fail %v; want a failure", why, fail)
	}
	if err := os.Chmod(absent, 0o755); err != nil {
		t.Fatal(err)
	}
	if why, fail := MissingChromium(absent, true); why != "" || fail {
		t.Errorf("present: %q, fail %v; want it to run", why, fail)
	}
}
