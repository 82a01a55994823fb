package gateway

import (
	"context"

	"github.com/valyala/fasthttp"
)

// requestContext is ctx as a context.Context that stays valid after the
// handler returns (a streamed deploy runs then, and fasthttp reuses its
// RequestCtx): fasthttp's Done is the server's shutdown channel, read
// once here while the handler runs. It ends when the server shuts down.
func requestContext(ctx *fasthttp.RequestCtx) context.Context {
	return shutdownContext{Context: context.Background(), done: ctx.Done()}
}

type shutdownContext struct {
	context.Context
	done <-chan struct{}
}

func (c shutdownContext) Done() <-chan struct{} { return c.done }

func (c shutdownContext) Err() error {
	select {
	case <-c.done:
		return context.Canceled
	default:
		return nil
	}
}
