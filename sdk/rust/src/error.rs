use std::fmt;

/// An error a host function returned: the ABI's error codes
/// (`abi/errors.go`, append-only), plus `Unknown` for a code this crate
/// predates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// 1: no such key, variable or object.
    NotFound,
    /// 2: a value, key, header list or response exceeds its limit.
    TooLarge,
    /// 3: the function's grants do not allow the operation.
    Denied,
    /// 4: a malformed argument (bad encoding, empty key, bad status).
    Invalid,
    /// 5: compare-and-swap failed: the version changed.
    Conflict,
    /// 6: the host does not offer this operation here.
    Unsupported,
    /// 7: the host failed; retrying may succeed.
    Internal,
    /// 8: increment of a value that is not an integer.
    NotCounter,
    /// 9: a limit on concurrent or queued work was reached.
    Busy,
    /// Any other code.
    Unknown(i32),
}

/// The crate's result type.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// The error for a host result `r < 0` (`-code`).
    pub fn from_code(r: i64) -> Error {
        match -r {
            1 => Error::NotFound,
            2 => Error::TooLarge,
            3 => Error::Denied,
            4 => Error::Invalid,
            5 => Error::Conflict,
            6 => Error::Unsupported,
            7 => Error::Internal,
            8 => Error::NotCounter,
            9 => Error::Busy,
            c => Error::Unknown(c as i32),
        }
    }

    /// The ABI's code (positive).
    pub fn code(&self) -> i32 {
        match *self {
            Error::NotFound => 1,
            Error::TooLarge => 2,
            Error::Denied => 3,
            Error::Invalid => 4,
            Error::Conflict => 5,
            Error::Unsupported => 6,
            Error::Internal => 7,
            Error::NotCounter => 8,
            Error::Busy => 9,
            Error::Unknown(c) => c,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match *self {
            Error::NotFound => "not found",
            Error::TooLarge => "too large",
            Error::Denied => "denied",
            Error::Invalid => "invalid argument",
            Error::Conflict => "version conflict",
            Error::Unsupported => "unsupported",
            Error::Internal => "internal error",
            Error::NotCounter => "not a counter",
            Error::Busy => "busy",
            Error::Unknown(c) => return write!(f, "unknown error {}", c),
        };
        f.write_str(s)
    }
}

impl std::error::Error for Error {}

/// check turns a host result into `Ok(r)` or the error it encodes.
pub(crate) fn check(r: i64) -> Result<i64> {
    if r < 0 {
        Err(Error::from_code(r))
    } else {
        Ok(r)
    }
}
