use std::io;

use crate::sys;

/// An HTTP request as the host passes it (abi/README.md "Encodings").
/// Strings that are not UTF-8 are converted lossily; the body is bytes.
#[derive(Clone, Debug, Default)]
pub struct Request {
    method: String,
    uri: String,
    host: String,
    remote_addr: String,
    request_id: String,
    route: String,
    headers: Vec<(String, String)>,
    body_len: usize,
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

struct Decoder<'a> {
    b: &'a [u8],
}

impl<'a> Decoder<'a> {
    fn u32(&mut self) -> Option<u32> {
        if self.b.len() < 4 {
            return None;
        }
        let v = u32::from_le_bytes([self.b[0], self.b[1], self.b[2], self.b[3]]);
        self.b = &self.b[4..];
        Some(v)
    }
    fn bytes(&mut self) -> Option<&'a [u8]> {
        let n = self.u32()? as usize;
        if self.b.len() < n {
            return None;
        }
        let (s, rest) = self.b.split_at(n);
        self.b = rest;
        Some(s)
    }
}

/// Decodes a page of kv_list: the keys and the next cursor.
pub(crate) fn decode_list(page: &[u8]) -> Option<(Vec<String>, Vec<u8>)> {
    let mut d = Decoder { b: page };
    let n = d.u32()? as usize;
    let mut keys = Vec::with_capacity(n.min(1000));
    for _ in 0..n {
        keys.push(lossy(d.bytes()?));
    }
    let cursor = d.bytes()?.to_vec();
    Some((keys, cursor))
}

impl Request {
    /// Decodes an encoded request head; None if it is malformed.
    pub fn decode(head: &[u8], body_len: usize) -> Option<Request> {
        let mut d = Decoder { b: head };
        let mut r = Request {
            method: lossy(d.bytes()?),
            uri: lossy(d.bytes()?),
            host: lossy(d.bytes()?),
            remote_addr: lossy(d.bytes()?),
            request_id: lossy(d.bytes()?),
            route: lossy(d.bytes()?),
            body_len,
            ..Request::default()
        };
        let n = d.u32()? as usize;
        r.headers.reserve(n.min(256));
        for _ in 0..n {
            let name = lossy(d.bytes()?);
            let value = lossy(d.bytes()?);
            r.headers.push((name, value));
        }
        Some(r)
    }

    /// Reads the current request's head from the host.
    pub(crate) fn read(head_len: i32, body_len: i32) -> Option<Request> {
        // SAFETY: the host writes at most cap bytes at p.
        let head = sys::fill(head_len.max(0) as usize, |p, cap| unsafe { sys::request_head(p, cap) }).ok()?;
        Request::decode(&head, body_len.max(0) as usize)
    }

    /// "GET", "POST", ...
    pub fn method(&self) -> &str {
        &self.method
    }
    /// The path and query as received: "/api/users?id=7".
    pub fn uri(&self) -> &str {
        &self.uri
    }
    /// The path: the URI up to '?'.
    pub fn path(&self) -> &str {
        self.uri.split('?').next().unwrap_or("")
    }
    /// The raw query, without '?' ("" when there is none).
    pub fn query(&self) -> &str {
        match self.uri.find('?') {
            Some(i) => &self.uri[i + 1..],
            None => "",
        }
    }
    /// The query's parameters, percent-decoded ('+' as space), in order.
    pub fn query_pairs(&self) -> Vec<(String, String)> {
        self.query()
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| match p.find('=') {
                Some(i) => (percent_decode(&p[..i]), percent_decode(&p[i + 1..])),
                None => (percent_decode(p), String::new()),
            })
            .collect()
    }
    /// The first query parameter called name, percent-decoded.
    pub fn query_param(&self, name: &str) -> Option<String> {
        self.query_pairs().into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }
    /// The Host header.
    pub fn host(&self) -> &str {
        &self.host
    }
    /// The client's address, "ip:port".
    pub fn remote_addr(&self) -> &str {
        &self.remote_addr
    }
    /// The request's id, also in the logs.
    pub fn request_id(&self) -> &str {
        &self.request_id
    }
    /// The route that matched: "/api/...".
    pub fn route(&self) -> &str {
        &self.route
    }
    /// The headers in the order received, names in canonical form.
    pub fn headers(&self) -> &[(String, String)] {
        &self.headers
    }
    /// The first header called name (case-insensitively).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
    /// The body's length in bytes.
    pub fn body_len(&self) -> usize {
        self.body_len
    }
    /// Reads the rest of the body.
    pub fn body(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(self.body_len);
        let _ = io::Read::read_to_end(&mut self.body_reader(), &mut b);
        b
    }
    /// A reader over the rest of the body, for bodies read in pieces.
    pub fn body_reader(&self) -> BodyReader {
        BodyReader { _private: () }
    }
}

/// Reads the request body from the host, continuing where the last read
/// stopped (the body is read once, whichever reader reads it).
pub struct BodyReader {
    _private: (),
}

impl io::Read for BodyReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let cap = buf.len().min(i32::MAX as usize) as i32;
        // SAFETY: the host writes at most cap bytes into buf.
        let n = unsafe { sys::request_body(buf.as_mut_ptr(), cap) };
        if n < 0 {
            return Err(io::Error::new(io::ErrorKind::Other, crate::Error::from_code(n as i64)));
        }
        Ok(n as usize)
    }
}

fn hex(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Decodes %XX escapes and '+' (as space); invalid escapes stay as they are.
pub fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                match (hex(b[i + 1]), hex(b[i + 2])) {
                    (Some(h), Some(l)) => {
                        out.push(h << 4 | l);
                        i += 2;
                    }
                    _ => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
