// Package readme holds the test that walks README.md as a newcomer
// would: it runs the README's shell blocks, in order, in one bash session
// against a real node, on a copy of the checkout, so that the README
// cannot drift from what the commands do. A block preceded by
//
//	<!-- readme-test: skip (long-running) -->
//
// is not run (make test, make run, make chat); the test starts the node
// that `make run` would. The README's 127.0.0.1 ports are mapped to free
// ones, so the test runs beside anything else on the machine.
package readme
