package registry

import (
	"errors"
	"fmt"

	"github.com/wedge-run/wedge/js"
	"github.com/wedge-run/wedge/runtime"
	"github.com/wedge-run/wedge/storage"
)

// ErrInvalidScript reports a JavaScript function whose script cannot be
// served: it does not compile (the message holds the line and column),
// throws at top level, or exports no fetch handler.
var ErrInvalidScript = errors.New("invalid script")

// jsModule turns a JavaScript deploy (req.JS: req.Wasm holds the
// script) into a module deploy: the engine combined with the script
// (package js). The combined module is what is stored, replicated and
// served, so the rest of the registry and the cluster see an ordinary
// reactor. Its snapshot is required: it is where the script is compiled
// and run, so a failure there is the script's error, not a reason to
// serve the module without a snapshot.
func jsModule(req *DeployRequest) error {
	if req.NoSnapshot {
		return fmt.Errorf("%w: function %q: a JavaScript function is always pre-initialized (snapshot=false is not supported)", ErrInvalidScript, req.Name)
	}
	wasm, err := js.Combine(req.Wasm)
	if err != nil {
		return fmt.Errorf("%w: function %q: %v", ErrInvalidScript, req.Name, err)
	}
	req.Wasm = wasm
	return nil
}

// scriptError is the deploy error for a JavaScript function whose
// snapshot failed: what the engine logged (the exception and its stack),
// else the cause.
func scriptError(name string, err error) error {
	var ie *runtime.InitError
	if errors.As(err, &ie) && ie.Log != "" {
		return fmt.Errorf("%w: function %q: %s", ErrInvalidScript, name, ie.Log)
	}
	if errors.As(err, &ie) {
		return fmt.Errorf("%w: function %q: the script failed to load: %s", ErrInvalidScript, name, ie.Cause)
	}
	return fmt.Errorf("%w: function %q: the script failed to load", ErrInvalidScript, name)
}

// compileScript pre-initializes a JavaScript function's combined module
// and compiles the snapshot, the only thing served. Unlike compile it
// does not compile the combined module first (a second compilation of a
// 1 MB module, which dominated deploy time; the snapshotter's run
// validates it), and a failed snapshot is the deploy's error.
func (r *Registry) compileScript(wasm []byte, rec storage.Function) (*runtime.Module, *storage.Snapshot, []byte, error) {
	out, st, err := r.opt.Engine.Preinitialize(wasm, r.env(rec))
	if err != nil {
		return nil, nil, nil, scriptError(rec.Name, err)
	}
	mod, err := r.opt.Engine.CompileFor(out, toRuntimeLimits(rec.Limits))
	if err != nil {
		return nil, nil, nil, err
	}
	return mod, &storage.Snapshot{SHA256: st.SHA256, MemoryBytes: st.MemoryBytes, NonZeroBytes: st.NonZeroBytes,
		Segments: st.Segments, InitMicros: st.InitTime.Microseconds()}, out, nil
}
