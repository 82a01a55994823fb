// wedge's JavaScript prelude: the Workers-style Web APIs, written over
// the natives of wedge_js.c (the object __wedge, which this file takes
// and removes from the global scope). Evaluated once, at deploy, before
// the user's module; its value is dispatch(handlers, kind), which the
// engine calls with the module's default export.
(function () {
  "use strict";
  const W = globalThis.__wedge;
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
      this[hmap] = new Map();
      if (init == null) return;
      if (init instanceof Headers) {
        for (const [k, v] of init) this.append(k, v);
      } else if (Array.isArray(init)) {
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
    forEach(fn, self) { for (const [k, v] of this) fn.call(self, v, k, this); }
    *entries() { yield* [...this[hmap].entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)); }
    *keys() { for (const [k] of this.entries()) yield k; }
    *values() { for (const [, v] of this.entries()) yield v; }
    [Symbol.iterator]() { return this.entries(); }
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
    async arrayBuffer() {
      const e = this._take(); if (e) return e;
      const b = this._raw();
      if (b == null) return new ArrayBuffer(0);
      if (typeof b === "string") return W.encode(b);
      if (b instanceof ArrayBuffer) return b.slice(0);
      return b.slice().buffer;
    }
  }

  // --- Request ---
  class Request extends Body {
    constructor(input, init = {}) {
      super();
      if (input instanceof Request) {
        this.method = input.method; this.url = input.url;
        this.headers = new Headers(input.headers); this._body = input._raw();
      } else {
        this.method = "GET"; this.url = String(input); this.headers = new Headers(); this._body = null;
      }
      if (init.method !== undefined) this.method = String(init.method).toUpperCase();
      if (init.headers !== undefined) this.headers = new Headers(init.headers);
      if (init.body !== undefined) this._body = bodyBytes(init.body);
      this.cf = init.cf;
    }
    _raw() {
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
      return new Response(null, { status, headers: { location: String(url) } });
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

  Object.assign(globalThis, { Headers, Request, Response, URL, URLSearchParams, TextEncoder, TextDecoder, addEventListener, FetchEvent });

  // --- dispatch ---
  function incoming() {
    const [method, uri, host, remote, id, route, hs] = W.head();
    const headers = new Headers();
    for (let i = 0; i + 1 < hs.length; i += 2) headers.append(hs[i], hs[i + 1]);
    const req = new Request("http://" + (host || "localhost") + uri, { method, headers });
    if (method !== "GET" && method !== "HEAD") req._lazy = W.body;
    return req;
  }

  function send(res) {
    if (!(res instanceof Response)) {
      throw new TypeError("the fetch handler must return a Response, got " + (res === null ? "null" : typeof res));
    }
    const flat = [];
    for (const [k, v] of res.headers) flat.push(k, v);
    W.respond(res.status, flat, res._raw());
  }

  const ctx = { waitUntil(p) { Promise.resolve(p).catch((e) => console.error("waitUntil:", e)); }, passThroughOnException() {} };

  // dispatch(handlers, kind): kind "check" validates the module's
  // default export at deploy; "fetch" serves the current request and
  // resolves to 0 once the response is sent, or 1 after logging why not.
  // A script with no default export may use addEventListener("fetch").
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
  return function dispatch(handlers, kind) {
    if (handlers === undefined && listeners.fetch.length > 0) handlers = viaListeners;
    if (kind === "check") {
      if (handlers === null || typeof handlers !== "object" || typeof handlers.fetch !== "function") {
        throw new TypeError("worker.js must export default an object with a fetch(request, env, ctx) method, or call addEventListener(\"fetch\", ...)");
      }
      return 0;
    }
    return (async () => {
      try {
        const env = W.env();
        send(await handlers.fetch(incoming(), env, ctx));
        return 0;
      } catch (e) {
        console.error("Uncaught " + fmt(e));
        return 1;
      }
    })();
  };
})()
