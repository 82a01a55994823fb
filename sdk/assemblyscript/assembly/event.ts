// Typed events: a small JSON reader for the event envelope (abi/README.md
// "Events") and a class per kind. serveEvent (index.ts) decodes the
// envelope and calls the handler of its kind.
import * as sys from "./sys";

// ---- JSON values, as spans of the envelope's text. ----

function isBlank(c: i32): bool { return c == 32 || c == 9 || c == 10 || c == 13; }

function blanks(s: string, i: i32): i32 {
  while (i < s.length && isBlank(s.charCodeAt(i))) i++;
  return i;
}

// Returns the index just past the value at i (after blanks), or -1.
function skip(s: string, i: i32): i32 {
  i = blanks(s, i);
  if (i >= s.length) return -1;
  let c = s.charCodeAt(i);
  if (c == 34) { // "
    for (i++; i < s.length; i++) {
      c = s.charCodeAt(i);
      if (c == 92) i++;
      else if (c == 34) return i + 1;
    }
    return -1;
  }
  if (c == 123 || c == 91) { // { [
    let depth = 0;
    for (; i < s.length; i++) {
      c = s.charCodeAt(i);
      if (c == 34) {
        const e = skip(s, i);
        if (e < 0) return -1;
        i = e - 1;
      } else if (c == 123 || c == 91) {
        depth++;
      } else if (c == 125 || c == 93) {
        if (--depth == 0) return i + 1;
      }
    }
    return -1;
  }
  const start = i;
  while (i < s.length) {
    c = s.charCodeAt(i);
    if (c == 44 || c == 125 || c == 93 || isBlank(c)) break;
    i++;
  }
  return i > start ? i : -1;
}

function hexDigit(c: i32): i32 {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/** A JSON value: a span [start, end) of the text s. */
export class Json {
  constructor(public s: string, public start: i32, public end: i32) {}

  static parse(s: string): Json | null {
    const i = blanks(s, 0);
    const e = skip(s, i);
    return e < 0 ? null : new Json(s, i, e);
  }
  /** The value as written. */
  get raw(): string { return this.s.substring(this.start, this.end); }
  /** The member called name of this object, or null. */
  field(name: string): Json | null {
    const s = this.s;
    if (this.start >= this.end || s.charCodeAt(this.start) != 123) return null;
    let i = blanks(s, this.start + 1);
    while (i < this.end && s.charCodeAt(i) == 34) {
      const kend = skip(s, i);
      if (kend < 0) return null;
      const match = kend - i - 2 == name.length && s.substring(i + 1, kend - 1) == name;
      i = blanks(s, kend);
      if (i >= this.end || s.charCodeAt(i) != 58) return null;
      const vs = blanks(s, i + 1);
      const ve = skip(s, vs);
      if (ve < 0) return null;
      if (match) return new Json(s, vs, ve);
      i = blanks(s, ve);
      if (i < this.end && s.charCodeAt(i) == 44) i = blanks(s, i + 1);
    }
    return null;
  }
  /** The elements of this array (none when it is not one). */
  elements(): Json[] {
    const out: Json[] = [];
    const s = this.s;
    if (this.start >= this.end || s.charCodeAt(this.start) != 91) return out;
    let i = this.start + 1;
    while (true) {
      i = blanks(s, i);
      if (i < this.end && s.charCodeAt(i) == 44) i = blanks(s, i + 1);
      if (i >= this.end || s.charCodeAt(i) == 93) return out;
      const e = skip(s, i);
      if (e < 0) return out;
      out.push(new Json(s, i, e));
      i = e;
    }
  }
  /** The decoded string ("" when this is not a string). */
  str(): string {
    const s = this.s;
    if (this.end - this.start < 2 || s.charCodeAt(this.start) != 34) return "";
    let out = "";
    let run = this.start + 1;
    const last = this.end - 1;
    for (let i = run; i < last; i++) {
      if (s.charCodeAt(i) != 92) continue;
      out += s.substring(run, i);
      i++;
      const c = s.charCodeAt(i);
      if (c == 117 && i + 4 < last) { // \uXXXX (pairs of surrogates stay pairs in UTF-16)
        let v = 0;
        for (let k = 1; k <= 4; k++) v = v << 4 | hexDigit(s.charCodeAt(i + k));
        out += String.fromCharCode(v < 0 ? 0xFFFD : v);
        i += 4;
      } else if (c == 110) out += "\n";
      else if (c == 116) out += "\t";
      else if (c == 114) out += "\r";
      else if (c == 98) out += "\b";
      else if (c == 102) out += "\f";
      else out += String.fromCharCode(c);
      run = i + 1;
    }
    return out + s.substring(run, last);
  }
  /** The value as a non-negative integer (0 when it is not one). */
  u64(): u64 {
    let x: u64 = 0;
    for (let i = this.start; i < this.end; i++) {
      const c = this.s.charCodeAt(i);
      if (c < 48 || c > 57) break;
      x = x * 10 + <u64>(c - 48);
    }
    return x;
  }
  bool(): bool { return this.end > this.start && this.s.charCodeAt(this.start) == 116; }
}

function strOf(j: Json | null, name: string): string {
  if (!j) return "";
  const v = j.field(name);
  return v ? v.str() : "";
}
function u64Of(j: Json | null, name: string): u64 {
  if (!j) return 0;
  const v = j.field(name);
  return v ? v.u64() : 0;
}

function b64(c: i32): i32 {
  if (c >= 65 && c <= 90) return c - 65;
  if (c >= 97 && c <= 122) return c - 71;
  if (c >= 48 && c <= 57) return c + 4;
  if (c == 43 || c == 45) return 62;
  if (c == 47 || c == 95) return 63;
  return -1;
}

/** Decodes standard or URL-safe base64 (padding optional); null on a bad
 * character. */
export function base64Decode(s: string): ArrayBuffer | null {
  let n = s.length;
  while (n > 0 && s.charCodeAt(n - 1) == 61) n--;
  const out = new ArrayBuffer(n * 3 / 4);
  const o = changetype<usize>(out);
  let acc: u32 = 0, bits = 0, j = 0;
  for (let i = 0; i < n; i++) {
    const d = b64(s.charCodeAt(i));
    if (d < 0) return null;
    acc = acc << 6 | <u32>d;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      store<u8>(o + <usize>j, <u8>(acc >> bits));
      j++;
    }
  }
  return out.slice(0, j);
}

