// The wedge AssemblyScript SDK: the ABI v1 (abi/README.md) in AS idioms.
import * as sys from "./sys";
import { Event, KVChange, Message, Tick, Upload } from "./event";
export { sys };
export { Event, Json, KVChange, Message, Tick, Upload, base64Decode } from "./event";

// ---- Errors: the ABI's codes (abi/errors.go). ----

export enum Code {
  OK = 0, NotFound = 1, TooLarge = 2, Denied = 3, Invalid = 4, Conflict = 5,
  Unsupported = 6, Internal = 7, NotCounter = 8, Busy = 9,
}

export function codeName(code: i32): string {
  if (code < 0) code = -code;
  switch (code) {
    case 0: return "ok";
    case 1: return "not found";
    case 2: return "too large";
    case 3: return "denied";
    case 4: return "invalid argument";
    case 5: return "version conflict";
    case 6: return "unsupported";
    case 7: return "internal error";
    case 8: return "not a counter";
    case 9: return "busy";
  }
  return "unknown error";
}

// ---- Bytes and strings. ----

function utf8(s: string): ArrayBuffer { return String.UTF8.encode(s); }
function ptr(b: ArrayBuffer): usize { return changetype<usize>(b); }
function len(b: ArrayBuffer): i32 { return b.byteLength; }

/** Runs a size-needed host call until what it reports fits; returns the
 * bytes, or null with lastCode set to the (positive) error code. */
export let lastCode: i32 = 0;

function fill(initial: i32, call: (buf: usize, cap: i32) => i32): ArrayBuffer | null {
  let buf = new ArrayBuffer(max(initial, 16));
  while (true) {
    const n = call(ptr(buf), buf.byteLength);
    if (n < 0) { lastCode = -n; return null; }
    if (n <= buf.byteLength) return buf.slice(0, n);
    buf = new ArrayBuffer(n);
  }
}

// Closures are not supported in AS: host calls that need arguments keep
// them in these module-level slots for the duration of one fill.
let argA: ArrayBuffer = new ArrayBuffer(0);
let argB: ArrayBuffer = new ArrayBuffer(0);
let argC: ArrayBuffer = new ArrayBuffer(0);
let argLimit: i32 = 0;

// ---- Logging. ----

export enum Level { Debug = 0, Info = 1, Warn = 2, Error = 3 }

/** Adds one entry to the function's logs. */
export function log(level: Level, msg: string): void {
  const b = utf8(msg);
  sys.log(level, ptr(b), len(b));
}
export function debug(msg: string): void { log(Level.Debug, msg); }
export function info(msg: string): void { log(Level.Info, msg); }
export function warn(msg: string): void { log(Level.Warn, msg); }
export function error(msg: string): void { log(Level.Error, msg); }

/** Logs msg at error level and traps: the request answers 500. */
export function panic(msg: string): void {
  error(msg);
  unreachable();
}

/** The abort AssemblyScript calls for a failed assertion or a runtime
 * error. Build with `--use abort=<path of this file without .ts>/abort`
 * (see README.md) so that it replaces the env.abort import, which the host
 * does not provide: it logs the message and place, then traps (500). */
export function abort(message: string | null, fileName: string | null, line: u32, column: u32): void {
  error("abort: " + (message ? message! : "") + " at " + (fileName ? fileName! : "?") + ":" + line.toString() + ":" + column.toString());
  unreachable();
}

// ---- Configuration and secrets. ----

/** The function's configuration variable (or secret), or null. */
export function config(key: string): string | null {
  argA = utf8(key);
  const b = fill(64, (p: usize, cap: i32): i32 => sys.config_get(ptr(argA), len(argA), p, cap));
  return b ? String.UTF8.decode(b!) : null;
}
export function secret(key: string): string | null { return config(key); }

// ---- The request. ----

class Decoder {
  off: i32 = 0;
  constructor(public b: ArrayBuffer) {}
  u32(): u32 {
    if (this.off + 4 > this.b.byteLength) { this.off = -1; return 0; }
    const v = load<u32>(ptr(this.b) + <usize>this.off);
    this.off += 4;
    return v;
  }
  str(): string {
    const n = <i32>this.u32();
    if (this.off < 0 || this.off + n > this.b.byteLength) { this.off = -1; return ""; }
    const s = String.UTF8.decodeUnsafe(ptr(this.b) + <usize>this.off, <usize>n);
    this.off += n;
    return s;
  }
}

