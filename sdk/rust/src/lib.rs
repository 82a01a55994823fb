//! Write wedge functions in Rust.
//!
//! The crate is a thin, dependency-free layer over the wedge ABI v1
//! (`abi/README.md` in the wedge repository): a request and response for
//! HTTP, the key-value store, logging, configuration and secrets, and
//! events. Build it as a `cdylib` for `wasm32-wasi` (Debian's rustc) or
//! `wasm32-wasip1` (Rust 1.78 and later):
//!
//! ```ignore
//! use wedge::{Request, Response};
//!
//! fn hello(req: Request) -> Response {
//!     let n = wedge::kv().increment("visits", 1).unwrap_or(0);
//!     wedge::info!("visit {}", n);
//!     Response::text(format!("hello, {} (visit {})\n", req.query_param("name").unwrap_or_default(), n))
//! }
//!
//! wedge::http_handler!(hello);
//! ```
//!
//! A panic in a handler logs its message (at error level, with its place
//! in the source) and traps: the request answers 500. Every request runs in
//! a fresh instance, so nothing kept in memory survives it: keep state in
//! the key-value store.

pub mod config;
pub mod error;
pub mod event;
pub mod json;
pub mod kv;
pub mod log;
pub mod request;
pub mod response;
pub mod sys;

pub use config::{config, secret};
pub use error::{Error, Result};
pub use event::{publish, Event, Object};
pub use kv::{Cond, Kv};
pub use log::Level;
pub use request::Request;
pub use response::Response;

/// The function's own key-value namespace.
pub fn kv() -> Kv {
    Kv::own()
}

/// A handler's result that is not a response becomes 500: an `Err` from
/// `?` is logged and answered with a short message.
impl<E: std::fmt::Display> From<std::result::Result<Response, E>> for Response {
    fn from(r: std::result::Result<Response, E>) -> Response {
        r.unwrap_or_else(|e| {
            log::log(Level::Error, &format!("handler failed: {}", e));
            Response::new(500).body("internal error\n")
        })
    }
}

/// Logs a panic's message and place: the panic then aborts (wasm32 Rust
/// panics abort), which traps and fails the request or delivery with 500.
fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| log::log(Level::Error, &info.to_string())));
}

/// Serves one request: reads the head, calls handler, sends what it
/// returns. [`http_handler!`] calls it from the `wedge_handle` export.
pub fn serve<R: Into<Response>>(head_len: i32, body_len: i32, handler: impl FnOnce(Request) -> R) -> i32 {
    install_panic_hook();
    let req = match Request::read(head_len, body_len) {
        Some(r) => r,
        None => panic!("wedge: the request head does not decode"),
    };
    match handler(req).into().send() {
        Ok(()) => 0,
        Err(e) => {
            log::log(Level::Error, &format!("wedge: sending the response: {}", e));
            1
        }
    }
}

/// Serves one event delivery: reads the envelope and calls handler. Ok
/// acknowledges the delivery; Err is logged and the delivery retried.
/// [`event_handler!`] calls it from the `wedge_event` export.
pub fn serve_event<E: std::fmt::Display>(event_len: i32, handler: impl FnOnce(Event) -> std::result::Result<(), E>) -> i32 {
    install_panic_hook();
    let ev = match Event::read(event_len) {
        Some(e) => e,
        None => panic!("wedge: the event envelope does not decode"),
    };
    match handler(ev) {
        Ok(()) => 0,
        Err(e) => {
            log::log(Level::Error, &format!("event handler failed: {}", e));
            1
        }
    }
}

/// Exports the native HTTP entry `wedge_handle`, calling `handler`, a
/// `fn(Request) -> impl Into<Response>` (a [`Response`], a `String`, a
/// `Result<Response, E: Display>`).
#[macro_export]
macro_rules! http_handler {
    ($handler:expr) => {
        #[no_mangle]
        pub extern "C" fn wedge_handle(head_len: i32, body_len: i32) -> i32 {
            $crate::serve(head_len, body_len, $handler)
        }
    };
}

/// Exports the event entry `wedge_event`, calling `handler`, a
/// `fn(Event) -> Result<(), E: Display>`.
#[macro_export]
macro_rules! event_handler {
    ($handler:expr) => {
        #[no_mangle]
        pub extern "C" fn wedge_event(event_len: i32) -> i32 {
            $crate::serve_event(event_len, $handler)
        }
    };
}

#[cfg(test)]
mod tests;