function bytesOf(j: Json | null, name: string): ArrayBuffer | null {
  if (!j) return null;
  const v = j.field(name);
  return v ? base64Decode(v.str()) : null;
}

// ---- The envelope and each kind's data. ----

/** One event delivery. Delivery is at least once: handlers should be
 * idempotent (id is the same on every attempt). */
export class Event {
  kind: string = "";     // "kv", "upload", "schedule" or "queue"
  id: string = "";
  source: string = "";   // "kv:chat/msg/", "upload:photos", "queue:jobs", ...
  time: string = "";     // when the fact behind the event happened (RFC 3339)
  function: string = ""; // the function it is delivered to
  trigger: i32 = 0;      // the trigger's index in the deployment
  attempt: i32 = 0;      // 1 on the first delivery, then 2, 3, ...
  // The W3C traceparent of what caused the event (the KV write, publish or
  // upload of a traced request; a queue batch's first message's); "" when
  // it was not traced, and for schedule ticks.
  traceparent: string = "";
  data: Json | null = null;
  constructor(public json: string) {}

  /** Decodes an envelope; null when it is not a JSON object. */
  static parse(json: string): Event | null {
    const env = Json.parse(json);
    if (!env || env.field("kind") == null) return null;
    const e = new Event(json);
    e.kind = strOf(env, "kind");
    e.id = strOf(env, "id");
    e.source = strOf(env, "source");
    e.time = strOf(env, "time");
    e.function = strOf(env, "function");
    e.trigger = <i32>u64Of(env, "trigger");
    e.attempt = <i32>u64Of(env, "attempt");
    e.traceparent = strOf(env, "traceparent");
    e.data = env.field("data");
    return e;
  }

