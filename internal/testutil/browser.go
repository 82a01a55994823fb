package testutil

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"
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

// Browser starts headless Chromium (RequireChromium's) with a window of
// width x height and returns its context; it ends with the test.
func Browser(t testing.TB, width, height int) context.Context {
	t.Helper()
	chromium := RequireChromium(t)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromium),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		// Background tabs must keep polling at full speed.
		chromedp.Flag("disable-background-timer-throttling", true),
		chromedp.Flag("disable-renderer-backgrounding", true),
		chromedp.Flag("disable-backgrounding-occluded-windows", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(width, height),
	)
	t.Cleanup(cancelAlloc)
	browser, cancelBrowser := chromedp.NewContext(alloc)
	t.Cleanup(cancelBrowser)
	if err := chromedp.Do(browser); err != nil {
		t.Fatalf("starting %s: %v", chromium, err)
	}
	return browser
}
