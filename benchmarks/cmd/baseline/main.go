// Command baseline is the benchmark suite's reference server: it answers
// every request with the body the wedge hello example produces,
// "hello from wedge\n", from a bare fasthttp or net/http handler, so the
// suite can tell how much of a wedge request's cost is the HTTP server
// itself.
//
//	baseline --server fasthttp --addr 127.0.0.1:0
//
// Once listening it prints "listening http://ADDR" on stdout. It runs until
// it receives SIGINT or SIGTERM.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	"github.com/valyala/fasthttp"
)

var body = []byte("hello from wedge\n")

const contentType = "text/plain; charset=utf-8"

func main() {
	server := flag.String("server", "fasthttp", "`KIND` of server: fasthttp or nethttp")
	addr := flag.String("addr", "127.0.0.1:0", "listen `ADDR`")
	flag.Parse()
	if err := run(*server, *addr); err != nil {
		fmt.Fprintf(os.Stderr, "baseline: %v\n", err)
		os.Exit(1)
	}
}

func run(kind, addr string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	serve, shutdown, err := newServer(kind, ln)
	if err != nil {
		ln.Close()
		return err
	}
	fmt.Printf("%s listening http://%s\n", kind, ln.Addr())
	served := make(chan error, 1)
	go func() { served <- serve() }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
		if err := shutdown(); err != nil {
			return err
		}
		return <-served
	}
}

// newServer returns functions serving the hello body on ln with the given
// kind of server and shutting it down.
func newServer(kind string, ln net.Listener) (serve, shutdown func() error, err error) {
	switch kind {
	case "fasthttp":
		s := &fasthttp.Server{
			Name: "baseline",
			Handler: func(ctx *fasthttp.RequestCtx) {
				ctx.SetContentType(contentType)
				ctx.SetBody(body)
			},
		}
		return func() error { return s.Serve(ln) }, s.Shutdown, nil
	case "nethttp":
		s := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", contentType)
			w.Write(body)
		})}
		serve := func() error {
			if err := s.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		}
		return serve, func() error { return s.Shutdown(context.Background()) }, nil
	}
	return nil, nil, fmt.Errorf("unknown --server %q (want fasthttp or nethttp)", kind)
}
