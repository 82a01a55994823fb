//! Logging into the function's logs (`wedge logs NAME`). One call is one
//! entry, however many lines it holds; entries over 16 KiB are truncated
//! by the host. The macros `debug!`, `info!`, `warn!` and `error!` take
//! `format!` arguments.

use crate::sys;

/// A log level, as the ABI numbers them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Debug = 0,
    Info = 1,
    Warn = 2,
    Error = 3,
}

/// Adds one entry to the function's logs.
pub fn log(level: Level, msg: &str) {
    let (p, n) = sys::raw(msg.as_bytes());
    // SAFETY: p..p+n is a live slice.
    unsafe { sys::log(level as i32, p, n) };
}

/// Logs at debug level: `wedge::debug!("x = {}", x)`.
#[macro_export]
macro_rules! debug {
    ($($arg:tt)*) => { $crate::log::log($crate::log::Level::Debug, &::std::format!($($arg)*)) };
}

/// Logs at info level: `wedge::info!("saved {}", key)`.
#[macro_export]
macro_rules! info {
    ($($arg:tt)*) => { $crate::log::log($crate::log::Level::Info, &::std::format!($($arg)*)) };
}

/// Logs at warn level.
#[macro_export]
macro_rules! warn {
    ($($arg:tt)*) => { $crate::log::log($crate::log::Level::Warn, &::std::format!($($arg)*)) };
}

/// Logs at error level.
#[macro_export]
macro_rules! error {
    ($($arg:tt)*) => { $crate::log::log($crate::log::Level::Error, &::std::format!($($arg)*)) };
}
