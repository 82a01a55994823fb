package console

import (
	"strings"

	"github.com/valyala/fasthttp"
	"github.com/wedge-run/wedge/internal/access"
	"github.com/wedge-run/wedge/internal/events"
	"github.com/wedge-run/wedge/internal/gateway"
)

// api serves the console's read endpoints, behind the admin API's
// authentication (bearer token or session):
//
//	GET /v1/console/history/{function}   the charts' samples: {"interval_s", "samples": [...]}
//	GET /v1/console/events               {"queues", "schedules", "buckets"}
//	GET /v1/console/affinity[?function=F&key=K]
//	                                     functions with affinity and the nodes serving them;
//	                                     with function and key, the node that owns that key
//
// A token with a functions pattern sees only what concerns the functions
// it matches (scope.go); naming another function is refused with 403, as
// the admin API refuses it.
func (c *Console) api(ctx *fasthttp.RequestCtx) {
	if !ctx.IsGet() && !ctx.IsHead() {
		ctx.Response.Header.Set("Allow", "GET")
		gateway.WriteJSONError(ctx, 405, "method_not_allowed", "allowed: GET")
		return
	}
	p := strings.TrimPrefix(string(ctx.Path()), "/v1/console/")
	switch {
	case strings.HasPrefix(p, "history/") && len(p) > len("history/"):
		name := strings.TrimPrefix(p, "history/")
		if !c.mayName(ctx, name) {
			return
		}
		cur, ok := c.opt.Counters()[name]
		gateway.WriteJSON(ctx, 200, map[string]any{"function": name, "interval_s": c.opt.Interval.Seconds(),
			"samples": c.history.samples(name, c.opt.Now(), cur, ok)})
	case p == "events":
		c.events(ctx)
	case p == "affinity":
		c.affinity(ctx)
	default:
		gateway.WriteJSONError(ctx, 404, "not_found", "no such endpoint: "+string(ctx.Path()))
	}
}

func (c *Console) events(ctx *fasthttp.RequestCtx) {
	out := map[string]any{"queues": []events.Queue{}, "schedules": []events.Schedule{}, "buckets": []events.Bucket{}}
	if m := c.opt.Events; m != nil {
		q, err := m.Queues()
		if err != nil {
			gateway.WriteError(ctx, err)
			return
		}
		s, err := m.Schedules()
		if err != nil {
			gateway.WriteError(ctx, err)
			return
		}
		b, err := m.Buckets()
		if err != nil {
			gateway.WriteError(ctx, err)
			return
		}
		out["queues"], out["schedules"], out["buckets"] = scopeEvents(pattern(ctx), q, s, b)
	}
	gateway.WriteJSON(ctx, 200, out)
}

func (c *Console) affinity(ctx *fasthttp.RequestCtx) {
	fns := []Affinity{}
	if c.opt.Affinity != nil {
		pat := pattern(ctx)
		for _, f := range c.opt.Affinity() {
			if visible(pat, f.Function) {
				fns = append(fns, f)
			}
		}
	}
	out := map[string]any{"node": c.opt.NodeName, "functions": fns}
	args := ctx.QueryArgs()
	if fn, key := string(args.Peek("function")), string(args.Peek("key")); fn != "" && key != "" {
		if !c.mayName(ctx, fn) {
			return
		}
		owner, ok := c.opt.NodeName, true
		if c.opt.OwnerOf != nil {
			owner, ok = c.opt.OwnerOf(fn, key)
		}
		if !ok {
			gateway.WriteJSONError(ctx, 404, "not_found", "no node serves function "+fn)
			return
		}
		out["owner"] = map[string]string{"function": fn, "key": key, "node": owner}
	}
	gateway.WriteJSON(ctx, 200, out)
}

// mayName checks that the request's token may reach the function name
// (its functions pattern, if any), and answers 403 naming the rule, as
// the admin API would, if not.
func (c *Console) mayName(ctx *fasthttp.RequestCtx, name string) bool {
	tok, ok := gateway.RestrictedToken(ctx)
	if !ok {
		return true
	}
	if err := access.Authorize(tok, "GET", "/v1/functions/"+name); err != nil {
		gateway.WriteJSONError(ctx, 403, "forbidden", err.Error())
		return false
	}
	return true
}

// pattern is the functions pattern of the request's token ("": none).
func pattern(ctx *fasthttp.RequestCtx) string {
	tok, _ := gateway.RestrictedToken(ctx)
	return tok.Functions
}