  /** The key-value change, for kind "kv" (else null). */
  kv(): KVChange | null {
    if (this.kind != "kv") return null;
    const d = this.data;
    const c = new KVChange();
    c.namespace = strOf(d, "namespace");
    c.key = strOf(d, "key");
    c.op = strOf(d, "op");
    c.oldVersion = u64Of(d, "old_version");
    c.newVersion = u64Of(d, "new_version");
    c.value = bytesOf(d, "value");
    const tl = d ? d.field("value_too_large") : null;
    c.valueTooLarge = tl ? tl.bool() : false;
    return c;
  }
  /** The upload, for kind "upload" (else null). */
  upload(): Upload | null {
    if (this.kind != "upload") return null;
    const d = this.data;
    const u = new Upload();
    u.bucket = strOf(d, "bucket");
    u.object = strOf(d, "object");
    u.size = <i64>u64Of(d, "size");
    u.contentType = strOf(d, "content_type");
    u.sha256 = strOf(d, "sha256");
    return u;
  }
  /** The tick, for kind "schedule" (else null). */
  schedule(): Tick | null {
    if (this.kind != "schedule") return null;
    const d = this.data;
    const t = new Tick();
    t.cron = strOf(d, "cron");
    t.timezone = strOf(d, "timezone");
    t.scheduled = strOf(d, "scheduled");
    t.missed = <i32>u64Of(d, "missed");
    return t;
  }
  /** The batch of messages, for kind "queue" (else null). */
  queue(): Message[] | null {
    if (this.kind != "queue") return null;
    const d = this.data;
    const q = strOf(d, "queue");
    const out: Message[] = [];
    const arr = d ? d.field("messages") : null;
    if (!arr) return out;
    const els = arr.elements();
    for (let i = 0; i < els.length; i++) {
      const m = new Message();
      const el = els[i];
      m.queue = q;
      m.id = strOf(el, "id");
      const b = bytesOf(el, "body");
      m.body = b ? b : new ArrayBuffer(0);
      m.attempts = <i32>u64Of(el, "attempts");
      m.published = strOf(el, "published");
      out.push(m);
    }
    return out;
  }
}

/** A key-value change (kind "kv"). */
export class KVChange {
  namespace: string = "";
  key: string = "";
  op: string = "";        // "put" or "delete"
  oldVersion: u64 = 0;    // 0: the key did not exist
  newVersion: u64 = 0;
  /** The value a put wrote, when at most 64 KiB (else null: valueTooLarge,
   * read it with KV.get). */
  value: ArrayBuffer | null = null;
  valueTooLarge: bool = false;
  get text(): string { return this.value ? String.UTF8.decode(this.value!) : ""; }
}

/** An uploaded object (kind "upload"): read it with objectRead or readAll. */
export class Upload {
  bucket: string = "";
  object: string = "";
  size: i64 = 0;
  contentType: string = "";
  sha256: string = ""; // hex, of the content

  /** Reads up to buf.byteLength bytes from offset; the count (0 at the
   * end) or -code. */
  read(offset: i64, buf: ArrayBuffer): i64 {
    const b = String.UTF8.encode(this.bucket), n = String.UTF8.encode(this.object);
    return sys.object_read(changetype<usize>(b), b.byteLength, changetype<usize>(n), n.byteLength, offset,
      changetype<usize>(buf), buf.byteLength);
  }
  /** The whole object, or null when a read fails (read gives the code). */
  readAll(): ArrayBuffer | null {
    let out = new ArrayBuffer(<i32>this.size + 1);
    let n = 0;
    while (true) {
      if (n == out.byteLength) {
        const bigger = new ArrayBuffer(out.byteLength * 2);
        memory.copy(changetype<usize>(bigger), changetype<usize>(out), <usize>n);
        out = bigger;
      }
      const b = String.UTF8.encode(this.bucket), o = String.UTF8.encode(this.object);
      const got = sys.object_read(changetype<usize>(b), b.byteLength, changetype<usize>(o), o.byteLength, <i64>n,
        changetype<usize>(out) + <usize>n, out.byteLength - n);
      if (got < 0) return null;
      if (got == 0) break;
      n += <i32>got;
    }
    return out.slice(0, n);
  }
}

/** A schedule tick (kind "schedule"). */
export class Tick {
  cron: string = "";
  timezone: string = "";
  scheduled: string = ""; // the tick's time (RFC 3339)
  missed: i32 = 0;        // ticks skipped while no node could run them
}

/** One queue message; a queue event carries a batch. */
export class Message {
  queue: string = "";
  id: string = "";
  body: ArrayBuffer = new ArrayBuffer(0);
  attempts: i32 = 0;      // earlier failed deliveries (0 the first time)
  published: string = ""; // RFC 3339
  get text(): string { return String.UTF8.decode(this.body); }
}
