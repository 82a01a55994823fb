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

  Object.assign(globalThis, { Headers, Request, Response });

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
  return function dispatch(handlers, kind) {
    if (kind === "check") {
      if (handlers === null || typeof handlers !== "object" || typeof handlers.fetch !== "function") {
        throw new TypeError("worker.js must export default an object with a fetch(request, env, ctx) method");
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