function hex(c: i32): i32 {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/** Decodes %XX escapes (as UTF-8) and '+' as space. */
export function percentDecode(s: string): string {
  const src = utf8(s);
  const n = src.byteLength;
  const out = new ArrayBuffer(n);
  const p = ptr(src), o = ptr(out);
  let j = 0;
  for (let i = 0; i < n; i++) {
    const c = <i32>load<u8>(p + i);
    if (c == 43) { store<u8>(o + j++, 32); continue; }
    if (c == 37 && i + 2 < n) {
      const h = hex(load<u8>(p + i + 1)), l = hex(load<u8>(p + i + 2));
      if (h >= 0 && l >= 0) { store<u8>(o + j++, <u8>(h << 4 | l)); i += 2; continue; }
    }
    store<u8>(o + j++, <u8>c);
  }
  return String.UTF8.decodeUnsafe(o, j);
}

export class Header {
  constructor(public name: string, public value: string) {}
}

export class Request {
  method: string = "";
  uri: string = "";
  host: string = "";
  remoteAddr: string = "";
  requestId: string = "";
  route: string = "";
  headers: Header[] = [];
  bodyLength: i32 = 0;

  /** The path: the URI up to '?'. */
  get path(): string {
    const i = this.uri.indexOf("?");
    return i < 0 ? this.uri : this.uri.substring(0, i);
  }
  /** The raw query, without '?'. */
  get query(): string {
    const i = this.uri.indexOf("?");
    return i < 0 ? "" : this.uri.substring(i + 1);
  }
  /** The first query parameter called name, percent-decoded, or null. */
  queryParam(name: string): string | null {
    const parts = this.query.split("&");
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i];
      if (p.length == 0) continue;
      const eq = p.indexOf("=");
      const k = percentDecode(eq < 0 ? p : p.substring(0, eq));
      if (k == name) return eq < 0 ? "" : percentDecode(p.substring(eq + 1));
    }
    return null;
  }
  /** The first header called name (case-insensitively), or null. */
  header(name: string): string | null {
    const want = name.toLowerCase();
    for (let i = 0; i < this.headers.length; i++) {
      if (this.headers[i].name.toLowerCase() == want) return this.headers[i].value;
    }
    return null;
  }
  /** Reads up to buf.byteLength more bytes of the body; 0 at the end. */
  readBody(buf: ArrayBuffer): i32 {
    const n = sys.request_body(ptr(buf), buf.byteLength);
    return n < 0 ? 0 : n;
  }
  /** Reads the rest of the body. */
  body(): ArrayBuffer {
    let out = new ArrayBuffer(this.bodyLength);
    let n = 0;
    while (true) {
      if (n == out.byteLength) {
        const bigger = new ArrayBuffer(max(out.byteLength * 2, 4096));
        memory.copy(ptr(bigger), ptr(out), <usize>n);
        out = bigger;
      }
      const got = sys.request_body(ptr(out) + <usize>n, out.byteLength - n);
      if (got <= 0) break;
      n += got;
    }
    return out.slice(0, n);
  }
  /** The rest of the body as text. */
  text(): string { return String.UTF8.decode(this.body()); }
}

/** Reads the current request's head; the entry calls it. */
export function readRequest(headLen: i32, bodyLen: i32): Request {
  const head = fill(headLen, (p: usize, cap: i32): i32 => sys.request_head(p, cap));
  if (!head) panic("wedge: reading the request head: " + codeName(lastCode));
  const d = new Decoder(head!);
  const r = new Request();
  r.method = d.str(); r.uri = d.str(); r.host = d.str();
  r.remoteAddr = d.str(); r.requestId = d.str(); r.route = d.str();
  const count = <i32>d.u32();
  for (let i = 0; i < count && d.off >= 0; i++) {
    const k = d.str();
    const v = d.str();
    r.headers.push(new Header(k, v));
  }
  if (d.off < 0) panic("wedge: the request head does not decode");
  r.bodyLength = bodyLen;
  return r;
}

// ---- The response. ----

export class Response {
  headers: Header[] = [];
  chunks: ArrayBuffer[] = [];
  constructor(public status: i32 = 200) {}

  static text(s: string, status: i32 = 200): Response {
    return new Response(status).header("Content-Type", "text/plain; charset=utf-8").write(s);
  }
  header(name: string, value: string): Response {
    this.headers.push(new Header(name, value));
    return this;
  }
  write(s: string): Response { this.chunks.push(utf8(s)); return this; }
  writeBytes(b: ArrayBuffer): Response { this.chunks.push(b); return this; }

