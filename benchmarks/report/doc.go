// Package report owns what happens to benchmark numbers after they were
// measured: the results model (a Run on one machine holding Scenarios of
// named Series, each a list of configurations with repeated Samples), the
// statistics over repeated runs, and rendering — a Markdown report with a
// table per scenario, results.json with the raw samples, and SVG or PNG
// charts — plus a benchstat-like comparison of two results.json files.
// It does not run anything; benchmarks/loadgen produces the numbers.
//
// # Statistics
//
// Every configuration is run several times. Tables show the median of the
// runs and, as "±x%", the largest distance of the minimum or maximum from
// the median. Two sets of runs are compared with the two-sided
// Mann-Whitney U test, the test benchstat uses (this package calls the
// same implementation): it assumes nothing about the distribution, and with
// few runs it uses the exact distribution of U, ties included. A difference
// is significant when p <= Alpha (0.05). With n runs on each side the
// smallest possible p is 2/C(2n, n): at least 4 runs per side are needed
// before anything can be significant, and 5 or more are recommended.
// Ratios (for example wedge throughput / bare fasthttp throughput) are
// ratios of medians.
//
// # Targets
//
// A scenario may carry Targets: bounds on a series' metric, absolute or as
// a ratio to another series (targets.go). The report lists each with what
// was measured and whether it was met: ratios of medians, as in the table,
// and absolute bounds against the worst run.
//
// # Determinism
//
// Rendering depends only on the Run given: rows and series keep their
// order, map keys are sorted, numbers have fixed formats, and charts are
// drawn without timestamps or embedded fonts, so the same Run renders to the
// same bytes (the golden-file tests rely on it).
package report
