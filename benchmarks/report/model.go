package report

import (
	"fmt"
	"time"
)

// Run is one benchmark session on one machine: what results.json holds.
type Run struct {
	Title     string     `json:"title,omitempty"`
	Machine   Machine    `json:"machine"`
	Scenarios []Scenario `json:"scenarios"`
}

// Machine describes where a Run happened.
type Machine struct {
	Cores     int       `json:"cores"`
	CPUModel  string    `json:"cpu_model"`
	GoVersion string    `json:"go_version"`
	OS        string    `json:"os"`
	Arch      string    `json:"arch"`
	Date      time.Time `json:"date"`
	// Pinning says how server and generator were placed on CPUs, or why
	// they were not pinned (free-form).
	Pinning string `json:"pinning,omitempty"`
	// CPUIdle says how idle CPUs waited when the suite changed it
	// (--idle-poll); empty means the system's default.
	CPUIdle string `json:"cpu_idle,omitempty"`
	// Versions holds free-form component versions (wedge commit, wasmtime,
	// fasthttp, ...).
	Versions map[string]string `json:"versions,omitempty"`
}

// Scenario is one workload measured against several servers, e.g. "hello
// world GET" for wedge and for bare fasthttp.
type Scenario struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	// XLabel names the configuration axis, e.g. "connections".
	XLabel string `json:"x_label,omitempty"`
	// Baseline is the name of the Series others are compared with.
	Baseline string   `json:"baseline,omitempty"`
	Series   []Series `json:"series"`
	// Metrics lists the metrics the scenario measures, in table order;
	// empty means all of them. A scenario of times only (how long a
	// change takes to reach every node) leaves Throughput out, one of
	// volumes only leaves the latencies out. Unmeasured metrics are not
	// shown, charted or compared.
	Metrics []Metric `json:"metrics,omitempty"`
	// Unit is the unit of Throughput; empty means "req/s".
	Unit string `json:"unit,omitempty"`
	// Targets are the goals the report checks the results against
	// (targets.go).
	Targets []Target `json:"targets,omitempty"`
}

// Measured returns the metrics the scenario measures.
func (sc *Scenario) Measured() []Metric {
	if len(sc.Metrics) == 0 {
		return Metrics
	}
	return sc.Metrics
}

// Measures reports whether the scenario measures m.
func (sc *Scenario) Measures(m Metric) bool {
	for _, x := range sc.Measured() {
		if x == m {
			return true
		}
	}
	return false
}

// UnitOf is the unit of metric m in this scenario.
func (sc *Scenario) UnitOf(m Metric) string {
	if m == Throughput && sc.Unit != "" {
		return sc.Unit
	}
	return m.Unit()
}

// Series is one server (or variant) measured over configurations.
type Series struct {
	Name   string  `json:"name"`
	Points []Point `json:"points"`
}

// Point is one configuration of a Series with its repeated samples.
type Point struct {
	// Config labels the configuration, e.g. "64"; rows of different Series
	// with the same Config are compared.
	Config string `json:"config"`
	// X places the configuration on the charts' x axis, e.g. 64
	// connections.
	X       float64 `json:"x"`
	Samples Samples `json:"samples"`
}

// Samples holds the repeated measurements of one Point, one value per run
// in each slice.
type Samples struct {
	Throughput []float64 `json:"throughput_rps"`
	P50        []float64 `json:"p50_us"`
	P99        []float64 `json:"p99_us"`
	P999       []float64 `json:"p999_us"`
	// Shed is the share of non-2xx answers in percent, when the scenario
	// measures it (the percentiles are then those of the 2xx answers).
	Shed []float64 `json:"shed_pct,omitempty"`
}

// Sample is the outcome of one run: throughput in requests per second and
// latency percentiles in microseconds.
type Sample struct {
	Throughput float64
	P50        float64
	P99        float64
	P999       float64
	Shed       float64 // percent of answers that were not 2xx
}