  /** Sends the response; returns 0 or -code. */
  send(): i32 {
    let size = 4;
    const enc: ArrayBuffer[] = [];
    for (let i = 0; i < this.headers.length; i++) {
      const k = utf8(this.headers[i].name), v = utf8(this.headers[i].value);
      enc.push(k); enc.push(v);
      size += 8 + k.byteLength + v.byteLength;
    }
    const h = new ArrayBuffer(size);
    let o = ptr(h);
    store<u32>(o, this.headers.length); o += 4;
    for (let i = 0; i < enc.length; i++) {
      store<u32>(o, enc[i].byteLength); o += 4;
      memory.copy(o, ptr(enc[i]), enc[i].byteLength); o += enc[i].byteLength;
    }
    let r = sys.response_head(this.status, ptr(h), size);
    if (r < 0) return r;
    for (let i = 0; i < this.chunks.length; i++) {
      r = sys.response_write(ptr(this.chunks[i]), this.chunks[i].byteLength);
      if (r < 0) return r;
    }
    return 0;
  }
}

/** Serves one request with handler; export it as wedge_handle:
 *
 *   export function wedge_handle(headLen: i32, bodyLen: i32): i32 {
 *     return serve(headLen, bodyLen, handle);
 *   }
 */
export function serve(headLen: i32, bodyLen: i32, handler: (req: Request) => Response): i32 {
  const r = handler(readRequest(headLen, bodyLen)).send();
  if (r < 0) { error("wedge: sending the response: " + codeName(r)); return 1; }
  return 0;
}

// ---- The key-value store. ----

/** Conditions for put and delete. */
export const ANY_VERSION: i64 = -1;
export const IF_ABSENT: i64 = 0;

export class Entry {
  constructor(public value: ArrayBuffer, public version: u64) {}
  get text(): string { return String.UTF8.decode(this.value); }
}

/** A key-value namespace; "" is the function's own. Methods return a
 * negative -code on failure where they return numbers, null where they
 * return values (lastCode then holds the code). */
export class KV {
  private ns: ArrayBuffer;
  constructor(namespace: string = "") { this.ns = utf8(namespace); }

  /** The value and version at key, or null (lastCode 1 when absent). */
  get(key: string): Entry | null {
    argB = this.ns; argA = utf8(key);
    const b = fill(256, (p: usize, cap: i32): i32 =>
      sys.kv_get(ptr(argB), len(argB), ptr(argA), len(argA), p, cap, changetype<usize>(versionOutBox)));
    if (!b) return null;
    return new Entry(b!, load<u64>(changetype<usize>(versionOutBox)));
  }
  /** Stores value; ttlMs 0 = no expiry; ifVersion ANY_VERSION, IF_ABSENT or
   * a version (compare-and-swap). Returns the new version or -code. */
  put(key: string, value: ArrayBuffer, ttlMs: i64 = 0, ifVersion: i64 = ANY_VERSION): i64 {
    const k = utf8(key);
    return sys.kv_put(ptr(this.ns), len(this.ns), ptr(k), len(k), ptr(value), len(value), ttlMs, ifVersion);
  }
  putText(key: string, value: string, ttlMs: i64 = 0, ifVersion: i64 = ANY_VERSION): i64 {
    return this.put(key, utf8(value), ttlMs, ifVersion);
  }
  /** Deletes key; returns 0 or -code. */
  delete(key: string, ifVersion: i64 = ANY_VERSION): i32 {
    const k = utf8(key);
    return sys.kv_delete(ptr(this.ns), len(this.ns), ptr(k), len(k), ifVersion);
  }
  /** Adds delta to the counter at key; returns the new value. On failure
   * it returns 0 and sets lastCode (0 on success). */
  increment(key: string, delta: i64 = 1): i64 {
    const k = utf8(key);
    const r = sys.kv_increment(ptr(this.ns), len(this.ns), ptr(k), len(k), delta, changetype<usize>(versionOutBox));
    lastCode = r < 0 ? -r : 0;
    return r < 0 ? 0 : load<i64>(changetype<usize>(versionOutBox));
  }
  /** Every key under prefix, following the cursor a page of limit keys at
   * a time. On failure the keys so far; lastCode is then set (0 on success). */
  list(prefix: string, limit: i32 = 100): string[] {
    const keys: string[] = [];
    argB = this.ns; argA = utf8(prefix); argC = new ArrayBuffer(0); argLimit = limit;
    lastCode = 0;
    while (true) {
      const page = fill(4096, (p: usize, cap: i32): i32 =>
        sys.kv_list(ptr(argB), len(argB), ptr(argA), len(argA), ptr(argC), len(argC), argLimit, p, cap));
      if (!page) return keys;
      const d = new Decoder(page!);
      const n = <i32>d.u32();
      for (let i = 0; i < n; i++) keys.push(d.str());
      const cn = <i32>d.u32();
      if (d.off < 0 || d.off + cn > page!.byteLength) { lastCode = Code.Invalid; return keys; }
      argC = page!.slice(d.off, d.off + cn);
      if (cn == 0) return keys;
    }
  }
}

