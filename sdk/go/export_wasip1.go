//go:build wasip1

package wedge

// wedgeHandle is the native entry the host calls once per request, in a
// fresh instance, after _initialize has run the package init functions
// (and so wedge.Handle). Its name must match abi.ExportHandle;
// host_names_test.go checks it.
//
//go:wasmexport wedge_handle
func wedgeHandle(headLen, bodyLen int32) int32 {
	return serve(sys, headLen, bodyLen)
}
