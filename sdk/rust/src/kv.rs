//! The key-value store. [`Kv::own`] (or [`crate::kv()`]) is the function's
//! own namespace; [`Kv::namespace`] is another one, which must be granted
//! to the function (else [`Error::Denied`]). Keys are 1 to 512 bytes,
//! values up to 1 MiB.

use std::time::Duration;

use crate::error::check;
use crate::{sys, Error, Result};

/// The condition of a write ([`Kv::put_with`], [`Kv::delete_if`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cond {
    /// Unconditional.
    Always,
    /// Only if the key does not exist.
    Absent,
    /// Only if the key's current version is this one (compare-and-swap).
    Version(u64),
}

impl Cond {
    fn raw(self) -> i64 {
        match self {
            Cond::Always => -1,
            Cond::Absent => 0,
            Cond::Version(v) => v as i64,
        }
    }
}

/// A key-value namespace.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Kv {
    ns: String,
}

/// A value and its version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub value: Vec<u8>,
    pub version: u64,
}

impl Kv {
    /// The function's own namespace.
    pub fn own() -> Kv {
        Kv { ns: String::new() }
    }
    /// Another namespace (granted to the function at deploy).
    pub fn namespace(ns: &str) -> Kv {
        Kv { ns: ns.to_string() }
    }

    /// The value at key, or None.
    pub fn get(&self, key: &str) -> Result<Option<Vec<u8>>> {
        Ok(self.get_entry(key)?.map(|e| e.value))
    }

    /// The value at key with its version, or None.
    pub fn get_entry(&self, key: &str) -> Result<Option<Entry>> {
        let (n, nl) = sys::raw(self.ns.as_bytes());
        let (k, kl) = sys::raw(key.as_bytes());
        let mut version = 0u64;
        // SAFETY: the host writes at most cap bytes at p, and 8 at version.
        match sys::fill(256, |p, cap| unsafe { sys::kv_get(n, nl, k, kl, p, cap, &mut version) }) {
            Ok(value) => Ok(Some(Entry { value, version })),
            Err(c) => match Error::from_code(c as i64) {
                Error::NotFound => Ok(None),
                e => Err(e),
            },
        }
    }

    /// Stores value at key; returns the new version.
    pub fn put(&self, key: &str, value: &[u8]) -> Result<u64> {
        self.put_with(key, value, None, Cond::Always)
    }

    /// Stores value at key for ttl; returns the new version.
    pub fn put_ttl(&self, key: &str, value: &[u8], ttl: Duration) -> Result<u64> {
        self.put_with(key, value, Some(ttl), Cond::Always)
    }

    /// Stores value at key if cond holds (else [`Error::Conflict`]);
    /// expires after ttl when given. Returns the new version.
    pub fn put_with(&self, key: &str, value: &[u8], ttl: Option<Duration>, cond: Cond) -> Result<u64> {
        let (n, nl) = sys::raw(self.ns.as_bytes());
        let (k, kl) = sys::raw(key.as_bytes());
        let (v, vl) = sys::raw(value);
        let ttl_ms = ttl.map(|d| (d.as_millis().max(1)).min(i64::MAX as u128) as i64).unwrap_or(0);
        // SAFETY: the buffers are live.
        check(unsafe { sys::kv_put(n, nl, k, kl, v, vl, ttl_ms, cond.raw()) }).map(|v| v as u64)
    }

    /// Compare-and-swap: stores value only if the key's version is still
    /// `version` (None: only if the key is absent).
    pub fn compare_and_swap(&self, key: &str, version: Option<u64>, value: &[u8]) -> Result<u64> {
        self.put_with(key, value, None, version.map(Cond::Version).unwrap_or(Cond::Absent))
    }

    /// Deletes key (deleting an absent key succeeds).
    pub fn delete(&self, key: &str) -> Result<()> {
        self.delete_if(key, Cond::Always)
    }

    /// Deletes key if cond holds (else [`Error::Conflict`]).
    pub fn delete_if(&self, key: &str, cond: Cond) -> Result<()> {
        let (n, nl) = sys::raw(self.ns.as_bytes());
        let (k, kl) = sys::raw(key.as_bytes());
        // SAFETY: the buffers are live.
        check(unsafe { sys::kv_delete(n, nl, k, kl, cond.raw()) } as i64).map(|_| ())
    }

    /// Atomically adds delta to the counter at key (absent counts as 0);
    /// returns the new value.
    pub fn increment(&self, key: &str, delta: i64) -> Result<i64> {
        let (n, nl) = sys::raw(self.ns.as_bytes());
        let (k, kl) = sys::raw(key.as_bytes());
        let mut out = 0i64;
        // SAFETY: the buffers are live; the host writes 8 bytes at out.
        check(unsafe { sys::kv_increment(n, nl, k, kl, delta, &mut out) } as i64)?;
        Ok(out)
    }

    /// The keys under prefix in key order, fetched a page of 100 at a time.
    pub fn list(&self, prefix: &str) -> Keys {
        self.list_pages(prefix, 100)
    }

    /// Like [`Kv::list`] with pages of `limit` keys (1..1000).
    pub fn list_pages(&self, prefix: &str, limit: u32) -> Keys {
        Keys {
            ns: self.ns.clone(),
            prefix: prefix.to_string(),
            limit: limit.clamp(1, 1000) as i32,
            cursor: Vec::new(),
            page: Vec::new().into_iter(),
            started: false,
            done: false,
        }
    }
}

/// An iterator over keys ([`Kv::list`]); an error ends it.
pub struct Keys {
    ns: String,
    prefix: String,
    limit: i32,
    cursor: Vec<u8>,
    page: std::vec::IntoIter<String>,
    started: bool,
    done: bool,
}

impl Iterator for Keys {
    type Item = Result<String>;

    fn next(&mut self) -> Option<Result<String>> {
        loop {
            if let Some(k) = self.page.next() {
                return Some(Ok(k));
            }
            if self.done || (self.started && self.cursor.is_empty()) {
                return None;
            }
            self.started = true;
            let (n, nl) = sys::raw(self.ns.as_bytes());
            let (p, pl) = sys::raw(self.prefix.as_bytes());
            let (c, cl) = sys::raw(&self.cursor);
            let limit = self.limit;
            // SAFETY: the host writes at most cap bytes at b.
            let page = sys::fill(4096, |b, cap| unsafe { sys::kv_list(n, nl, p, pl, c, cl, limit, b, cap) });
            let decoded = page.map_err(|c| Error::from_code(c as i64)).and_then(|b| {
                crate::request::decode_list(&b).ok_or(Error::Invalid)
            });
            match decoded {
                Ok((keys, cursor)) => {
                    self.page = keys.into_iter();
                    self.cursor = cursor;
                }
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
            }
        }
    }
}
