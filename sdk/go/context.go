package wedge

import "net/http"

// RequestID returns the host's unique id of the request being served, the
// one that also tags the function's log lines; "" for a request that did
// not come from the wedge host.
func RequestID(r *http.Request) string {
	if info, ok := r.Context().Value(infoKey{}).(*requestInfo); ok {
		return info.id
	}
	return ""
}

// Route returns the deployed route that matched the request, such as
// "/api/..."; "" for a request that did not come from the wedge host. The
// request's URL always holds the original, unstripped path.
func Route(r *http.Request) string {
	if info, ok := r.Context().Value(infoKey{}).(*requestInfo); ok {
		return info.route
	}
	return ""
}

// TraceParent returns the W3C traceparent of the request being served:
// on a node with tracing on, the span the host opened for this request
// (outbound requests the function sends through the host become its
// children, and the host sets their traceparent itself); otherwise the
// one the client sent, or "". Pass it on to systems the function reaches
// by other means so that their spans join the request's trace. An event
// handler finds the trace context of the event's cause in
// Event.TraceParent (EventFromContext).
func TraceParent(r *http.Request) string {
	return r.Header.Get("Traceparent")
}