// An 8-byte cell for the host to write versions and counters into.
const versionOutBox = new ArrayBuffer(8);

// ---- Events and queues. ----

/** Publishes body to the named queue; 0 once stored, or -code. */
export function publish(queue: string, body: ArrayBuffer): i32 {
  const q = utf8(queue);
  return sys.queue_publish(ptr(q), len(q), ptr(body), len(body));
}

/** The event envelope (JSON, abi/README.md "Events"); the event entry
 * reads it:
 *
 *   export function wedge_event(eventLen: i32): i32 {
 *     const json = readEvent(eventLen);
 *     ...
 *     return 0; // anything else: the delivery is retried
 *   }
 */
export function readEvent(eventLen: i32): string {
  const b = fill(eventLen, (p: usize, cap: i32): i32 => sys.event_get(p, cap));
  if (!b) panic("wedge: reading the event: " + codeName(lastCode));
  return String.UTF8.decode(b!);
}

/** Reads up to buf.byteLength bytes of an uploaded object from offset;
 * returns the count (0 at the end) or -code. */
export function objectRead(bucket: string, name: string, offset: i64, buf: ArrayBuffer): i64 {
  const b = utf8(bucket), n = utf8(name);
  return sys.object_read(ptr(b), len(b), ptr(n), len(n), offset, ptr(buf), len(buf));
}

/** One handler per kind; leave null the kinds the function does not take.
 * Each returns 0 once the event is handled; anything else (or a trap)
 * fails the delivery, which is retried. A queue handler gets the whole
 * batch: an error delivers every message of it again. other takes kinds
 * without a typed handler (including kinds a newer host may add).
 *
 *   const events = new EventHandlers().onKV(onKV).onQueue(onQueue);
 *   export function wedge_event(eventLen: i32): i32 {
 *     return serveEvent(eventLen, events);
 *   }
 */
export class EventHandlers {
  kv: ((ev: Event, c: KVChange) => i32) | null = null;
  upload: ((ev: Event, u: Upload) => i32) | null = null;
  schedule: ((ev: Event, t: Tick) => i32) | null = null;
  queue: ((ev: Event, msgs: Message[]) => i32) | null = null;
  other: ((ev: Event) => i32) | null = null;

  onKV(f: (ev: Event, c: KVChange) => i32): EventHandlers { this.kv = f; return this; }
  onUpload(f: (ev: Event, u: Upload) => i32): EventHandlers { this.upload = f; return this; }
  onSchedule(f: (ev: Event, t: Tick) => i32): EventHandlers { this.schedule = f; return this; }
  onQueue(f: (ev: Event, msgs: Message[]) => i32): EventHandlers { this.queue = f; return this; }
  onOther(f: (ev: Event) => i32): EventHandlers { this.other = f; return this; }
}

/** Reads the envelope and calls the handler of its kind. An event no
 * handler takes is logged and fails (retried, then dead-lettered). */
export function serveEvent(eventLen: i32, h: EventHandlers): i32 {
  const ev = Event.parse(readEvent(eventLen));
  if (!ev) { panic("wedge: the event envelope does not decode"); return 1; }
  const e = changetype<Event>(ev);
  const kv = h.kv, upload = h.upload, schedule = h.schedule, queue = h.queue, other = h.other;
  if (kv && e.kind == "kv") return kv(e, e.kv()!);
  if (upload && e.kind == "upload") return upload(e, e.upload()!);
  if (schedule && e.kind == "schedule") return schedule(e, e.schedule()!);
  if (queue && e.kind == "queue") return queue(e, e.queue()!);
  if (other) return other(e);
  error("wedge: no handler for \"" + e.kind + "\" events (" + e.source + "): set one on the EventHandlers");
  return 1;
}
