// wedge's JavaScript prelude: the Workers-style Web APIs, written over
// the natives of wedge_js.c (the object __wedge, which this file takes
// and removes from the global scope). Evaluated once, at deploy, before
// the user's module; its value is dispatch(handlers, kind), which the
// engine calls with the module's default export.
(function () {
  "use strict";
  // The natives, copied: QuickJS makes a C function object only when its
  // property is first read, and anything first read during a request is
  // made again in every request (the snapshot is taken before it).
  const W = Object.create(null);
  for (const k of Object.getOwnPropertyNames(globalThis.__wedge)) W[k] = globalThis.__wedge[k];
  delete globalThis.__wedge;

  Math.random = W.random;

  // --- console: one log entry per call, levels as in abi/README.md ---
  function fmt(v) {
    if (typeof v === "string") return v;
    if (v instanceof Error) return v.stack ? String(v) + "\n" + v.stack.replace(/\n$/, "") : String(v);
    if (typeof v === "object" && v !== null) {
      try { return JSON.stringify(v); } catch (_) { return String(v); }
    }
    return String(v);
  }
  function logger(level) {
    return function (...args) { W.log(level, args.map(fmt).join(" ")); };
  }
  globalThis.console = {
    log: logger(1), info: logger(1), debug: logger(0), warn: logger(2), error: logger(3),
  };

  // --- Headers: case-insensitive, insertion-ordered, values joined by ", " ---
  const hmap = Symbol("headers");
  class Headers {
    constructor(init) {
      if (init instanceof Headers) {
        // Keys are unique and lower case already: the same as appending
        // each entry, without sorting them first.
        this[hmap] = new Map(init[hmap]);
        return;
      }
      this[hmap] = new Map();
      if (init == null) return;
      if (Array.isArray(init)) {
        for (const [k, v] of init) this.append(k, v);
      } else if (typeof init === "object") {
        for (const k of Object.keys(init)) this.append(k, init[k]);
      }
    }
    append(name, value) {
      const k = String(name).toLowerCase(), v = String(value);
      const cur = this[hmap].get(k);
      this[hmap].set(k, cur === undefined ? v : cur + ", " + v);
    }
    set(name, value) { this[hmap].set(String(name).toLowerCase(), String(value)); }
    get(name) { const v = this[hmap].get(String(name).toLowerCase()); return v === undefined ? null : v; }
    has(name) { return this[hmap].has(String(name).toLowerCase()); }
    delete(name) { this[hmap].delete(String(name).toLowerCase()); }
    forEach(fn, self) { for (const [k, v] of sortedHeaders(this[hmap])) fn.call(self, v, k, this); }
    entries() { return sortedHeaders(this[hmap])[Symbol.iterator](); }
    keys() { return sortedHeaders(this[hmap]).map((e) => e[0])[Symbol.iterator](); }
    values() { return sortedHeaders(this[hmap]).map((e) => e[1])[Symbol.iterator](); }
    [Symbol.iterator]() { return this.entries(); }
  }
  // sortedHeaders returns a header map's [name, value] pairs sorted by
  // name, as Workers iterates them.
  function sortedHeaders(m) {
    const out = [];
    for (const e of m) out.push(e);
    if (out.length > 1) out.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    return out;
  }

  // --- Body: what Request and Response share ---
  function bodyBytes(body) {
    if (body == null) return null;
    if (typeof body === "string") return body;
    if (body instanceof ArrayBuffer) return body;
    if (ArrayBuffer.isView(body)) return new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
    return String(body);
  }
  class Body {
    get bodyUsed() { return this._used === true; }
    // body is the raw body (a string, ArrayBuffer or Uint8Array), not a
    // ReadableStream: enough for new Response(response.body, response).
    get body() { const b = this._raw(); return b === undefined ? null : b; }
    _take() {
      if (this._used) return Promise.reject(new TypeError("body already used"));
      this._used = true;
      return null;
    }
    async text() {
      const e = this._take(); if (e) return e;
      const b = this._raw();
      if (b == null) return "";
      return typeof b === "string" ? b : W.decode(b);
    }
    async json() { return JSON.parse(await this.text()); }
    async bytes() { return new Uint8Array(await this.arrayBuffer()); }
    // formData: application/x-www-form-urlencoded bodies only.
    async formData() {
      const type = (this.headers && this.headers.get("content-type")) || "";
      if (!/^application\/x-www-form-urlencoded/i.test(type)) {
        throw new TypeError("formData: only application/x-www-form-urlencoded bodies are supported, not " + (type || "a body without Content-Type"));
      }
      const fd = new FormData();
      for (const [k, v] of new URLSearchParams(await this.text())) fd.append(k, v);
      return fd;
    }
    async arrayBuffer() {
      const e = this._take(); if (e) return e;
      const b = this._raw();
      if (b == null) return new ArrayBuffer(0);
      if (typeof b === "string") return W.encode(b);
      if (b instanceof ArrayBuffer) return b.slice(0);
      return b.slice().buffer;
    }
  }

  // --- FormData: string fields (no files) ---
  class FormData {
    constructor() { this._f = []; }
    append(k, v) { this._f.push([String(k), String(v)]); }
    set(k, v) { this.delete(k); this.append(k, v); }
    get(k) { const p = this._f.find((p) => p[0] === String(k)); return p ? p[1] : null; }
    getAll(k) { return this._f.filter((p) => p[0] === String(k)).map((p) => p[1]); }
    has(k) { return this._f.some((p) => p[0] === String(k)); }
    delete(k) { this._f = this._f.filter((p) => p[0] !== String(k)); }
    forEach(fn, self) { for (const [k, v] of this._f) fn.call(self, v, k, this); }
    *entries() { for (const p of this._f) yield [p[0], p[1]]; }
    *keys() { for (const p of this._f) yield p[0]; }
    *values() { for (const p of this._f) yield p[1]; }
    [Symbol.iterator]() { return this.entries(); }
  }

  // --- Request ---
  // method, url and headers are accessors, as in Workers (Web IDL
  // attributes). The incoming request (made by incoming(), below) reads
  // the request head from the host only when one of them, or the body,
  // is first used: a handler that never looks at its request costs no
  // host call and builds no strings.
  const unread = Symbol("unread");
  class Request extends Body {
    constructor(input, init = {}) {
      super();
      this._lazy = null;
      if (input === unread) {
        this._method = undefined; this._url = undefined; this._headers = undefined; this._hs = null;
        this._body = null; this.cf = undefined;
        return;
      }
      if (input instanceof Request) {
        this._method = input.method; this._url = input.url;
        this._headers = new Headers(input.headers); this._body = input._raw();
      } else {
        this._method = "GET"; this._url = String(input); this._headers = undefined; this._body = null;
      }
      this._hs = null;
      if (init.method !== undefined) this._method = String(init.method).toUpperCase();
      if (init.headers !== undefined) this._headers = new Headers(init.headers);
      else if (this._headers === undefined) this._headers = new Headers();
      if (init.body !== undefined) this._body = bodyBytes(init.body);
      this.cf = init.cf;
    }
    // _head reads the incoming request's head (once).
    _head() {
      const [method, uri, host, remote, id, route, hs] = W.head();
      this._method = String(method).toUpperCase();
      this._url = "http://" + (host || "localhost") + uri;
      this._hs = hs;
      if (this._method !== "GET" && this._method !== "HEAD") this._lazy = W.body;
    }
    get method() { if (this._method === undefined) this._head(); return this._method; }
    get url() { if (this._method === undefined) this._head(); return this._url; }
    get headers() {
      if (this._headers === undefined) {
        if (this._method === undefined) this._head();
        const h = new Headers(), hs = this._hs;
        for (let i = 0; i + 1 < hs.length; i += 2) h.append(hs[i], hs[i + 1]);
        this._headers = h; this._hs = null;
      }
      return this._headers;
    }
    _raw() {
      if (this._method === undefined) this._head();
      if (this._lazy) { this._body = this._lazy(); this._lazy = null; }
      return this._body;
    }
    clone() { return new Request(this); }
  }

  // --- Response ---
  class Response extends Body {
    constructor(body, init = {}) {
      super();
      this._body = bodyBytes(body);
      this.status = init.status === undefined ? 200 : init.status | 0;
      if (this.status < 200 || this.status > 999) throw new RangeError("Response status must be 200 to 999, got " + init.status);
      this.statusText = init.statusText === undefined ? "" : String(init.statusText);
      this.headers = new Headers(init.headers);
      if (typeof body === "string" && !this.headers.has("content-type")) this.headers.set("content-type", "text/plain;charset=UTF-8");
    }
    get ok() { return this.status >= 200 && this.status < 300; }
    _raw() { return this._body; }
    clone() { return new Response(this._body, this); }
    static json(data, init = {}) {
      const headers = new Headers(init.headers);
      if (!headers.has("content-type")) headers.set("content-type", "application/json");
      return new Response(JSON.stringify(data), { ...init, headers });
    }
    static redirect(url, status = 302) {
      if (![301, 302, 303, 307, 308].includes(status)) throw new RangeError("Response.redirect: status must be 301, 302, 303, 307 or 308, got " + status);
      return new Response(null, { status, headers: { location: new URL(String(url)).href } });
    }
  }

  // --- URLSearchParams ---
  const plist = Symbol("params");
  const qenc = (s) => encodeURIComponent(s).replace(/%20/g, "+").replace(/[!'()~]/g, (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase());
  const qdec = (s) => { try { return decodeURIComponent(s.replace(/\+/g, " ")); } catch (_) { return s; } };
  class URLSearchParams {
    constructor(init) {
      this[plist] = [];
      this._url = null;
      if (init == null) return;
      if (typeof init === "string") {
        this._parse(init);
      } else if (init instanceof URLSearchParams) {
        this[plist] = init[plist].map((p) => [p[0], p[1]]);
      } else if (typeof init === "object" && typeof init[Symbol.iterator] === "function") {
        for (const [k, v] of init) this[plist].push([String(k), String(v)]);
      } else if (typeof init === "object") {
        for (const k of Object.keys(init)) this[plist].push([k, String(init[k])]);
      }
    }
    _parse(s) {
      this[plist] = [];
      if (s.startsWith("?")) s = s.slice(1);
      for (const part of s.split("&")) {
        if (part === "") continue;
        const i = part.indexOf("=");
        this[plist].push(i < 0 ? [qdec(part), ""] : [qdec(part.slice(0, i)), qdec(part.slice(i + 1))]);
      }
    }
    _changed() { if (this._url) this._url._search = this.toString() ? "?" + this.toString() : ""; }
    get size() { return this[plist].length; }
    append(k, v) { this[plist].push([String(k), String(v)]); this._changed(); }
    delete(k) { k = String(k); this[plist] = this[plist].filter((p) => p[0] !== k); this._changed(); }
    get(k) { k = String(k); const p = this[plist].find((p) => p[0] === k); return p ? p[1] : null; }
    getAll(k) { k = String(k); return this[plist].filter((p) => p[0] === k).map((p) => p[1]); }
    has(k) { k = String(k); return this[plist].some((p) => p[0] === k); }
    set(k, v) {
      k = String(k); v = String(v);
      const i = this[plist].findIndex((p) => p[0] === k);
      if (i < 0) {
        this[plist].push([k, v]);
      } else {
        this[plist] = this[plist].filter((p, j) => j <= i || p[0] !== k);
        this[plist][i] = [k, v];
      }
      this._changed();
    }
    sort() { this[plist].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)); this._changed(); }
    forEach(fn, self) { for (const [k, v] of this[plist]) fn.call(self, v, k, this); }
    *entries() { for (const p of this[plist]) yield [p[0], p[1]]; }
    *keys() { for (const p of this[plist]) yield p[0]; }
    *values() { for (const p of this[plist]) yield p[1]; }
    [Symbol.iterator]() { return this.entries(); }
    toString() { return this[plist].map((p) => qenc(p[0]) + "=" + qenc(p[1])).join("&"); }
  }

  // --- URL: absolute URLs of special schemes and relative references
  // against a base; enough for routing on request.url ---
  const urlRE = /^([a-zA-Z][a-zA-Z0-9+.-]*):(?:\/\/(?:([^:@\/?#]*)(?::([^@\/?#]*))?@)?(\[[^\]]*\]|[^:\/?#]*)(?::(\d*))?)?([^?#]*)(\?[^#]*)?(#.*)?$/;
  const defaultPorts = { "http:": "80", "https:": "443", "ws:": "80", "wss:": "443", "ftp:": "21" };
  function normPath(p) {
    const out = [];
    for (const seg of p.split("/").slice(1)) {
      if (seg === "..") { if (out.length) out.pop(); } else if (seg !== ".") out.push(seg);
    }
    const last = p.split("/").pop();
    return "/" + out.join("/") + (last === "." || last === ".." ? (out.length ? "/" : "") : "");
  }
  class URL {
    constructor(input, base) {
      input = String(input).trim();
      let m = urlRE.exec(input);
      if (!m) {
        if (base === undefined) throw new TypeError("Invalid URL: " + input);
        const b = base instanceof URL ? base : new URL(base);
        let rest = input, hash = "", search = "";
        const h = rest.indexOf("#"); if (h >= 0) { hash = rest.slice(h); rest = rest.slice(0, h); }
        const q = rest.indexOf("?"); if (q >= 0) { search = rest.slice(q); rest = rest.slice(0, q); }
        if (input.startsWith("//")) return new URL(b.protocol + input);
        let path;
        if (rest === "") { path = b.pathname; if (q < 0) search = b.search; }
        else if (rest.startsWith("/")) path = rest;
        else path = b.pathname.slice(0, b.pathname.lastIndexOf("/") + 1) + rest;
        m = urlRE.exec(b.protocol + "//" + (b.username ? b.username + (b.password ? ":" + b.password : "") + "@" : "") + b.host + normPath(path) + search + hash);
        if (!m) throw new TypeError("Invalid URL: " + input);
      }
      this.protocol = m[1].toLowerCase() + ":";
      this.username = m[2] || "";
      this.password = m[3] || "";
      this.hostname = (m[4] || "").toLowerCase();
      this.port = m[5] && m[5] !== defaultPorts[this.protocol] ? m[5] : "";
      const special = this.protocol in defaultPorts || this.protocol === "file:";
      this.pathname = special ? normPath(m[6] || "/") : m[6] || "";
      this._search = m[7] && m[7] !== "?" ? m[7] : "";
      this.hash = m[8] && m[8] !== "#" ? m[8] : "";
      this._params = new URLSearchParams(this._search);
      this._params._url = this;
    }
    get search() { return this._search; }
    set search(v) { v = String(v); this._search = v === "" || v === "?" ? "" : v.startsWith("?") ? v : "?" + v; this._params._parse(this._search); }
    get searchParams() { return this._params; }
    get host() { return this.hostname + (this.port ? ":" + this.port : ""); }
    set host(v) { const [h, p] = String(v).split(":"); this.hostname = h.toLowerCase(); this.port = p || ""; }
    get origin() { return this.protocol in defaultPorts ? this.protocol + "//" + this.host : "null"; }
    get href() {
      const auth = this.username ? this.username + (this.password ? ":" + this.password : "") + "@" : "";
      const slashes = this.hostname !== "" || this.protocol in defaultPorts ? "//" : "";
      return this.protocol + slashes + auth + this.host + this.pathname + this._search + this.hash;
    }
    set href(v) { Object.assign(this, new URL(v)); this._params._url = this; }
    toString() { return this.href; }
    toJSON() { return this.href; }
    static canParse(u, b) { try { new URL(u, b); return true; } catch (_) { return false; } }
  }

  // --- TextEncoder / TextDecoder (UTF-8) ---
  class TextEncoder {
    get encoding() { return "utf-8"; }
    encode(s = "") { return new Uint8Array(W.encode(String(s))); }
  }
  class TextDecoder {
    constructor(label = "utf-8") {
      if (!/^(utf-?8|unicode-1-1-utf-8)$/i.test(String(label))) throw new RangeError("TextDecoder: only utf-8 is supported, not " + label);
    }
    get encoding() { return "utf-8"; }
    decode(b) { return b === undefined ? "" : W.decode(ArrayBuffer.isView(b) ? new Uint8Array(b.buffer, b.byteOffset, b.byteLength) : b); }
  }


  // --- timers: run while the request's (or event's) promise is pending;
  // a timer still waiting when it settles is dropped ---
  let timers = [], timerSeq = 0;
  function addTimer(fn, ms, args, repeat) {
    if (typeof fn !== "function") throw new TypeError("setTimeout: the callback must be a function");
    ms = Math.max(0, Number(ms) || 0);
    const t = { id: ++timerSeq, due: W.mono() + ms, fn, args, repeat: repeat ? Math.max(ms, 1) : 0 };
    timers.push(t);
    return t.id;
  }
  function clearTimer(id) { timers = timers.filter((t) => t.id !== id); }
  // runTimer runs the earliest due timer, sleeping until it is due; it
  // returns false when no timer is left.
  function runTimer() {
    if (timers.length === 0) return false;
    let next = timers[0];
    for (const t of timers) if (t.due < next.due || (t.due === next.due && t.id < next.id)) next = t;
    const wait = next.due - W.mono();
    if (wait > 0) W.sleep(wait);
    if (next.repeat) next.due += next.repeat; else clearTimer(next.id);
    try { next.fn(...next.args); } catch (e) { console.error("Uncaught (in a timer) " + fmt(e)); }
    return true;
  }

  // --- crypto: getRandomValues and randomUUID over WASI random_get ---
  const intArrays = [Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array, BigInt64Array, BigUint64Array];
  const crypto = {
    getRandomValues(a) {
      if (!intArrays.some((T) => a instanceof T)) throw new TypeError("crypto.getRandomValues: the argument must be an integer typed array");
      if (a.byteLength > 65536) throw new RangeError("crypto.getRandomValues: at most 65536 bytes, got " + a.byteLength);
      new Uint8Array(a.buffer, a.byteOffset, a.byteLength).set(new Uint8Array(W.randomBytes(a.byteLength)));
      return a;
    },
    randomUUID() {
      const b = new Uint8Array(W.randomBytes(16));
      b[6] = (b[6] & 0x0f) | 0x40;
      b[8] = (b[8] & 0x3f) | 0x80;
      const h = Array.from(b, (x) => (x < 16 ? "0" : "") + x.toString(16)).join("");
      return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
    },
  };

  // --- structuredClone: the HTML structured clone of plain data ---
  class DataCloneError extends Error { get name() { return "DataCloneError"; } }
  function structuredClone(value) {
    const seen = new Map();
    function clone(v) {
      if (v === null || (typeof v !== "object" && typeof v !== "function" && typeof v !== "symbol")) return v;
      if (typeof v === "function" || typeof v === "symbol") throw new DataCloneError(String(typeof v === "function" ? "function" : "symbol") + " could not be cloned");
      if (seen.has(v)) return seen.get(v);
      let out;
      if (Array.isArray(v)) {
        out = new Array(v.length); seen.set(v, out);
        for (const k of Object.keys(v)) out[k] = clone(v[k]);
        return out;
      }
      if (v instanceof Date) out = new Date(v.getTime());
      else if (v instanceof RegExp) out = new RegExp(v.source, v.flags);
      else if (v instanceof ArrayBuffer) out = v.slice(0);
      else if (ArrayBuffer.isView(v)) {
        const buf = clone(v.buffer);
        out = v instanceof DataView ? new DataView(buf, v.byteOffset, v.byteLength) : new v.constructor(buf, v.byteOffset, v.length);
      } else if (v instanceof Map) {
        out = new Map(); seen.set(v, out);
        for (const [k, x] of v) out.set(clone(k), clone(x));
        return out;
      } else if (v instanceof Set) {
        out = new Set(); seen.set(v, out);
        for (const x of v) out.add(clone(x));
        return out;
      } else if (v instanceof Error) {
        const E = { EvalError, RangeError, ReferenceError, SyntaxError, TypeError, URIError }[v.name] || Error;
        out = new E(v.message); if (v.stack !== undefined) out.stack = String(v.stack);
      } else if (v instanceof Boolean || v instanceof Number || v instanceof String) out = Object(v.valueOf());
      else if (v instanceof Promise || v instanceof WeakMap || v instanceof WeakSet) throw new DataCloneError(v.constructor.name + " could not be cloned");
      else {
        out = {}; seen.set(v, out);
        for (const k of Object.keys(v)) out[k] = clone(v[k]);
        return out;
      }
      seen.set(v, out);
      return out;
    }
    return clone(value);
  }

  // --- KV bindings: the Workers KV shape over wedge's KV calls ---
  class KVNamespace {
    constructor(ns) { this._ns = ns; }
    namespace(name) { return new KVNamespace(String(name)); }
    async get(key, opts) {
      const type = typeof opts === "string" ? opts : (opts && opts.type) || "text";
      const b = W.kvGet(this._ns, String(key));
      if (b === null) return null;
      switch (type) {
        case "text": return W.decode(b);
        case "json": return JSON.parse(W.decode(b));
        case "arrayBuffer": return b;
        default: throw new TypeError("KV get: type must be \"text\", \"json\" or \"arrayBuffer\", got " + JSON.stringify(type));
      }
    }
    async getWithMetadata(key, opts) { return { value: await this.get(key, opts), metadata: null }; }
    async put(key, value, opts = {}) {
      if (typeof value !== "string" && !(value instanceof ArrayBuffer) && !ArrayBuffer.isView(value)) {
        throw new TypeError("KV put: the value must be a string, an ArrayBuffer or a typed array");
      }
      if (ArrayBuffer.isView(value)) value = new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
      let ttl = 0;
      if (opts.expirationTtl !== undefined) ttl = Math.ceil(Number(opts.expirationTtl) * 1000);
      else if (opts.expiration !== undefined) ttl = Math.ceil(Number(opts.expiration) * 1000 - Date.now());
      if (!(ttl >= 0)) throw new TypeError("KV put: expirationTtl and expiration must be positive numbers of seconds");
      if ((opts.expirationTtl !== undefined || opts.expiration !== undefined) && ttl < 1) ttl = 1;
      W.kvPut(this._ns, String(key), value, ttl);
    }
    async delete(key) { W.kvDelete(this._ns, String(key)); }
    async list(opts = {}) {
      const limit = opts.limit === undefined ? 1000 : opts.limit | 0;
      const [keys, next] = W.kvList(this._ns, String(opts.prefix ?? ""), String(opts.cursor ?? ""), limit);
      return { keys: keys.map((name) => ({ name })), list_complete: next === "", cursor: next };
    }
  }

  // --- queue producer: env.QUEUES.send(queue, body) (wedge's own) ---
  const queues = {
    async send(queue, body) {
      if (typeof body !== "string" && !(body instanceof ArrayBuffer) && !ArrayBuffer.isView(body)) body = JSON.stringify(body);
      if (ArrayBuffer.isView(body)) body = new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
      W.publish(String(queue), body);
    },
    async sendBatch(queue, messages) { for (const m of messages) await this.send(queue, m.body); },
  };

  // --- fetch: outbound requests through the host (allowed_hosts) ---
  async function fetch(input, init = {}) {
    const req = input instanceof Request && Object.keys(init).length === 0 ? input : new Request(input, init);
    const u = new URL(req.url);
    const flat = [];
    for (const [k, v] of req.headers) flat.push(k, v);
    const timeout = init.timeout_ms === undefined ? 0 : init.timeout_ms >>> 0;
    const [status, hs, body] = W.fetch(req.method, u.href, flat, req._raw(), timeout);
    const headers = new Headers();
    for (let i = 0; i + 1 < hs.length; i += 2) headers.append(hs[i], hs[i + 1]);
    const res = new Response(req.method === "HEAD" || status === 204 || status === 304 ? null : body, { headers });
    res.status = status;
    res.url = u.href;
    return res;
  }

  // --- addEventListener("fetch"): the service-worker syntax of older scripts ---
  const listeners = { fetch: [] };
  class FetchEvent {
    constructor(request) { this.type = "fetch"; this.request = request; this._response = undefined; }
    respondWith(r) { if (this._response !== undefined) throw new Error("respondWith called twice"); this._response = Promise.resolve(r); }
    waitUntil(p) { ctx.waitUntil(p); }
    passThroughOnException() {}
  }
  function addEventListener(type, fn) {
    if (!(type in listeners)) throw new TypeError("addEventListener: unsupported event type " + type);
    listeners[type].push(fn);
  }

  Object.assign(globalThis, {
    Headers, Request, Response, URL, URLSearchParams, TextEncoder, TextDecoder, addEventListener, FetchEvent,
    crypto, structuredClone, DataCloneError, fetch, FormData,
    setTimeout: (fn, ms, ...args) => addTimer(fn, ms, args, false),
    setInterval: (fn, ms, ...args) => addTimer(fn, ms, args, true),
    clearTimeout: clearTimer, clearInterval: clearTimer,
    queueMicrotask: (fn) => { Promise.resolve().then(fn); },
  });

  // --- dispatch ---
  function incoming() { return new Request(unread); }

  function send(res) {
    if (!(res instanceof Response)) {
      throw new TypeError("the fetch handler must return a Response, got " + (res === null ? "null" : typeof res));
    }
    const flat = [], hs = res.headers;
    for (const [k, v] of hs instanceof Headers ? sortedHeaders(hs[hmap]) : hs) flat.push(k, v);
    W.respond(res.status, flat, res._raw());
  }

  // ctx.waitUntil: the invocation ends once these promises settle too
  // (the response is sent when the invocation ends: ABI v1 buffers it).
  let pending = [];
  const ctx = {
    waitUntil(p) { pending.push(Promise.resolve(p).catch((e) => console.error("waitUntil: " + fmt(e)))); },
    passThroughOnException() {},
  };
  async function drain() {
    while (pending.length) { const p = pending; pending = []; await Promise.all(p); }
  }

  // env: configuration and secrets as strings, env.KV over the function's
  // namespace, env.KV_<NAME> over each namespace in kv_grants, and
  // env.QUEUES for publishing.
  function makeEnv() {
    const env = W.env();
    const grants = env.WEDGE_KV_GRANTS;
    delete env.WEDGE_KV_GRANTS;
    env.KV = new KVNamespace("");
    if (grants) {
      for (const ns of grants.split(",")) {
        if (ns !== "" && ns !== "*") env["KV_" + ns.toUpperCase().replace(/[^A-Z0-9]/g, "_")] = new KVNamespace(ns);
      }
    }
    env.QUEUES = queues;
    return env;
  }

  // Events: the envelope of abi/README.md, as the Workers handlers take it.
  function fromBase64(s) {
    const bin = atob(s || ""), out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out.buffer;
  }
  function parseBody(bytes) {
    const text = W.decode(bytes);
    try { return JSON.parse(text); } catch (_) { return text; }
  }
  // eventCall returns [handler name, argument, after]: after(result)
  // gives the entry's result once the handler has returned.
  function eventCall(ev) {
    const d = ev.data || {};
    switch (ev.kind) {
      case "schedule": {
        let retry = true;
        return ["scheduled", {
          type: "scheduled", cron: d.cron, timezone: d.timezone || "UTC", missed: d.missed || 0,
          scheduledTime: Date.parse(d.scheduled), noRetry() { retry = false; },
        }, (failed) => (failed && retry ? 1 : 0)];
      }
      case "queue": {
        let retryAll = false;
        const messages = (d.messages || []).map((m) => {
          const raw = fromBase64(m.body);
          const msg = {
            id: m.id, timestamp: new Date(m.published), attempts: (m.attempts | 0) + 1,
            body: parseBody(raw), rawBody: raw, _retry: false,
            ack() {}, retry() { msg._retry = true; },
          };
          return msg;
        });
        const batch = { queue: d.queue, messages, ackAll() {}, retryAll() { retryAll = true; } };
        return ["queue", batch, (failed) => (failed || retryAll || messages.some((m) => m._retry) ? 1 : 0)];
      }
      case "kv": {
        const value = d.value === undefined ? null : fromBase64(d.value);
        const ns = new KVNamespace(d.namespace);
        return ["kvChange", {
          type: "kv", namespace: d.namespace, key: d.key, op: d.op, oldVersion: d.old_version, newVersion: d.new_version,
          value, valueTooLarge: d.value_too_large === true,
          async text() { if (d.op === "delete") return null; return d.value_too_large ? ns.get(d.key) : W.decode(value); },
          async json() { const t = await this.text(); return t === null ? null : JSON.parse(t); },
        }, (failed) => (failed ? 1 : 0)];
      }
      case "upload":
        return ["upload", {
          type: "upload", bucket: d.bucket, key: d.object, size: d.size, contentType: d.content_type, sha256: d.sha256,
          async arrayBuffer() { return W.object(d.bucket, d.object); },
          async text() { return W.decode(W.object(d.bucket, d.object)); },
          async json() { return JSON.parse(await this.text()); },
        }, (failed) => (failed ? 1 : 0)];
      default:
        return [null, null, (failed) => (failed ? 1 : 0)];
    }
  }

  // dispatch(handlers, kind): kind "check" validates the module's
  // default export at deploy; "fetch" serves the current request and
  // resolves to 0 once the response is sent, or 1 after logging why not;
  // "event" runs the handler for the current event (0 done, 1 failed:
  // retried). A script with no default export may use
  // addEventListener("fetch").
  const viaListeners = {
    async fetch(request) {
      const ev = new FetchEvent(request);
      for (const fn of listeners.fetch) {
        fn(ev);
        if (ev._response !== undefined) return ev._response;
      }
      throw new Error("no fetch listener called respondWith");
    },
  };
  const handlerNames = ["fetch", "scheduled", "queue", "kvChange", "upload", "event"];
  function dispatch(handlers, kind) {
    if (handlers === undefined && listeners.fetch.length > 0) handlers = viaListeners;
    if (kind === "check") {
      timers = []; // a timer set at top level would fire in every request
      warm();
      if (handlers === null || typeof handlers !== "object" || !handlerNames.some((n) => typeof handlers[n] === "function")) {
        throw new TypeError("worker.js must export default an object with a fetch(request, env, ctx) method (or scheduled, queue, kvChange, upload, event), or call addEventListener(\"fetch\", ...)");
      }
      return 0;
    }
    if (kind === "event") return runEvent(handlers);
    return runFetch(handlers);
  }
  async function runFetch(handlers) {
    try {
      if (typeof handlers.fetch !== "function") throw new TypeError("worker.js has no fetch handler");
      send(await handlers.fetch(incoming(), makeEnv(), ctx));
      if (pending.length) await drain();
      return 0;
    } catch (e) {
      console.error("Uncaught " + fmt(e));
      if (pending.length) await drain();
      return 1;
    } finally {
      if (timers.length) timers = [];
    }
  }
  async function runEvent(handlers) {
    let after = (failed) => (failed ? 1 : 0);
    try {
      const ev = JSON.parse(W.event());
      const [name, arg, a] = eventCall(ev);
      after = a;
      // The W3C traceparent of the event's cause ("" when untraced).
      if (arg) arg.traceparent = ev.traceparent || "";
      let fn = name && handlers[name], args = [arg, makeEnv(), ctx];
      if (typeof fn !== "function" && typeof handlers.event === "function") { fn = handlers.event; args = [ev, args[1], ctx]; }
      if (typeof fn !== "function") throw new TypeError("worker.js has no " + (name || ev.kind) + " handler for this " + ev.kind + " event");
      await fn.apply(handlers, args);
      await drain();
      return after(false);
    } catch (e) {
      console.error("Uncaught " + fmt(e));
      await drain();
      return after(true);
    } finally {
      timers = [];
    }
  }
  // warm runs, at deploy, what every request runs up to the handler and
  // from its answer: builtins QuickJS instantiates at first use, shapes
  // and atoms are then in the snapshot instead of being made per request.
  function warm() {
    const headers = new Headers();
    headers.append("Host", "localhost"); headers.append("Accept", "*/*");
    const req = new Request("http://localhost/warm?a=1", { method: "GET", headers });
    new URL(req.url).searchParams.get("a");
    req.method; req.headers.get("accept");
    const res = new Response("warm", { headers: { "x-warm": "1" } });
    const flat = [];
    for (const [k, v] of sortedHeaders(res.headers[hmap])) flat.push(k, v);
    for (const [k, v] of res.headers) flat.push(k, v);
    res._raw();
    Response.json({ warm: true });
    const p = (async () => { await Promise.resolve(res); await drain(); })();
    p.then(() => {}, () => {});
  }
  dispatch.timer = runTimer;
  return dispatch;
})()
