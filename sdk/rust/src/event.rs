//! Events: the envelope the event entry receives (abi/README.md "Events"),
//! with typed views for each kind, and publishing to queues.

use std::io;

use crate::error::check;
use crate::json::{base64_decode, Json};
use crate::{sys, Error, Result};

/// One event delivery: a key-value change, an upload, a schedule tick or a
/// batch of queue messages. Delivery is at least once: handlers should be
/// idempotent (the id helps).
#[derive(Clone, Debug)]
pub struct Event {
    raw: String,
    env: Json,
}

/// A key-value change (kind "kv").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KvChange {
    pub namespace: String,
    pub key: String,
    /// "put" or "delete".
    pub op: String,
    pub old_version: u64,
    pub new_version: u64,
    /// The new value, when it is at most 64 KiB (else None and
    /// value_too_large: read it with [`crate::Kv::get`]).
    pub value: Option<Vec<u8>>,
    pub value_too_large: bool,
}

/// An uploaded object (kind "upload"); read it with [`Object`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Upload {
    pub bucket: String,
    pub object: String,
    pub size: u64,
    pub content_type: String,
    pub sha256: String,
}

/// A schedule tick (kind "schedule").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Schedule {
    pub cron: String,
    pub timezone: String,
    /// The tick's time (RFC 3339).
    pub scheduled: String,
    /// Ticks skipped while no node could run them.
    pub missed: u64,
}

/// A queue message (kind "queue" carries a batch).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    pub id: String,
    pub body: Vec<u8>,
    pub attempts: u64,
    pub published: String,
}

impl Event {
    /// Parses an envelope; None when it is not JSON.
    pub fn parse(raw: String) -> Option<Event> {
        let env = Json::parse(&raw)?;
        Some(Event { raw, env })
    }

    pub(crate) fn read(event_len: i32) -> Option<Event> {
        // SAFETY: the host writes at most cap bytes at p.
        let b = sys::fill(event_len.max(0) as usize, |p, cap| unsafe { sys::event_get(p, cap) }).ok()?;
        Event::parse(String::from_utf8(b).ok()?)
    }

    /// "kv", "upload", "schedule" or "queue".
    pub fn kind(&self) -> String {
        self.env.str_of("kind")
    }
    /// The event's id.
    pub fn id(&self) -> String {
        self.env.str_of("id")
    }
    /// Its source: "kv:chat/msg/", "queue:jobs", ...
    pub fn source(&self) -> String {
        self.env.str_of("source")
    }
    /// The delivery attempt, from 1.
    pub fn attempt(&self) -> u64 {
        self.env.u64_of("attempt")
    }
    /// The W3C traceparent of what caused the event (the KV write, publish
    /// or upload of a traced request; a queue batch's first message's);
    /// "" when it was not traced, and for schedule ticks.
    pub fn traceparent(&self) -> String {
        self.env.str_of("traceparent")
    }
    /// The envelope as received.
    pub fn json(&self) -> &str {
        &self.raw
    }
    /// The parsed envelope.
    pub fn envelope(&self) -> &Json {
        &self.env
    }
    fn data(&self) -> Option<&Json> {
        self.env.get("data")
    }

    /// The key-value change, for kind "kv".
    pub fn kv(&self) -> Option<KvChange> {
        if self.kind() != "kv" {
            return None;
        }
        let d = self.data()?;
        Some(KvChange {
            namespace: d.str_of("namespace"),
            key: d.str_of("key"),
            op: d.str_of("op"),
            old_version: d.u64_of("old_version"),
            new_version: d.u64_of("new_version"),
            value: d.get("value").and_then(Json::as_str).and_then(base64_decode),
            value_too_large: d.get("value_too_large").and_then(Json::as_bool).unwrap_or(false),
        })
    }

    /// The upload, for kind "upload".
    pub fn upload(&self) -> Option<Upload> {
        if self.kind() != "upload" {
            return None;
        }
        let d = self.data()?;
        Some(Upload {
            bucket: d.str_of("bucket"),
            object: d.str_of("object"),
            size: d.u64_of("size"),
            content_type: d.str_of("content_type"),
            sha256: d.str_of("sha256"),
        })
    }

    /// The tick, for kind "schedule".
    pub fn schedule(&self) -> Option<Schedule> {
        if self.kind() != "schedule" {
            return None;
        }
        let d = self.data()?;
        Some(Schedule {
            cron: d.str_of("cron"),
            timezone: d.str_of("timezone"),
            scheduled: d.str_of("scheduled"),
            missed: d.u64_of("missed"),
        })
    }

    /// The batch of messages, for kind "queue" (with the queue's name).
    pub fn queue(&self) -> Option<(String, Vec<Message>)> {
        if self.kind() != "queue" {
            return None;
        }
        let d = self.data()?;
        let msgs = d
            .get("messages")
            .and_then(Json::as_array)
            .unwrap_or(&[])
            .iter()
            .map(|m| Message {
                id: m.str_of("id"),
                body: m.get("body").and_then(Json::as_str).and_then(base64_decode).unwrap_or_default(),
                attempts: m.u64_of("attempts"),
                published: m.str_of("published"),
            })
            .collect();
        Some((d.str_of("queue"), msgs))
    }
}

/// Publishes body to the named queue; Ok once it is stored durably.
pub fn publish(queue: &str, body: &[u8]) -> Result<()> {
    let (q, ql) = sys::raw(queue.as_bytes());
    let (b, bl) = sys::raw(body);
    // SAFETY: the buffers are live.
    check(unsafe { sys::queue_publish(q, ql, b, bl) } as i64).map(|_| ())
}

/// Reads an uploaded object (the function needs an upload trigger on the
/// bucket or a grant for it).
pub struct Object {
    bucket: String,
    name: String,
    offset: u64,
}

impl Object {
    pub fn open(bucket: &str, name: &str) -> Object {
        Object { bucket: bucket.to_string(), name: name.to_string(), offset: 0 }
    }
    /// Reads into buf from offset; returns the count, 0 at the end.
    pub fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<usize> {
        let (b, bl) = sys::raw(self.bucket.as_bytes());
        let (n, nl) = sys::raw(self.name.as_bytes());
        let cap = buf.len().min(i32::MAX as usize) as i32;
        // SAFETY: the host writes at most cap bytes into buf.
        check(unsafe { sys::object_read(b, bl, n, nl, offset as i64, buf.as_mut_ptr(), cap) }).map(|n| n as usize)
    }
}

impl io::Read for Object {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.read_at(self.offset, buf).map_err(|e: Error| io::Error::new(io::ErrorKind::Other, e))?;
        self.offset += n as u64;
        Ok(n)
    }
}
