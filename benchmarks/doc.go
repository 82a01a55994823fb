// Package benchmarks holds wedge's benchmark suite: in-process and HTTP
// benchmarks that compare a wedge node with a bare fasthttp handler in the
// same run (http_test.go), and the load generator and report packages the
// full suite is built from (loadgen/, report/), with its command
// (cmd/wedge-bench, which `wedge bench` launches).
//
// The directory is its own module (go.mod replaces the wedge module with
// the checkout around it): the wedge binary links none of the plotting,
// PDF and font packages the reports need. A nested module may import the
// wedge module's internal packages: the internal rule is on import paths,
// and github.com/wedge-run/wedge/benchmarks lies under
// github.com/wedge-run/wedge.
package benchmarks
