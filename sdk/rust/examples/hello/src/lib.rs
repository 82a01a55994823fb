//! hello: the Rust SDK's example, and the Rust guest of the cross-language
//! conformance suite (sdk/conformance). It dispatches on the last segment
//! of the path, so it can be deployed under any route ending in "/...".

use std::io::Read;

use wedge::{Cond, Error, Event, Request, Response};

fn handle(req: Request) -> Response {
    let seg = req.path().rsplit('/').next().unwrap_or("").to_string();
    match seg.as_str() {
        "hello" => hello(&req),
        "echo" => echo(&req),
        "head" => Response::text(format!("{} {} {} {}\n", req.method(), req.path(), req.query(), req.body_len())),
        "count" => {
            let n = wedge::kv().increment("counter", 1).expect("increment");
            Response::text(format!("{}\n", n))
        }
        "fresh" => fresh(),
        "kv" => kv(),
        "log" => {
            wedge::info!("log: {}", req.query_param("msg").unwrap_or_default());
            Response::text("logged\n")
        }
        "config" => match wedge::config(&req.query_param("key").unwrap_or_default()) {
            Some(v) => Response::text(format!("{}\n", v)),
            None => Response::new(404).body("not set\n"),
        },
        "publish" => {
            let queue = req.query_param("queue").unwrap_or_default();
            match wedge::publish(&queue, &req.body()) {
                Ok(()) => Response::new(202).body("published\n"),
                Err(e) => Response::new(400).body(e.to_string()),
            }
        }
        "trap" => panic!("boom from rust"),
        _ => Response::new(404).body("not found\n"),
    }
}

/// GET fresh: a request runs in a fresh instance, so a global and a heap
/// value that every request increments read 1 every time.
fn fresh() -> Response {
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::Mutex;
    static CALLS: AtomicU32 = AtomicU32::new(0);
    static HEAP: Mutex<Option<Box<u32>>> = Mutex::new(None);
    let calls = CALLS.fetch_add(1, Ordering::Relaxed) + 1;
    let mut heap = HEAP.lock().unwrap();
    let value = heap.get_or_insert_with(|| Box::new(0));
    **value += 1;
    Response::text(format!("global={} heap={}\n", calls, **value))
}

/// GET hello?name=Ada: a greeting, with a header of our own.
fn hello(req: &Request) -> Response {
    let name = req.query_param("name").filter(|n| !n.is_empty()).unwrap_or_else(|| "world".into());
    Response::text(format!("hello, {}\n", name)).header("X-Wedge-Sdk", "rust")
}

/// echo?status=N: the body back (read in pieces), the X-Echo header back.
fn echo(req: &Request) -> Response {
    let status = req.query_param("status").and_then(|s| s.parse().ok()).unwrap_or(200);
    let mut body = Vec::with_capacity(req.body_len());
    req.body_reader().read_to_end(&mut body).expect("reading the body");
    let mut r = Response::new(status).header("Content-Type", "application/octet-stream").body(body);
    if let Some(v) = req.header("x-echo") {
        r = r.header("X-Echo", v);
    }
    r
}

fn word<T>(r: &Result<T, Error>) -> String {
    match r {
        Ok(_) => "ok".into(),
        Err(e) => e.to_string(),
    }
}

/// kv: every key-value call, the outcome of each as one word.
fn kv() -> Response {
    let kv = wedge::kv();
    let v1 = kv.put("kv/a", b"one");
    let v2 = kv.put_with("kv/a", b"two", None, Cond::Version(*v1.as_ref().unwrap_or(&0)));
    let stale = kv.compare_and_swap("kv/a", v1.as_ref().ok().copied(), b"three");
    let absent = kv.compare_and_swap("kv/a", None, b"four");
    let _ = kv.put_ttl("kv/b", b"ttl", std::time::Duration::from_secs(60));
    let got = kv.get_entry("kv/a");
    let (value, version_ok) = match &got {
        Ok(Some(e)) => (String::from_utf8_lossy(&e.value).into_owned(), v2.as_ref().ok() == Some(&e.version)),
        _ => (String::new(), false),
    };
    let mut list = String::new();
    for k in kv.list_pages("kv/", 1) {
        match k {
            Ok(k) => list += &(k + ","),
            Err(e) => list += &format!("({})", e),
        }
    }
    let del = kv.delete("kv/a");
    let gone = match kv.get("kv/a") {
        Ok(None) => "not found".to_string(),
        other => format!("{:?}", other),
    };
    let _ = kv.delete("kv/b");
    Response::text(format!(
        "put:{} cas:{} stale:{} absent:{} get:{} version:{} list:{} delete:{} gone:{}\n",
        word(&v1),
        word(&v2),
        word(&stale),
        word(&absent),
        value,
        if version_ok { "ok" } else { "wrong" },
        list,
        word(&del),
        gone
    ))
}

fn put(key: &str, value: &[u8]) -> Result<(), Error> {
    wedge::kv().put(key, value).map(|_| ())
}

/// The event entry: each kind's typed view, recorded under "seen-<kind>",
/// and the traceparent of the event's cause under "trace-<kind>" first.
fn on_event(ev: Event) -> Result<(), Error> {
    if ev.kind() != "schedule" {
        put(&format!("trace-{}", ev.kind()), ev.traceparent().as_bytes())?;
    }
    if let Some(c) = ev.kv() {
        let value = String::from_utf8_lossy(c.value.as_deref().unwrap_or(b""));
        return put("seen-kv", format!("{} {} {} {} {}", c.op, c.key, c.old_version, c.new_version, value).as_bytes());
    }
    if let Some(u) = ev.upload() {
        let mut body = Vec::new();
        wedge::Object::open(&u.bucket, &u.object).read_to_end(&mut body).expect("object_read");
        put("upload-body", &body)?;
        let line = format!("{} {} {} {} {}", u.bucket, u.object, u.size, u.content_type, u.sha256);
        return put("seen-upload", line.as_bytes());
    }
    if let Some(t) = ev.schedule() {
        wedge::kv().increment("ticks", 1)?;
        return put("seen-schedule", format!("{}|{}|{}", t.cron, t.timezone, t.scheduled).as_bytes());
    }
    if let Some((queue, msgs)) = ev.queue() {
        for m in msgs {
            let line = format!("{} {} {}", queue, String::from_utf8_lossy(&m.body), m.attempts);
            put("seen-queue", line.as_bytes())?;
        }
        return Ok(());
    }
    Err(Error::Invalid)
}

wedge::http_handler!(handle);
wedge::event_handler!(on_event);
