//go:build wasip1

package wedge

// wedgeHandle is the native entry the host calls once per request, in a
// fresh instance, after _initialize has run the package init functions
// (and so wedge.Handle). Its name must match abi.ExportHandle;
// abi_test.go checks it.
//
//go:wasmexport wedge_handle
func wedgeHandle(headLen, bodyLen int32) int32 {
	return serve(sys, headLen, bodyLen)
}

// wedgeEvent is the event entry the host calls once per delivery (a
// key-value change, an upload, a schedule tick, a batch of queue
// messages), in a fresh instance, after _initialize. Its name must match
// abi.ExportEvent; abi_test.go checks it.
//
//go:wasmexport wedge_event
func wedgeEvent(eventLen int32) int32 {
	return serveEvent(sys, eventLen)
}
