// The wedge_v1 imports with the ABI's exact signatures (abi/README.md).
// Pointers are usize (i32 on wasm32); a result < 0 is -code.

@external("wedge_v1", "request_head")
export declare function request_head(buf: usize, cap: i32): i32;
@external("wedge_v1", "request_body")
export declare function request_body(buf: usize, cap: i32): i32;
@external("wedge_v1", "response_head")
export declare function response_head(status: i32, headers: usize, len: i32): i32;
@external("wedge_v1", "response_write")
export declare function response_write(buf: usize, len: i32): i32;
@external("wedge_v1", "log")
export declare function log(level: i32, msg: usize, len: i32): i32;
@external("wedge_v1", "config_get")
export declare function config_get(key: usize, key_len: i32, buf: usize, cap: i32): i32;
@external("wedge_v1", "kv_get")
export declare function kv_get(ns: usize, ns_len: i32, key: usize, key_len: i32, buf: usize, cap: i32, version_out: usize): i32;
@external("wedge_v1", "kv_put")
export declare function kv_put(ns: usize, ns_len: i32, key: usize, key_len: i32, val: usize, val_len: i32, ttl_ms: i64, if_version: i64): i64;
@external("wedge_v1", "kv_delete")
export declare function kv_delete(ns: usize, ns_len: i32, key: usize, key_len: i32, if_version: i64): i32;
@external("wedge_v1", "kv_increment")
export declare function kv_increment(ns: usize, ns_len: i32, key: usize, key_len: i32, delta: i64, out: usize): i32;
@external("wedge_v1", "kv_list")
export declare function kv_list(ns: usize, ns_len: i32, prefix: usize, prefix_len: i32, cursor: usize, cursor_len: i32, limit: i32, buf: usize, cap: i32): i32;
@external("wedge_v1", "event_get")
export declare function event_get(buf: usize, cap: i32): i32;
@external("wedge_v1", "queue_publish")
export declare function queue_publish(queue: usize, queue_len: i32, body: usize, body_len: i32): i32;
@external("wedge_v1", "object_read")
export declare function object_read(bucket: usize, bucket_len: i32, name: usize, name_len: i32, offset: i64, buf: usize, cap: i32): i64;
// Outbound HTTP (abi/README.md): only to the function's allowed_hosts.
@external("wedge_v1", "http_send")
export declare function http_send(req: usize, req_len: i32, body: usize, body_len: i32): i32;
@external("wedge_v1", "http_response_head")
export declare function http_response_head(handle: i32, buf: usize, cap: i32): i32;
@external("wedge_v1", "http_response_read")
export declare function http_response_read(handle: i32, buf: usize, cap: i32): i32;
@external("wedge_v1", "http_close")
export declare function http_close(handle: i32): i32;
