use crate::sys;

/// An HTTP response, built by the handler and sent by the SDK when the
/// handler returns:
///
/// ```ignore
/// Response::new(201).header("Location", "/items/7").body("created\n")
/// ```
///
/// `Content-Length` is set by the host; `Content-Type` defaults to
/// `text/plain; charset=utf-8` for a non-empty body without one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Default for Response {
    fn default() -> Self {
        Response::new(200)
    }
}

impl Response {
    /// An empty response with the status (200..999).
    pub fn new(status: u16) -> Response {
        Response { status, headers: Vec::new(), body: Vec::new() }
    }
    /// A 200 response with a text body.
    pub fn text(body: impl Into<String>) -> Response {
        Response::new(200).header("Content-Type", "text/plain; charset=utf-8").body(body.into())
    }
    /// Sets the status.
    pub fn status(mut self, status: u16) -> Response {
        self.status = status;
        self
    }
    /// Adds a header (several with one name are allowed).
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Response {
        self.headers.push((name.into(), value.into()));
        self
    }
    /// Sets the body.
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Response {
        self.body = body.into();
        self
    }
    /// Appends to the body.
    pub fn write(&mut self, b: &[u8]) {
        self.body.extend_from_slice(b);
    }
    /// The status.
    pub fn status_code(&self) -> u16 {
        self.status
    }
    /// The headers.
    pub fn headers(&self) -> &[(String, String)] {
        &self.headers
    }
    /// The body.
    pub fn body_bytes(&self) -> &[u8] {
        &self.body
    }

    /// Encodes the header list for response_head.
    pub(crate) fn encode_headers(&self) -> Vec<u8> {
        let mut n = 4;
        for (k, v) in &self.headers {
            n += 8 + k.len() + v.len();
        }
        let mut b = Vec::with_capacity(n);
        b.extend_from_slice(&(self.headers.len() as u32).to_le_bytes());
        for (k, v) in &self.headers {
            b.extend_from_slice(&(k.len() as u32).to_le_bytes());
            b.extend_from_slice(k.as_bytes());
            b.extend_from_slice(&(v.len() as u32).to_le_bytes());
            b.extend_from_slice(v.as_bytes());
        }
        b
    }

    /// Sends the response to the host. Err carries the ABI code the host
    /// returned (an invalid status or header, too many headers, a body over
    /// the function's limit).
    pub(crate) fn send(&self) -> crate::Result<()> {
        let h = self.encode_headers();
        // SAFETY: h is a live buffer.
        crate::error::check(unsafe { sys::response_head(self.status as i32, h.as_ptr(), h.len() as i32) } as i64)?;
        for chunk in self.body.chunks(1 << 30) {
            // SAFETY: chunk is a live buffer.
            crate::error::check(unsafe { sys::response_write(chunk.as_ptr(), chunk.len() as i32) } as i64)?;
        }
        Ok(())
    }
}

impl From<&str> for Response {
    fn from(s: &str) -> Response {
        Response::text(s)
    }
}

impl From<String> for Response {
    fn from(s: String) -> Response {
        Response::text(s)
    }
}
