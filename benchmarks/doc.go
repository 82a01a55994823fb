// Package benchmarks holds wedge's benchmark suite: in-process and HTTP
// benchmarks that compare a wedge node with a bare fasthttp handler in the
// same run (http_test.go), and the load generator and report packages the
// full suite is built from (loadgen/, report/).
package benchmarks
