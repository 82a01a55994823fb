package manifest_test

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/wedge-run/wedge/manifest"
)

// TestDemoManifest loads the commented example, whose modules do not
// exist: loading must not need them.
func TestDemoManifest(t *testing.T) {
	app, err := manifest.Load("../examples/manifest-demo")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range app.Functions {
		names = append(names, f.Name)
	}
	if got := strings.Join(names, " "); got != "api auth notify report thumb worker" {
		t.Errorf("functions = %s", got)
	}
	auth, _ := app.Function("auth")
	if auth.Limits != (manifest.Limits{TimeoutMS: 2000, MemoryBytes: 64 << 20, MaxConcurrency: 16, MaxResponseBytes: 1 << 20}) {
		t.Errorf("auth limits = %+v", auth.Limits)
	}
	if s := auth.Secrets["SIGNING_KEY"]; s.Env != "CHAT_SIGNING_KEY" || s.Value != "" {
		t.Errorf("SIGNING_KEY = %#v", s)
	}
	if err := app.Check(); err == nil {
		t.Error("Check passed without modules")
	}
}

// TestDocsCarryTheExample: docs/manifest.md shows the example file
// verbatim, between its markers.
func TestDocsCarryTheExample(t *testing.T) {
	doc, err := os.ReadFile("../docs/manifest.md")
	if err != nil {
		t.Fatal(err)
	}
	example, err := os.ReadFile(demoManifest)
	if err != nil {
		t.Fatal(err)
	}
	const begin, end = "<!-- example: examples/manifest-demo/wedge.toml -->\n```toml\n", "```\n<!-- end of example -->"
	_, rest, ok := strings.Cut(string(doc), begin)
	if !ok {
		t.Fatalf("docs/manifest.md lacks %q", begin)
	}
	shown, _, ok := strings.Cut(rest, end)
	if !ok {
		t.Fatalf("docs/manifest.md lacks %q", end)
	}
	if shown != string(example) {
		t.Errorf("docs/manifest.md shows a different example than %s: copy the file into the doc", demoManifest)
	}
}

func TestNextRun(t *testing.T) {
	app := mustParse(t, `[app]
name = "cron"
[functions.f]
module = "f.wasm"
triggers = [
  { kind = "schedule", cron = "0 30 8 * * MON-FRI", timezone = "Europe/Paris" },
  { kind = "schedule", cron = "*/5 * * * *" },
  { kind = "schedule", cron = "@every 90s" },
  { kind = "kv" },
]
`)
	f, _ := app.Function("f")
	from := time.Date(2026, 1, 2, 12, 0, 0, 0, time.UTC) // a Friday
	paris, _ := time.LoadLocation("Europe/Paris")
	cases := []time.Time{
		time.Date(2026, 1, 5, 8, 30, 0, 0, paris), // Monday morning, Paris time
		time.Date(2026, 1, 2, 12, 5, 0, 0, time.UTC),
		from.Add(90 * time.Second),
	}
	for i, want := range cases {
		got, err := f.Triggers[i].NextRun(from)
		if err != nil || !got.Equal(want) {
			t.Errorf("trigger %d: NextRun = %v, %v; want %v", i, got, err, want)
		}
	}
	if _, err := f.Triggers[3].NextRun(from); err == nil {
		t.Error("NextRun on a kv trigger")
	}
}

func TestErrorFormat(t *testing.T) {
	cases := []struct {
		e    manifest.Error
		want string
	}{
		{manifest.Error{File: "wedge.toml", Line: 14, Field: "functions.a.triggers[0].cron", Msg: "bad"}, "wedge.toml:14: functions.a.triggers[0].cron: bad"},
		{manifest.Error{File: "wedge.toml", Field: "app.name", Msg: "required"}, "wedge.toml: app.name: required"},
		{manifest.Error{File: "wedge.toml", Line: 3, Msg: "syntax error: x"}, "wedge.toml:3: syntax error: x"},
		{manifest.Error{Field: "functions.a.module", Msg: "required"}, "functions.a.module: required"},
		{manifest.Error{Msg: "larger than 1 byte"}, "larger than 1 byte"},
	}
	for _, c := range cases {
		if got := c.e.Error(); got != c.want {
			t.Errorf("got %q, want %q", got, c.want)
		}
	}
}

// TestQuotedFieldPaths: keys that are not bare TOML keys are quoted in
// field paths, as TOML would write them.
func TestQuotedFieldPaths(t *testing.T) {
	_, err := manifest.Parse("wedge.toml", []byte(`[app]
name = "q"
[functions.f]
module = "f.wasm"
routes = ["/"]
[functions.f.config]
"has space" = "x"
"ünï" = "y"
`))
	want := "wedge.toml:7: functions.f.config.\"has space\": invalid configuration variable name \"has space\": use letters, digits and '_', not starting with a digit, at most 128 characters\n" +
		"wedge.toml:8: functions.f.config.\"\u00fcn\u00ef\": invalid configuration variable name \"\u00fcn\u00ef\": use letters, digits and '_', not starting with a digit, at most 128 characters"
	if err == nil || err.Error() != want {
		t.Errorf("got:\n%v\nwant:\n%s", err, want)
	}
}
