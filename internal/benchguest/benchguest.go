// Package benchguest holds the WAT guests that benchmarks in more than
// one module measure: the benchmark suite (the benchmarks module) and the
// go test benchmarks of the root module read the same source from here,
// so that their numbers describe the same guest. It imports only the
// standard library.
package benchguest

import (
	_ "embed"
	"fmt"
	"strconv"
	"strings"
)

//go:embed outbound_fetch.wat
var outboundFetchWAT string

// OutboundFetchWAT returns a one-page guest that sends the encoded
// outbound request req (abi.EncodeOutboundRequest) once per invocation,
// with http_send, http_response_head, http_response_read and http_close,
// and answers with the response body. The request lives in a data segment
// at 1024, so the guest's instance costs what the WAT hello's does and
// the difference between the two is the call.
func OutboundFetchWAT(req []byte) string {
	var data strings.Builder
	for _, ch := range req {
		fmt.Fprintf(&data, "\\%02x", ch)
	}
	return strings.NewReplacer("{{REQUEST}}", data.String(), "{{REQUEST_LEN}}", strconv.Itoa(len(req))).Replace(outboundFetchWAT)
}
