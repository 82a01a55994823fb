// Package examples embeds the example functions that need no toolchain to
// build (WAT sources), so that `wedge serve --demo` works from the binary
// alone. The other examples are built by examples/build.sh.
package examples

import _ "embed"

// HelloWAT is examples/hello-wat/hello.wat.
//
//go:embed hello-wat/hello.wat
var HelloWAT string
