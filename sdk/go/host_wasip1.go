//go:build wasip1

package wedge

import "unsafe"

// The wedge_v1 imports. Module and function names must match
// package abi (ImportModule, Fn*); abi_test.go checks this file.
// A Go string parameter is passed as two i32 values (pointer, length).

//go:wasmimport wedge_v1 request_head
func wasmRequestHead(buf unsafe.Pointer, capacity uint32) int32

//go:wasmimport wedge_v1 request_body
func wasmRequestBody(buf unsafe.Pointer, capacity uint32) int32

//go:wasmimport wedge_v1 response_head
func wasmResponseHead(status int32, headers unsafe.Pointer, length uint32) int32

//go:wasmimport wedge_v1 response_write
func wasmResponseWrite(buf unsafe.Pointer, length uint32) int32

//go:wasmimport wedge_v1 log
func wasmLog(level int32, msg string) int32

//go:wasmimport wedge_v1 config_get
func wasmConfigGet(key string, buf unsafe.Pointer, capacity uint32) int32

//go:wasmimport wedge_v1 kv_get
func wasmKVGet(ns, key string, buf unsafe.Pointer, capacity uint32, versionOut unsafe.Pointer) int32

//go:wasmimport wedge_v1 kv_put
func wasmKVPut(ns, key string, val unsafe.Pointer, valLen uint32, ttlMillis, ifVersion int64) int64

//go:wasmimport wedge_v1 kv_delete
func wasmKVDelete(ns, key string, ifVersion int64) int32

//go:wasmimport wedge_v1 kv_increment
func wasmKVIncrement(ns, key string, delta int64, out unsafe.Pointer) int32

//go:wasmimport wedge_v1 kv_list
func wasmKVList(ns, prefix, cursor string, limit int32, buf unsafe.Pointer, capacity uint32) int32

//go:wasmimport wedge_v1 event_get
func wasmEventGet(buf unsafe.Pointer, capacity uint32) int32

//go:wasmimport wedge_v1 queue_publish
func wasmQueuePublish(queue string, body unsafe.Pointer, bodyLen uint32) int32

//go:wasmimport wedge_v1 object_read
func wasmObjectRead(bucket, name string, offset int64, buf unsafe.Pointer, capacity uint32) int64

//go:wasmimport wedge_v1 http_send
func wasmHTTPSend(req unsafe.Pointer, reqLen uint32, body unsafe.Pointer, bodyLen uint32) int32

//go:wasmimport wedge_v1 http_response_head
func wasmHTTPResponseHead(handle int32, buf unsafe.Pointer, capacity uint32) int32

//go:wasmimport wedge_v1 http_response_read
func wasmHTTPResponseRead(handle int32, buf unsafe.Pointer, capacity uint32) int32

//go:wasmimport wedge_v1 http_close
func wasmHTTPClose(handle int32) int32

func platformHost() host { return wasmHost{} }

// wasmHost calls the real host functions. No Go code runs while a host
// function executes, so pointers into Go memory stay valid for the call.
type wasmHost struct{}

func ptr(b []byte) unsafe.Pointer { return unsafe.Pointer(unsafe.SliceData(b)) }

func (wasmHost) requestHead(buf []byte) int32 {
	return wasmRequestHead(ptr(buf), uint32(len(buf)))
}

func (wasmHost) requestBody(buf []byte) int32 {
	return wasmRequestBody(ptr(buf), uint32(len(buf)))
}

func (wasmHost) responseHead(status int32, headers []byte) int32 {
	return wasmResponseHead(status, ptr(headers), uint32(len(headers)))
}

func (wasmHost) responseWrite(buf []byte) int32 {
	return wasmResponseWrite(ptr(buf), uint32(len(buf)))
}

func (wasmHost) log(level int32, msg string) int32 { return wasmLog(level, msg) }

func (wasmHost) configGet(key string, buf []byte) int32 {
	return wasmConfigGet(key, ptr(buf), uint32(len(buf)))
}

func (wasmHost) kvGet(ns, key string, buf []byte, version *uint64) int32 {
	return wasmKVGet(ns, key, ptr(buf), uint32(len(buf)), unsafe.Pointer(version))
}

func (wasmHost) kvPut(ns, key string, val []byte, ttlMillis, ifVersion int64) int64 {
	return wasmKVPut(ns, key, ptr(val), uint32(len(val)), ttlMillis, ifVersion)
}

func (wasmHost) kvDelete(ns, key string, ifVersion int64) int32 {
	return wasmKVDelete(ns, key, ifVersion)
}

func (wasmHost) kvIncrement(ns, key string, delta int64, out *int64) int32 {
	return wasmKVIncrement(ns, key, delta, unsafe.Pointer(out))
}

func (wasmHost) kvList(ns, prefix, cursor string, limit int32, buf []byte) int32 {
	return wasmKVList(ns, prefix, cursor, limit, ptr(buf), uint32(len(buf)))
}

func (wasmHost) eventGet(buf []byte) int32 {
	return wasmEventGet(ptr(buf), uint32(len(buf)))
}

func (wasmHost) queuePublish(queue string, body []byte) int32 {
	return wasmQueuePublish(queue, ptr(body), uint32(len(body)))
}

func (wasmHost) objectRead(bucket, name string, offset int64, buf []byte) int64 {
	return wasmObjectRead(bucket, name, offset, ptr(buf), uint32(len(buf)))
}
