// Package wedge is the Go guest SDK for the wedge edge runtime: it lets a
// plain net/http handler, and handlers of trigger events (key-value
// changes, uploads, schedules, queues), run as a wedge function, compiled
// with the standard Go toolchain to a WebAssembly module.
//
// # A complete function
//
//	package main
//
//	import (
//		"fmt"
//		"net/http"
//
//		wedge "github.com/wedge-run/wedge/sdk/go"
//	)
//
//	func init() {
//		mux := http.NewServeMux()
//		mux.HandleFunc("GET /hello/{name}", func(w http.ResponseWriter, r *http.Request) {
//			visits, err := wedge.KV("").Increment("visits/"+r.PathValue("name"), 1)
//			if err != nil {
//				http.Error(w, err.Error(), http.StatusServiceUnavailable)
//				return
//			}
//			greeting, ok := wedge.Config("GREETING")
//			if !ok {
//				greeting = "hello"
//			}
//			wedge.Logger().Info("greeted", "name", r.PathValue("name"), "visits", visits)
//			fmt.Fprintf(w, "%s, %s (visit %d)\n", greeting, r.PathValue("name"), visits)
//		})
//		wedge.Handle(mux)
//	}
//
//	func main() {} // required, but never run: see below
//
// Build it as a WASI reactor:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o app.wasm .
//
// # Initialization: init runs, main does not
//
// With -buildmode=c-shared the Go linker makes a reactor module. Its
// _initialize export starts the Go runtime and runs every package's init
// functions, and then returns to the host; main.main is never called (the
// compiler still requires one to exist). So register the handler from an
// init function of package main, or from a package-level variable
// initializer. The host may run _initialize once at deploy time and serve
// a snapshot of the initialized memory, so work done in init (parsing
// templates, building routers) is paid once, not per request; by the same
// token init must not depend on the request, the clock or randomness.
// The SDK's own init serves one made-up request through its request path
// (never your handler, never the host) so that what Go initializes on
// first use along that path is in the snapshot too; a handler can do the
// same for its own lazily built state by touching it from init.
//
// Every request then runs in a fresh instance, through the module's
// wedge_handle export, which this package provides (events come through
// wedge_event; see Events below): it decodes the request
// head into an *http.Request, calls the handler, and sends the response.
// Nothing a handler stores in a global survives into the next request;
// keep state in the key-value store (KV).
//
// # Requests and responses
//
// The handler gets a real server-side *http.Request: Method, URL (path and
// query as received, the route prefix not stripped), Header (canonical
// keys; Host promoted to Request.Host), Host, RemoteAddr, RequestURI,
// ContentLength, a Body that reads from the host on demand, and a context
// that is cancelled when the handler returns. RequestID and Route return
// what the host adds. Standard routers work, including http.ServeMux
// patterns with methods and wildcards ("POST /messages/{id}",
// r.PathValue).
//
// The http.ResponseWriter follows net/http's server semantics (headers
// frozen by WriteHeader, Content-Type sniffed when unset, no body for 204
// and 304) and buffers the body: a typical response costs one or two host
// calls in total. Beyond 64 KiB the buffer is handed to the host in
// chunks, and the writer implements http.Flusher (and FlushError for
// http.ResponseController). In ABI v1 the host holds the whole response
// until the handler returns, so flushing bounds the module's memory, not
// the client's latency. The host sets Content-Length; a Content-Length
// header set by the handler is not sent.
//
// A handler that panics is recovered: the panic and its stack go to the
// function's logs at error level, and the client gets a 500 (when part of
// the response had already been flushed, the host fails the request with
// 500 instead).
//
// # Logs, configuration and key-value storage
//
// What the module writes to stdout and stderr becomes log lines, so the
// log and log/slog defaults work as they are; Logger returns a *slog.Logger
// that passes each record's level to the host. Config reads the
// function's configuration variables. KV returns a handle on a key-value
// namespace with versioned values, conditional writes, counters and
// paginated listing; host errors are returned as errors wrapping the Err*
// sentinels of this package, never as panics.
//
// # Events
//
// A function can also be run by triggers, declared when it is deployed:
// key-value changes, uploads to a bucket, cron schedules and queues. The
// host delivers each event through the module's wedge_event export, which
// this package provides next to wedge_handle; it decodes the event and
// calls the handler registered for its kind. One module may register an
// HTTP handler and event handlers, and handle several kinds:
//
//	func init() {
//		wedge.OnKVChange(func(ctx context.Context, c wedge.KVChange) error {
//			v, err := c.LoadValue() // c.Value, or the store for values over 64 KiB
//			if err != nil {
//				return err
//			}
//			_, err = wedge.KV("").Put("copy/"+c.Key, v)
//			return err
//		})
//		wedge.OnUpload(func(ctx context.Context, u wedge.Upload) error {
//			h := sha256.New()
//			_, err := io.Copy(h, u.Open()) // streamed from the host in chunks
//			return err
//		})
//		wedge.OnSchedule(func(ctx context.Context, t wedge.Tick) error {
//			_, err := wedge.KV("").Increment("ticks", 1)
//			return err
//		})
//		wedge.OnQueue(func(ctx context.Context, msgs []wedge.Message) error {
//			for _, m := range msgs {
//				if _, err := wedge.KV("").Put("job/"+m.ID, m.Body); err != nil {
//					return err // the whole batch is delivered again
//				}
//			}
//			return nil
//		})
//		wedge.Handle(mux) // and HTTP requests
//	}
//
// HandleEvent registers a handler that gets the raw Event (its Data
// undecoded) for every kind without a typed handler. An event of a kind
// no handler takes fails.
//
// A handler returns nil once the event is handled. Returning an error, or
// panicking (the panic and its stack go to the logs), fails the delivery:
// the host retries it with backoff up to the trigger's max_attempts and
// then moves it to the dead letters. For a queue, the whole batch is
// retried. Delivery is at least once, so handlers must be idempotent:
// Event.ID (through EventFromContext) and Message.ID stay the same across
// attempts.
//
// Publish puts a message on a queue, from HTTP and event handlers alike.
//
// # Testing handlers
//
// Outside a wasip1 build there is no host: the package compiles, handlers
// can be tested with net/http/httptest as usual, and Config, KV and the
// other host calls report ErrUnsupported (Logger writes to stderr). Event
// handlers are plain functions: call them with the KVChange, Upload, Tick
// or messages a test builds.
package wedge
