use crate::sys;

/// Returns the function's configuration variable `key`, or `None` when it
/// is not set. Secrets are configuration variables too (the host serves
/// both through `config_get`); [`secret`] is the same call under the name
/// that says what is read.
pub fn config(key: &str) -> Option<String> {
    let (k, kl) = sys::raw(key.as_bytes());
    // SAFETY: the host writes at most cap bytes at p.
    let b = sys::fill(64, |p, cap| unsafe { sys::config_get(k, kl, p, cap) }).ok()?;
    Some(String::from_utf8(b).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()))
}

/// Returns the function's secret `key` (see [`config`]).
pub fn secret(key: &str) -> Option<String> {
    config(key)
}
