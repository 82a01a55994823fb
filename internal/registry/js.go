package registry

import (
	"errors"
	"fmt"

	"github.com/wedge-run/wedge/internal/js"
	"github.com/wedge-run/wedge/internal/runtime"
	"github.com/wedge-run/wedge/model"
)

// ErrInvalidScript reports a JavaScript function whose script cannot be
// served: it does not compile (the message holds the line and column),
// throws at top level, or exports no fetch handler.
var ErrInvalidScript = errors.New("invalid script")

// jsModule turns a JavaScript deploy (req.JS: req.Wasm holds the
// script) into a module deploy of the engine combined with the script
// (package js), and clears req.JS. The combined module is what is
// stored, replicated and served, so the rest of the registry and the
// cluster see an ordinary reactor; scriptOf finds the script in it
// again. Its snapshot is required: it is where the script is compiled
// and run, so a failure there is the script's error, not a reason to
// serve the module without a snapshot.
func jsModule(req *DeployRequest) error {
	if !req.JS {
		return nil
	}
	if req.NoSnapshot {
		return fmt.Errorf("%w: function %q: a JavaScript function is always pre-initialized (snapshot=false is not supported)", ErrInvalidScript, req.Name)
	}
	wasm, err := js.Combine(req.Wasm)
	if err != nil {
		return fmt.Errorf("%w: function %q: %v", ErrInvalidScript, req.Name, err)
	}
	req.Wasm, req.JS = wasm, false
	return nil
}

// scriptOf returns the script of a module deploy whose module is a
// combination made by jsModule (locally, or on the node a replicated
// function comes from), and nil for any other module.
func scriptOf(req DeployRequest) []byte {
	if req.NoSnapshot {
		return nil
	}
	script, _ := js.Split(req.Wasm)
	return script
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

// compileScript pre-initializes a JavaScript function and compiles the
// snapshot, the only thing served. It pre-initializes the engine itself
// with the script as a trailer (giving the memory the combined module
// would start with), keeping the engine's instrumented compilation for
// the next deploy, so a deploy compiles one module, the snapshot,
// instead of three (the combined module, its instrumented copy, the
// snapshot: 12 s for a 10 KB script on the loaded test machine). A
// failed snapshot is the deploy's error.
func (r *Registry) compileScript(script []byte, rec model.Function) (*runtime.Module, *model.Snapshot, []byte, error) {
	out, st, err := r.opt.Engine.PreinitializeWith(js.Engine(), r.env(rec),
		runtime.PreinitOptions{Trailer: js.Trailer(script), KeepCompiled: true})
	if err != nil {
		return nil, nil, nil, scriptError(rec.Name, err)
	}
	mod, err := r.opt.Engine.CompileFor(out, runtime.LimitsFrom(rec.Limits))
	if err != nil {
		return nil, nil, nil, err
	}
	return mod, &model.Snapshot{SHA256: st.SHA256, MemoryBytes: st.MemoryBytes, NonZeroBytes: st.NonZeroBytes,
		Segments: st.Segments, InitMicros: st.InitTime.Microseconds()}, out, nil
}
