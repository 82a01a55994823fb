package report

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestWriteReportWritesEverything(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	run := fixtureRun()
	files, err := WriteReport(dir, run, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		names = append(names, filepath.Base(f))
	}
	want := []string{ResultsFile, ReportFile,
		"hello-world-get-throughput.svg", "hello-world-get-ratio.svg",
		"cold-start-first-request-throughput.svg"}
	if !slices.Equal(names, want) {
		t.Fatalf("wrote %v, want %v", names, want)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if len(data) == 0 {
			t.Errorf("%s is empty", f)
		}
		if strings.HasSuffix(f, ".svg") && (!bytes.HasPrefix(data, []byte("<?xml")) || !bytes.Contains(data, []byte("</svg>"))) {
			t.Errorf("%s is not an SVG document", f)
		}
	}
	svg, _ := os.ReadFile(filepath.Join(dir, "hello-world-get-throughput.svg"))
	for _, text := range []string{"fasthttp", "wedge", "connections", "64"} {
		if !bytes.Contains(svg, []byte(text)) {
			t.Errorf("throughput chart lacks %q", text)
		}
	}

	md, _ := os.ReadFile(filepath.Join(dir, ReportFile))
	var direct bytes.Buffer
	if err := RenderMarkdown(&direct, run, Options{}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(md, direct.Bytes()) {
		t.Error("report.md differs from RenderMarkdown output")
	}

	back, err := LoadRun(filepath.Join(dir, ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, run) {
		t.Errorf("results.json round trip changed the run:\n%+v\n%+v", back, run)
	}
}

func TestChartsAreDeterministic(t *testing.T) {
	sc := fixtureRun().Scenarios[0]
	for _, format := range []string{ChartSVG, ChartPNG} {
		var a, b bytes.Buffer
		if err := WriteThroughputChart(&a, sc, format); err != nil {
			t.Fatal(err)
		}
		if err := WriteThroughputChart(&b, sc, format); err != nil {
			t.Fatal(err)
		}
		if a.Len() == 0 || !bytes.Equal(a.Bytes(), b.Bytes()) {
			t.Errorf("%s throughput chart: %d bytes, identical=%v", format, a.Len(), bytes.Equal(a.Bytes(), b.Bytes()))
		}
		a.Reset()
		b.Reset()
		if err := WriteRatioChart(&a, sc, format); err != nil {
			t.Fatal(err)
		}
		if err := WriteRatioChart(&b, sc, format); err != nil {
			t.Fatal(err)
		}
		if a.Len() == 0 || !bytes.Equal(a.Bytes(), b.Bytes()) {
			t.Errorf("%s ratio chart: %d bytes, identical=%v", format, a.Len(), bytes.Equal(a.Bytes(), b.Bytes()))
		}
		if format == ChartPNG && !bytes.HasPrefix(a.Bytes(), []byte("\x89PNG\r\n\x1a\n")) {
			t.Error("PNG chart lacks the PNG signature")
		}
	}
	if err := WriteRatioChart(&bytes.Buffer{}, fixtureRun().Scenarios[1], ChartSVG); !errors.Is(err, ErrNoBaseline) {
		t.Errorf("ratio chart without baseline: %v", err)
	}
	if err := WriteThroughputChart(&bytes.Buffer{}, sc, "bmp"); err == nil {
		t.Error("unknown format accepted")
	}
}

func TestWriteReportPNGAndNone(t *testing.T) {
	dir := t.TempDir()
	files, err := WriteReport(dir, fixtureRun(), Options{ChartFormat: ChartPNG})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 5 || !strings.HasSuffix(files[2], ".png") {
		t.Fatalf("files %v", files)
	}
	md, _ := os.ReadFile(filepath.Join(dir, ReportFile))
	if !bytes.Contains(md, []byte("(hello-world-get-ratio.png)")) {
		t.Error("report does not reference the PNG charts")
	}
	files, err = WriteReport(t.TempDir(), fixtureRun(), Options{ChartFormat: ChartNone})
	if err != nil || len(files) != 2 {
		t.Fatalf("no charts: %v %v", files, err)
	}
}

func TestCompareFiles(t *testing.T) {
	dir := t.TempDir()
	oldRun, newRun := fixtureRun(), fixtureRun()
	s, _ := newRun.Scenarios[0].Lookup("wedge")
	p, _ := s.Lookup("1")
	for i := range p.Samples.Throughput {
		p.Samples.Throughput[i] *= 0.9
	}
	for name, run := range map[string]Run{"old.json": oldRun, "new.json": newRun} {
		raw, err := MarshalRun(run)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), raw, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if err := CompareFiles(&buf, filepath.Join(dir, "old.json"), filepath.Join(dir, "new.json")); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "| wedge | 1 | Throughput (req/s) | 40,100 ±1% | 36,090 ±1% | -10.00% | p=0.008 n=5+5 |") {
		t.Errorf("comparison lacks the -10%% row:\n%s", buf.String())
	}
	if err := CompareFiles(&buf, filepath.Join(dir, "missing.json"), filepath.Join(dir, "new.json")); err == nil {
		t.Error("missing file accepted")
	}
}
