package gateway

import (
	"errors"
	"net/http"

	"github.com/wedge-run/wedge/internal/events"
	"github.com/wedge-run/wedge/internal/invoke"
	"github.com/wedge-run/wedge/internal/kv"
	"github.com/wedge-run/wedge/internal/registry"
	"github.com/wedge-run/wedge/internal/runtime"
	"github.com/wedge-run/wedge/internal/storage"
	"github.com/wedge-run/wedge/model"
)

// statusOf maps an error from any layer to an HTTP status and a stable
// machine-readable code. Unknown errors are 500 "internal".
func statusOf(err error) (int, string) {
	switch {
	case errors.Is(err, runtime.ErrTimeout):
		return http.StatusGatewayTimeout, "timeout"
	case errors.Is(err, runtime.ErrBusy), errors.Is(err, invoke.ErrShed):
		return http.StatusServiceUnavailable, "overloaded"
	case errors.Is(err, runtime.ErrTrap):
		return http.StatusInternalServerError, "trap"
	case errors.Is(err, runtime.ErrExit):
		return http.StatusInternalServerError, "exit"
	case errors.Is(err, runtime.ErrHandler):
		return http.StatusInternalServerError, "handler_error"
	case errors.Is(err, runtime.ErrResponseTooLarge):
		return http.StatusInternalServerError, "response_too_large"
	case errors.Is(err, runtime.ErrClosed):
		return http.StatusServiceUnavailable, "replaced"
	case errors.Is(err, errInstalling):
		return http.StatusServiceUnavailable, "installing"
	case errors.Is(err, errNotOwner):
		return http.StatusServiceUnavailable, "not_owner"
	case errors.Is(err, runtime.ErrInvalidModule):
		return http.StatusBadRequest, "invalid_module"
	case errors.Is(err, runtime.ErrUnknownImports):
		return http.StatusBadRequest, "unknown_imports"
	case errors.Is(err, runtime.ErrNoEntry):
		return http.StatusBadRequest, "no_entry_point"
	case errors.Is(err, runtime.ErrOverLimits):
		return http.StatusBadRequest, "exceeds_limits"
	case errors.Is(err, registry.ErrInvalidName), errors.Is(err, registry.ErrInvalidRoute), errors.Is(err, registry.ErrInvalidLimits),
		errors.Is(err, registry.ErrInvalidTrigger), errors.Is(err, registry.ErrInvalidAffinity), errors.Is(err, registry.ErrInvalidAllowedHost),
		errors.Is(err, registry.ErrReservedNamespace), errors.Is(err, model.ErrInvalidTraffic):
		return http.StatusBadRequest, "invalid_request"
	case errors.Is(err, registry.ErrInvalidScript):
		return http.StatusBadRequest, "invalid_script"
	case errors.Is(err, registry.ErrNoRollout):
		return http.StatusConflict, "no_rollout"
	case errors.Is(err, registry.ErrRouteConflict):
		return http.StatusConflict, "route_conflict"
	case errors.Is(err, registry.ErrNotFound), errors.Is(err, storage.ErrNotFound), errors.Is(err, registry.ErrNoVersion):
		return http.StatusNotFound, "not_found"
	case errors.Is(err, kv.ErrNotFound):
		return http.StatusNotFound, "not_found"
	case errors.Is(err, kv.ErrVersionConflict):
		return http.StatusConflict, "version_conflict"
	case errors.Is(err, kv.ErrKeyTooLarge), errors.Is(err, kv.ErrValueTooLarge), errors.Is(err, kv.ErrInvalidKey),
		errors.Is(err, kv.ErrInvalidNamespace), errors.Is(err, kv.ErrInvalidCursor), errors.Is(err, kv.ErrInvalidTTL),
		errors.Is(err, kv.ErrNotCounter), errors.Is(err, kv.ErrCounterOverflow):
		return http.StatusBadRequest, "invalid_request"
	case errors.Is(err, kv.ErrClosed):
		return http.StatusServiceUnavailable, "closing"
	case errors.Is(err, events.ErrNotFound):
		return http.StatusNotFound, "not_found"
	case errors.Is(err, events.ErrInvalidQueue), errors.Is(err, events.ErrInvalidObject):
		return http.StatusBadRequest, "invalid_request"
	case errors.Is(err, events.ErrMessageTooLarge):
		return http.StatusRequestEntityTooLarge, "too_large"
	case errors.Is(err, errTooLarge):
		return http.StatusRequestEntityTooLarge, "too_large"
	case errors.Is(err, errBadRequest):
		return http.StatusBadRequest, "invalid_request"
	}
	return http.StatusInternalServerError, "internal"
}

var (
	errInstalling = errors.New("not installed yet")
	errNotOwner   = errors.New("not served by this node")
	errTooLarge   = errors.New("too large")
	errBadRequest = errors.New("bad request")
)
