package testutil

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// The browser tests (the chat app's, the web console's) run headless
// Chromium through chromedp. They find it at ChromiumPath and skip
// without it, unless RequireBrowserEnv makes that a failure (CI).

// ChromiumPath is where the browser tests look for Chromium; WEDGE_CHROMIUM
// overrides it.
func ChromiumPath() string {
	if p := os.Getenv("WEDGE_CHROMIUM"); p != "" {
		return p
	}
	return "/usr/bin/chromium"
}

// RequireBrowserEnv set to "1" (CI sets it) turns a missing Chromium into
// a failure of the browser tests instead of a skip, as WEDGE_REQUIRE_NETNS
// does for the partition test.
const RequireBrowserEnv = "WEDGE_REQUIRE_BROWSER"

// MissingChromium says why the browser tests cannot run with the Chromium
// at path ("" when they can), and whether that is a failure (required)
// rather than a skip.
func MissingChromium(path string, required bool) (why string, fail bool) {
	st, err := os.Stat(path)
	switch {
	case err != nil:
		why = fmt.Sprintf("no Chromium at %s (install it with `apt-get install chromium`, or set WEDGE_CHROMIUM): %v", path, err)
	case st.IsDir() || st.Mode()&0o111 == 0:
		why = fmt.Sprintf("%s is not an executable file", path)
	default:
		return "", false
	}
	if required {
		return why + "; " + RequireBrowserEnv + "=1 requires the browser", true
	}
	return why + " (set " + RequireBrowserEnv + "=1 to fail instead)", false
}

// RequireChromium returns Chromium's path, or skips the test (fails it
// when RequireBrowserEnv=1) when there is none.
func RequireChromium(t testing.TB) string {
	t.Helper()
	path := ChromiumPath()
	if why, fail := MissingChromium(path, os.Getenv(RequireBrowserEnv) == "1"); fail {
		t.Fatal(why)
	} else if why != "" {
		t.Skip(why)
	}
	return path
}

// ArtifactDir is where a test leaves files worth keeping (screenshots):
// $WEDGE_ARTIFACTS/name, or a temporary directory. It logs the path.
func ArtifactDir(t testing.TB, name string) string {
	t.Helper()
	dir := t.TempDir()
	if base := os.Getenv("WEDGE_ARTIFACTS"); base != "" {
		dir = filepath.Join(base, name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("artifacts of %s go to %s", name, dir)
	return dir
}

// ChromiumFlags are the command-line flags the browser tests start
// Chromium with (chromedp.Flag each): headless, no sandbox (CI runs as
// root), nothing in the background, and background tabs kept at full
// speed (they poll). testutil does not import chromedp: the tests that
// drive a browser live in modules of their own (examples/chat/e2e,
// internal/console/e2e), so the root module does not require it.
func ChromiumFlags() map[string]any {
	return map[string]any{
		"headless": true, "hide-scrollbars": true, "mute-audio": true,
		"no-sandbox": true, "disable-gpu": true, "no-first-run": true, "no-default-browser-check": true,
		"disable-background-networking": true, "disable-component-update": true, "disable-sync": true,
		"disable-dev-shm-usage": true, "disable-extensions": true,
		"disable-background-timer-throttling": true, "disable-renderer-backgrounding": true,
		"disable-backgrounding-occluded-windows": true,
	}
}
