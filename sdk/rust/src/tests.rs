// Native unit tests of the pure parts: decoding, encoding, JSON, base64.
// Everything that talks to the host runs through a real node in
// sdk/conformance.

use crate::json::{base64_decode, Json};
use crate::request::percent_decode;
use crate::{Error, Event, Request, Response};

fn string(b: &mut Vec<u8>, s: &str) {
    b.extend_from_slice(&(s.len() as u32).to_le_bytes());
    b.extend_from_slice(s.as_bytes());
}

#[test]
fn request_head_decodes() {
    let mut h = Vec::new();
    for s in ["POST", "/a/b?x=1&y=two+words&z=%41%zz", "example.com", "1.2.3.4:5", "rid", "/a/..."] {
        string(&mut h, s);
    }
    h.extend_from_slice(&2u32.to_le_bytes());
    for s in ["Content-Type", "text/plain", "X-Y", "z"] {
        string(&mut h, s);
    }
    h.extend_from_slice(b"future fields are ignored");
    let r = Request::decode(&h, 3).unwrap();
    assert_eq!(r.method(), "POST");
    assert_eq!(r.path(), "/a/b");
    assert_eq!(r.query(), "x=1&y=two+words&z=%41%zz");
    assert_eq!(r.query_param("y").as_deref(), Some("two words"));
    assert_eq!(r.query_param("z").as_deref(), Some("A%zz"));
    assert_eq!(r.query_param("none"), None);
    assert_eq!(r.header("content-type"), Some("text/plain"));
    assert_eq!(r.route(), "/a/...");
    assert_eq!(r.body_len(), 3);
    assert!(Request::decode(&h[..h.len() - 40], 0).is_none());
}

#[test]
fn headers_encode() {
    let r = Response::new(201).header("A", "b");
    assert_eq!(r.encode_headers(), b"\x01\x00\x00\x00\x01\x00\x00\x00A\x01\x00\x00\x00b".to_vec());
    assert_eq!(Response::new(200).encode_headers(), vec![0, 0, 0, 0]);
}

#[test]
fn errors_map() {
    for c in 1..=9 {
        assert_eq!(Error::from_code(-(c as i64)).code(), c);
    }
    assert_eq!(Error::from_code(-5), Error::Conflict);
    assert_eq!(Error::from_code(-42), Error::Unknown(42));
    assert_eq!(Error::Conflict.to_string(), "version conflict");
}

#[test]
fn json_and_base64() {
    let j = Json::parse(r#"{"a":[1,-2.5e3,true,null],"s":"x\"\u00e9\ud83d\ude00","v":18446744073709551615}"#).unwrap();
    assert_eq!(j.get("s").unwrap().as_str(), Some("x\"é😀"));
    assert_eq!(j.get("v").unwrap().as_u64(), Some(u64::MAX));
    assert_eq!(j.get("a").unwrap().as_array().unwrap().len(), 4);
    assert!(Json::parse("{").is_none());
    assert!(Json::parse("[1,]").is_none());
    assert_eq!(base64_decode("aGVsbG8=").unwrap(), b"hello");
    assert_eq!(base64_decode("aGVsbA").unwrap(), b"hell");
    assert!(base64_decode("a$==").is_none());
    assert_eq!(percent_decode("%e2%82%ac+1"), "€ 1");
}

#[test]
fn event_views() {
    let e = Event::parse(
        r#"{"kind":"queue","id":"7","attempt":2,"traceparent":"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01","data":{"queue":"jobs","messages":[{"id":"m1","body":"aGk=","attempts":1}]}}"#
            .to_string(),
    )
    .unwrap();
    assert_eq!(e.kind(), "queue");
    assert_eq!(e.attempt(), 2);
    assert_eq!(e.traceparent(), "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    let (q, msgs) = e.queue().unwrap();
    assert_eq!(q, "jobs");
    assert_eq!(msgs[0].body, b"hi");
    assert!(e.kv().is_none());
    let k = Event::parse(
        r#"{"kind":"kv","data":{"namespace":"n","key":"k","op":"put","old_version":1,"new_version":2,"value":"eA=="}}"#
            .to_string(),
    )
    .unwrap();
    assert_eq!(k.traceparent(), "");
    let k = k.kv().unwrap();
    assert_eq!((k.key.as_str(), k.new_version, k.value.as_deref()), ("k", 2, Some(&b"x"[..])));
}