// Add appends one run's values.
func (s *Samples) Add(x Sample) {
	s.Throughput = append(s.Throughput, x.Throughput)
	s.P50 = append(s.P50, x.P50)
	s.P99 = append(s.P99, x.P99)
	s.P999 = append(s.P999, x.P999)
	s.Shed = append(s.Shed, x.Shed)
}

// Of returns the values of metric m.
func (s Samples) Of(m Metric) []float64 {
	switch m {
	case Throughput:
		return s.Throughput
	case P50:
		return s.P50
	case P99:
		return s.P99
	case P999:
		return s.P999
	case Shed:
		return s.Shed
	}
	return nil
}

// Metric names one measured quantity of a Sample.
type Metric int

// The metrics of a Sample.
const (
	Throughput Metric = iota
	P50
	P99
	P999
	// Shed is the percentage of non-2xx answers; scenarios that measure it
	// list it in Scenario.Metrics.
	Shed
)

// Metrics lists the default metrics of a scenario, in table order.
var Metrics = []Metric{Throughput, P50, P99, P999}

// knownMetrics lists every Metric.
var knownMetrics = []Metric{Throughput, P50, P99, P999, Shed}

// String is the metric's short name.
func (m Metric) String() string {
	switch m {
	case Throughput:
		return "throughput"
	case P50:
		return "p50"
	case P99:
		return "p99"
	case P999:
		return "p99.9"
	case Shed:
		return "shed"
	}
	return fmt.Sprintf("Metric(%d)", int(m))
}

// MarshalText encodes the metric as its short name.
func (m Metric) MarshalText() ([]byte, error) {
	for _, x := range knownMetrics {
		if x == m {
			return []byte(m.String()), nil
		}
	}
	return nil, fmt.Errorf("report: unknown metric %d", int(m))
}

// UnmarshalText decodes a short name.
func (m *Metric) UnmarshalText(b []byte) error {
	for _, x := range knownMetrics {
		if x.String() == string(b) {
			*m = x
			return nil
		}
	}
	return fmt.Errorf("report: unknown metric %q", b)
}

// Unit is the metric's unit.
func (m Metric) Unit() string {
	switch m {
	case Throughput:
		return "req/s"
	case Shed:
		return "%"
	}
	return "µs"
}

// HigherIsBetter reports whether larger values are improvements.
func (m Metric) HigherIsBetter() bool { return m == Throughput }

// Lookup returns the Series called name.
func (sc *Scenario) Lookup(name string) (*Series, bool) {
	for i := range sc.Series {
		if sc.Series[i].Name == name {
			return &sc.Series[i], true
		}
	}
	return nil, false
}

// Lookup returns the Point with the given Config.
func (s *Series) Lookup(config string) (*Point, bool) {
	for i := range s.Points {
		if s.Points[i].Config == config {
			return &s.Points[i], true
		}
	}
	return nil, false
}

// Add records one run's Sample for series at config (placed at x on the
// charts), creating the Series and Point as needed.
func (sc *Scenario) Add(series, config string, x float64, sample Sample) {
	s, ok := sc.Lookup(series)
	if !ok {
		sc.Series = append(sc.Series, Series{Name: series})
		s = &sc.Series[len(sc.Series)-1]
	}
	p, ok := s.Lookup(config)
	if !ok {
		s.Points = append(s.Points, Point{Config: config, X: x})
		p = &s.Points[len(s.Points)-1]
	}
	p.Samples.Add(sample)
}

// Configs returns every Config of the scenario in order of first
// appearance, the baseline's first.
func (sc *Scenario) Configs() []string {
	seen := map[string]bool{}
	var out []string
	add := func(s Series) {
		for _, p := range s.Points {
			if !seen[p.Config] {
				seen[p.Config] = true
				out = append(out, p.Config)
			}
		}
	}
	if b, ok := sc.Lookup(sc.Baseline); ok {
		add(*b)
	}
	for _, s := range sc.Series {
		add(s)
	}
	return out
}
