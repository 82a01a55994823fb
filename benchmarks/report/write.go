package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// File names WriteReport uses inside its directory.
const (
	ReportFile  = "report.md"
	ResultsFile = "results.json"
)

// WriteReport writes run into dir (created if needed): ReportFile,
// ResultsFile with the raw samples, and per scenario
// "<name>-throughput.<format>" and, when it has a baseline and other
// series, "<name>-ratio.<format>". It returns the paths written.
func WriteReport(dir string, run Run, opts Options) ([]string, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	var written []string
	put := func(name string, data []byte) error {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, data, 0o644); err != nil {
			return fmt.Errorf("report: %w", err)
		}
		written = append(written, path)
		return nil
	}

	raw, err := MarshalRun(run)
	if err != nil {
		return written, err
	}
	if err := put(ResultsFile, raw); err != nil {
		return written, err
	}
	var md bytes.Buffer
	if err := RenderMarkdown(&md, run, opts); err != nil {
		return written, err
	}
	if err := put(ReportFile, md.Bytes()); err != nil {
		return written, err
	}
	if opts.ChartFormat == ChartNone {
		return written, nil
	}
	for i, stem := range chartStems(run) {
		sc := run.Scenarios[i]
		var buf bytes.Buffer
		if err := WriteThroughputChart(&buf, sc, opts.ChartFormat); err != nil {
			return written, fmt.Errorf("scenario %q: %w", sc.Name, err)
		}
		if err := put(chartName(stem, chartMetric(&sc), opts.ChartFormat), buf.Bytes()); err != nil {
			return written, err
		}
		if _, ok := sc.Lookup(sc.Baseline); !ok || sc.Baseline == "" || len(sc.Series) < 2 || !sc.Measures(Throughput) {
			continue
		}
		buf.Reset()
		if err := WriteRatioChart(&buf, sc, opts.ChartFormat); err != nil {
			return written, fmt.Errorf("scenario %q: %w", sc.Name, err)
		}
		if err := put(ratioChartName(stem, opts.ChartFormat), buf.Bytes()); err != nil {
			return written, err
		}
	}
	return written, nil
}

// MarshalRun encodes run as indented JSON, the results.json format.
func MarshalRun(run Run) ([]byte, error) {
	raw, err := json.MarshalIndent(run, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("report: encode results: %w", err)
	}
	return append(raw, '\n'), nil
}

// LoadRun reads a results.json file.
func LoadRun(path string) (Run, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return Run{}, fmt.Errorf("report: %w", err)
	}
	var run Run
	if err := json.Unmarshal(raw, &run); err != nil {
		return Run{}, fmt.Errorf("report: %s: %w", path, err)
	}
	return run, nil
}
