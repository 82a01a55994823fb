package registry

import (
	"errors"
	"fmt"
	"time"

	"github.com/wedge-run/wedge/internal/runtime"
	"github.com/wedge-run/wedge/internal/runtime/outbound"
	"github.com/wedge-run/wedge/model"
)

// ErrInvalidAllowedHost reports an allowed_hosts entry that does not parse.
var ErrInvalidAllowedHost = errors.New("invalid allowed host")

// normalizeAllowedHosts checks a function's allow-list and returns it in
// canonical form, without duplicates.
func normalizeAllowedHosts(entries []string) ([]string, error) {
	if len(entries) == 0 {
		return nil, nil
	}
	out, err := outbound.Normalize(entries)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidAllowedHost, err)
	}
	return out, nil
}

// outboundEnv gives env the node's outbound client and the function's
// policy. A stored list that no longer parses allows nothing.
func (r *Registry) outboundEnv(env *runtime.Env, rec model.Function) {
	if r.opt.Outbound == nil {
		return
	}
	allow, err := outbound.ParseAllowList(rec.AllowedHosts)
	if err != nil && r.opt.Log != nil {
		r.opt.Log.Warn("invalid allowed_hosts; outbound requests refused", "function", rec.Name, "err", err)
	}
	p := outbound.Policy{
		Function:         rec.Name,
		Allow:            allow,
		Timeout:          msDuration(rec.Limits.OutboundTimeoutMS),
		MaxResponseBytes: rec.Limits.OutboundMaxResponseBytes,
		MaxRequests:      rec.Limits.OutboundMaxRequests,
	}.WithDefaults()
	env.Outbound = r.opt.Outbound
	env.OutboundPolicy = &p
}

func msDuration(ms int64) time.Duration { return time.Duration(ms) * time.Millisecond }
