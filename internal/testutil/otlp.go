package testutil

import (
	"encoding/hex"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"

	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"
)

// OTLPReceiver is an OTLP/HTTP trace receiver built from the official
// protocol packages, on 127.0.0.1: it decodes every export request (POST
// /v1/traces, protobuf) and keeps the spans. Point a node's exporter at
// URL.
type OTLPReceiver struct {
	URL   string
	mu    sync.Mutex
	spans []OTLPSpan
}

// OTLPSpan is one received span, ids in hex; Node is the resource's
// service.instance.id (the wedge node's name).
type OTLPSpan struct {
	Trace, ID, Parent, Name, Node string
	Attrs                         map[string]string
}

// StartOTLPReceiver starts a receiver, closed when the test ends.
func StartOTLPReceiver(t testing.TB) *OTLPReceiver {
	t.Helper()
	r := &OTLPReceiver{}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(r.serve)}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	r.URL = "http://" + ln.Addr().String()
	return r
}

func (r *OTLPReceiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	if req.URL.Path != "/v1/traces" || req.Header.Get("Content-Type") != "application/x-protobuf" {
		http.Error(w, "unexpected "+req.URL.Path, 400)
		return
	}
	var ex collectortrace.ExportTraceServiceRequest
	if err := proto.Unmarshal(body, &ex); err != nil {
		http.Error(w, err.Error(), 400)
		return
	}
	r.mu.Lock()
	for _, rs := range ex.ResourceSpans {
		node := ""
		for _, a := range rs.Resource.GetAttributes() {
			if a.Key == "service.instance.id" {
				node = a.Value.GetStringValue()
			}
		}
		for _, ss := range rs.ScopeSpans {
			for _, s := range ss.Spans {
				g := OTLPSpan{Trace: hex.EncodeToString(s.TraceId), ID: hex.EncodeToString(s.SpanId),
					Parent: hex.EncodeToString(s.ParentSpanId), Name: s.Name, Node: node, Attrs: map[string]string{}}
				for _, a := range s.Attributes {
					g.Attrs[a.Key] = a.Value.GetStringValue()
				}
				r.spans = append(r.spans, g)
			}
		}
	}
	r.mu.Unlock()
	b, _ := proto.Marshal(&collectortrace.ExportTraceServiceResponse{})
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.Write(b)
}

// Trace returns the spans received so far with trace id id (hex).
func (r *OTLPReceiver) Trace(id string) []OTLPSpan {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []OTLPSpan
	for _, s := range r.spans {
		if s.Trace == id {
			out = append(out, s)
		}
	}
	return out
}
