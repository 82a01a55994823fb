//! The `wedge_v1` imports, declared with the exact signatures of
//! `abi/README.md`. Everything else in the crate is built on these; they
//! are public for guests that want to call the host directly.
//!
//! Pointers are `*const u8` / `*mut u8` (an `i32` in wasm32); lengths and
//! capacities are `i32`. A result `>= 0` is success, `< 0` is `-code`.

#[cfg(target_arch = "wasm32")]
#[link(wasm_import_module = "wedge_v1")]
extern "C" {
    pub fn request_head(buf: *mut u8, cap: i32) -> i32;
    pub fn request_body(buf: *mut u8, cap: i32) -> i32;
    pub fn response_head(status: i32, headers: *const u8, len: i32) -> i32;
    pub fn response_write(buf: *const u8, len: i32) -> i32;
    pub fn log(level: i32, msg: *const u8, len: i32) -> i32;
    pub fn config_get(key: *const u8, key_len: i32, buf: *mut u8, cap: i32) -> i32;
    pub fn kv_get(
        ns: *const u8,
        ns_len: i32,
        key: *const u8,
        key_len: i32,
        buf: *mut u8,
        cap: i32,
        version_out: *mut u64,
    ) -> i32;
    pub fn kv_put(
        ns: *const u8,
        ns_len: i32,
        key: *const u8,
        key_len: i32,
        val: *const u8,
        val_len: i32,
        ttl_ms: i64,
        if_version: i64,
    ) -> i64;
    pub fn kv_delete(ns: *const u8, ns_len: i32, key: *const u8, key_len: i32, if_version: i64) -> i32;
    pub fn kv_increment(ns: *const u8, ns_len: i32, key: *const u8, key_len: i32, delta: i64, out: *mut i64) -> i32;
    pub fn kv_list(
        ns: *const u8,
        ns_len: i32,
        prefix: *const u8,
        prefix_len: i32,
        cursor: *const u8,
        cursor_len: i32,
        limit: i32,
        buf: *mut u8,
        cap: i32,
    ) -> i32;
    pub fn event_get(buf: *mut u8, cap: i32) -> i32;
    pub fn queue_publish(queue: *const u8, queue_len: i32, body: *const u8, body_len: i32) -> i32;
    pub fn object_read(
        bucket: *const u8,
        bucket_len: i32,
        name: *const u8,
        name_len: i32,
        offset: i64,
        buf: *mut u8,
        cap: i32,
    ) -> i64;
    // Outbound HTTP (abi/README.md): only to the function's allowed_hosts.
    pub fn http_send(req: *const u8, req_len: i32, body: *const u8, body_len: i32) -> i32;
    pub fn http_response_head(handle: i32, buf: *mut u8, cap: i32) -> i32;
    pub fn http_response_read(handle: i32, buf: *mut u8, cap: i32) -> i32;
    pub fn http_close(handle: i32) -> i32;
}

/// Off wasm32 there is no host: every call fails with -6 (unsupported), so
/// the crate compiles (and its pure parts test) natively.
#[cfg(not(target_arch = "wasm32"))]
#[allow(clippy::missing_safety_doc, clippy::too_many_arguments)]
mod native {
    const UNSUPPORTED: i32 = -6;
    pub unsafe fn request_head(_: *mut u8, _: i32) -> i32 { UNSUPPORTED }
    pub unsafe fn request_body(_: *mut u8, _: i32) -> i32 { UNSUPPORTED }
    pub unsafe fn response_head(_: i32, _: *const u8, _: i32) -> i32 { UNSUPPORTED }
    pub unsafe fn response_write(_: *const u8, _: i32) -> i32 { UNSUPPORTED }
    pub unsafe fn log(_: i32, _: *const u8, _: i32) -> i32 { UNSUPPORTED }
    pub unsafe fn config_get(_: *const u8, _: i32, _: *mut u8, _: i32) -> i32 { UNSUPPORTED }
    pub unsafe fn kv_get(_: *const u8, _: i32, _: *const u8, _: i32, _: *mut u8, _: i32, _: *mut u64) -> i32 { UNSUPPORTED }
    pub unsafe fn kv_put(_: *const u8, _: i32, _: *const u8, _: i32, _: *const u8, _: i32, _: i64, _: i64) -> i64 { UNSUPPORTED as i64 }
    pub unsafe fn kv_delete(_: *const u8, _: i32, _: *const u8, _: i32, _: i64) -> i32 { UNSUPPORTED }
    pub unsafe fn kv_increment(_: *const u8, _: i32, _: *const u8, _: i32, _: i64, _: *mut i64) -> i32 { UNSUPPORTED }
    pub unsafe fn kv_list(_: *const u8, _: i32, _: *const u8, _: i32, _: *const u8, _: i32, _: i32, _: *mut u8, _: i32) -> i32 { UNSUPPORTED }
    pub unsafe fn event_get(_: *mut u8, _: i32) -> i32 { UNSUPPORTED }
    pub unsafe fn queue_publish(_: *const u8, _: i32, _: *const u8, _: i32) -> i32 { UNSUPPORTED }
    pub unsafe fn object_read(_: *const u8, _: i32, _: *const u8, _: i32, _: i64, _: *mut u8, _: i32) -> i64 { UNSUPPORTED as i64 }
    pub unsafe fn http_send(_: *const u8, _: i32, _: *const u8, _: i32) -> i32 { UNSUPPORTED }
    pub unsafe fn http_response_head(_: i32, _: *mut u8, _: i32) -> i32 { UNSUPPORTED }
    pub unsafe fn http_response_read(_: i32, _: *mut u8, _: i32) -> i32 { UNSUPPORTED }
    pub unsafe fn http_close(_: i32) -> i32 { UNSUPPORTED }
}
#[cfg(not(target_arch = "wasm32"))]
pub use native::*;

/// Runs a size-needed host call (abi/README.md) until the length it
/// reports fits the buffer it was given. `call(ptr, cap)` returns the full
/// length or a negative code. Returns the bytes, or the negative code.
pub(crate) fn fill(initial: usize, mut call: impl FnMut(*mut u8, i32) -> i32) -> Result<Vec<u8>, i32> {
    let mut buf: Vec<u8> = Vec::with_capacity(initial.max(16));
    loop {
        let cap = buf.capacity();
        let n = call(buf.as_mut_ptr(), cap as i32);
        if n < 0 {
            return Err(n);
        }
        let n = n as usize;
        if n <= cap {
            // SAFETY: the host wrote n bytes into the buffer.
            unsafe { buf.set_len(n) };
            return Ok(buf);
        }
        buf = Vec::with_capacity(n);
    }
}

/// A byte slice as the (pointer, length) pair the ABI takes.
pub(crate) fn raw(b: &[u8]) -> (*const u8, i32) {
    (b.as_ptr(), b.len() as i32)
}
