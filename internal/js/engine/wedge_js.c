// wedge's JavaScript engine: QuickJS-ng plus the glue that serves
// Workers-style scripts through the wedge_v1 ABI (abi/README.md).
//
// Life cycle of one deployed script (see internal/js/doc.go):
//
//   _initialize   runs once, at deploy, inside the node's snapshotter: it
//                 copies the script the node appended to memory (the
//                 trailer, below), creates the runtime and context,
//                 evaluates the prelude (prelude.js, the Web APIs) and the
//                 user's module, and keeps its default export. The node
//                 snapshots memory and globals right after, so every
//                 request starts here.
//   wedge_handle  runs once per request, in a fresh instance of that
//                 snapshot: it hands the request to the prelude's
//                 dispatch function, runs promise jobs until the handler's
//                 promise settles (running due timers while it is
//                 pending), and returns 0 (responded) or 1 (500).
//   wedge_event   the same for an event (trigger): the prelude reads the
//                 envelope and calls scheduled, queue, kvChange or upload;
//                 0 done, 1 failed (retried by the host).
//
// The trailer: the node raises the memory's minimum and writes the
// script's bytes followed by WEDGE_TRAILER bytes, of which the last eight
// are the script's length (u32 LE) and the magic "wjs1", ending exactly
// at the new end of the initial memory. _initialize reads the length
// before the first malloc, then copies the script. The first malloc
// turns all memory above __heap_base into the heap and writes its
// bookkeeping at the top (hence the padding between script and length),
// and the node leaves at least the script's size free below it, so the
// copy malloc returns (from the bottom of the heap) cannot overlap it.
// After the copy the area is ordinary heap.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <unistd.h>
#include <time.h>
#include <wasi/api.h>

#include "quickjs.h"

#define WEDGE_IMPORT(name) __attribute__((import_module("wedge_v1"), import_name(name)))

WEDGE_IMPORT("request_head") int32_t wedge_request_head(uint8_t *buf, int32_t cap);
WEDGE_IMPORT("request_body") int32_t wedge_request_body(uint8_t *buf, int32_t cap);
WEDGE_IMPORT("response_head") int32_t wedge_response_head(int32_t status, const uint8_t *headers, int32_t len);
WEDGE_IMPORT("response_write") int32_t wedge_response_write(const uint8_t *buf, int32_t len);
WEDGE_IMPORT("log") int32_t wedge_log(int32_t level, const uint8_t *msg, int32_t len);
WEDGE_IMPORT("kv_get") int32_t wedge_kv_get(const uint8_t *ns, int32_t ns_len, const uint8_t *key, int32_t key_len,
                                            uint8_t *buf, int32_t cap, uint64_t *version_out);
WEDGE_IMPORT("kv_put") int64_t wedge_kv_put(const uint8_t *ns, int32_t ns_len, const uint8_t *key, int32_t key_len,
                                            const uint8_t *val, int32_t val_len, int64_t ttl_ms, int64_t if_version);
WEDGE_IMPORT("kv_delete") int32_t wedge_kv_delete(const uint8_t *ns, int32_t ns_len, const uint8_t *key, int32_t key_len,
                                                  int64_t if_version);
WEDGE_IMPORT("kv_list") int32_t wedge_kv_list(const uint8_t *ns, int32_t ns_len, const uint8_t *prefix, int32_t prefix_len,
                                              const uint8_t *cursor, int32_t cursor_len, int32_t limit, uint8_t *buf, int32_t cap);
WEDGE_IMPORT("event_get") int32_t wedge_event_get(uint8_t *buf, int32_t cap);
WEDGE_IMPORT("queue_publish") int32_t wedge_queue_publish(const uint8_t *q, int32_t q_len, const uint8_t *body, int32_t body_len);
WEDGE_IMPORT("object_read") int64_t wedge_object_read(const uint8_t *bucket, int32_t bucket_len, const uint8_t *name, int32_t name_len,
                                                      int64_t offset, uint8_t *buf, int32_t cap);
WEDGE_IMPORT("http_send") int32_t wedge_http_send(const uint8_t *req, int32_t req_len, const uint8_t *body, int32_t body_len);
WEDGE_IMPORT("http_response_head") int32_t wedge_http_response_head(int32_t h, uint8_t *buf, int32_t cap);
WEDGE_IMPORT("http_response_read") int32_t wedge_http_response_read(int32_t h, uint8_t *buf, int32_t cap);
WEDGE_IMPORT("http_close") int32_t wedge_http_close(int32_t h);

extern void __wasm_call_ctors(void);
extern char **environ;

#include "prelude.h" // wedge_prelude, wedge_prelude_len: prelude.js as bytes

static JSRuntime *rt;
static JSContext *ctx;
static JSValue dispatch_fn; // the prelude's dispatch(handlers, kind)
static JSValue timer_fn;    // dispatch.timer(): runs the next due timer
static JSValue handlers;    // the user module's default export
static uint64_t rand_state;

#define WEDGE_TRAILER 256 // see the top of the file; internal/js/combine.go agrees

static int32_t cur_head_len, cur_body_len;

static void log_str(int level, const char *s, size_t n) {
	wedge_log(level, (const uint8_t *)s, (int32_t)n);
}

// log_exception logs the pending exception (message and stack) at error
// level, prefixed by what, and writes it to out (malloc'ed) if out != NULL.
static void log_exception(const char *what, char **out) {
	JSValue exc = JS_GetException(ctx);
	const char *msg = JS_ToCString(ctx, exc);
	const char *stack = NULL;
	JSValue st = JS_UNDEFINED;
	if (JS_IsError(exc)) {
		st = JS_GetPropertyStr(ctx, exc, "stack");
		if (JS_IsString(st))
			stack = JS_ToCString(ctx, st);
	}
	size_t n = strlen(what) + (msg ? strlen(msg) : 9) + (stack ? strlen(stack) : 0) + 4;
	char *buf = malloc(n);
	if (buf) {
		snprintf(buf, n, "%s%s%s%s", what, msg ? msg : "exception", stack ? "\n" : "", stack ? stack : "");
		size_t len = strlen(buf);
		while (len > 0 && buf[len - 1] == '\n')
			buf[--len] = 0;
		log_str(3, buf, len);
		if (out)
			*out = buf;
		else
			free(buf);
	}
	if (stack)
		JS_FreeCString(ctx, stack);
	if (msg)
		JS_FreeCString(ctx, msg);
	JS_FreeValue(ctx, st);
	JS_FreeValue(ctx, exc);
}

static void track_rejection(JSContext *c, JSValueConst promise, JSValueConst reason, bool is_handled, void *opaque);

// --- natives the prelude uses (object __wedge, removed by the prelude) ---

static JSValue w_log(JSContext *c, JSValueConst this, int argc, JSValueConst *argv) {
	int32_t level = 1;
	size_t n;
	if (argc < 2 || JS_ToInt32(c, &level, argv[0]))
		return JS_UNDEFINED;
	const char *s = JS_ToCStringLen(c, &n, argv[1]);
	if (!s)
		return JS_EXCEPTION;
	log_str(level, s, n);
	JS_FreeCString(c, s);
	return JS_UNDEFINED;
}

static uint32_t rd32(const uint8_t *p) {
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

// read_str reads a u32-prefixed string at *p, bounded by end.
static JSValue read_str(JSContext *c, const uint8_t **p, const uint8_t *end) {
	if (end - *p < 4)
		return JS_ThrowTypeError(c, "malformed request head");
	uint32_t n = rd32(*p);
	*p += 4;
	if ((uint32_t)(end - *p) < n)
		return JS_ThrowTypeError(c, "malformed request head");
	JSValue v = JS_NewStringLen(c, (const char *)*p, n);
	*p += n;
	return v;
}

// w_head returns the request head as
// [method, uri, host, remote_addr, request_id, route, [name, value, ...]].
static JSValue w_head(JSContext *c, JSValueConst this, int argc, JSValueConst *argv) {
	int32_t n = cur_head_len;
	uint8_t *buf = malloc(n > 0 ? n : 1);
	if (!buf)
		return JS_ThrowOutOfMemory(c);
	for (;;) {
		int32_t got = wedge_request_head(buf, n);
		if (got <= n) {
			n = got;
			break;
		}
		n = got;
		free(buf);
		if (!(buf = malloc(n)))
			return JS_ThrowOutOfMemory(c);
	}
	const uint8_t *p = buf, *end = buf + n;
	JSValue arr = JS_NewArray(c);
	for (int i = 0; i < 6; i++) {
		JSValue s = read_str(c, &p, end);
		if (JS_IsException(s))
			goto fail;
		JS_SetPropertyUint32(c, arr, i, s);
	}
	if (end - p < 4) {
		JS_ThrowTypeError(c, "malformed request head");
		goto fail;
	}
	uint32_t count = rd32(p);
	p += 4;
	JSValue hs = JS_NewArray(c);
	JS_SetPropertyUint32(c, arr, 6, hs);
	for (uint32_t i = 0; i < 2 * count; i++) {
		JSValue s = read_str(c, &p, end);
		if (JS_IsException(s))
			goto fail;
		JS_SetPropertyUint32(c, hs, i, s);
	}
	free(buf);
	return arr;
fail:
	free(buf);
	JS_FreeValue(c, arr);
	return JS_EXCEPTION;
}

// w_body returns the whole request body as an ArrayBuffer.
static JSValue w_body(JSContext *c, JSValueConst this, int argc, JSValueConst *argv) {
	size_t cap = cur_body_len > 0 ? (size_t)cur_body_len : 0, n = 0;
	uint8_t *buf = malloc(cap + 1);
	if (!buf)
		return JS_ThrowOutOfMemory(c);
	for (;;) {
		if (n == cap) {
			uint8_t *nb = realloc(buf, cap * 2 + 4096);
			if (!nb) {
				free(buf);
				return JS_ThrowOutOfMemory(c);
			}
			buf = nb;
			cap = cap * 2 + 4096;
		}
		int32_t got = wedge_request_body(buf + n, (int32_t)(cap - n));
		if (got <= 0)
			break;
		n += (size_t)got;
	}
	JSValue ab = JS_NewArrayBufferCopy(c, buf, n);
	free(buf);
	return ab;
}

// bytes_of returns the bytes of a string, ArrayBuffer or typed array;
// *cstr is set when they must be released with JS_FreeCString.
static const uint8_t *bytes_of(JSContext *c, JSValueConst v, size_t *n, const char **cstr) {
	*cstr = NULL;
	if (JS_IsString(v)) {
		*cstr = JS_ToCStringLen(c, n, v);
		return (const uint8_t *)*cstr;
	}
	uint8_t *p = JS_GetArrayBuffer(c, n, v);
	if (p)
		return p;
	JS_FreeValue(c, JS_GetException(c));
	p = JS_GetUint8Array(c, n, v);
	if (p)
		return p;
	JS_FreeValue(c, JS_GetException(c));
	JS_ThrowTypeError(c, "body must be a string, an ArrayBuffer or a Uint8Array");
	return NULL;
}

static void put32(uint8_t *p, uint32_t v) {
	p[0] = v, p[1] = v >> 8, p[2] = v >> 16, p[3] = v >> 24;
}

// w_respond(status, [name, value, ...], body) sends the response.
static JSValue w_respond(JSContext *c, JSValueConst this, int argc, JSValueConst *argv) {
	int32_t status;
	uint32_t n2;
	if (argc < 3 || JS_ToInt32(c, &status, argv[0]))
		return JS_ThrowTypeError(c, "respond: bad arguments");
	JSValue lenv = JS_GetPropertyStr(c, argv[1], "length");
	if (JS_ToUint32(c, &n2, lenv)) {
		JS_FreeValue(c, lenv);
		return JS_EXCEPTION;
	}
	JS_FreeValue(c, lenv);
	size_t cap = 256, len = 4;
	uint8_t *h = malloc(cap);
	if (!h)
		return JS_ThrowOutOfMemory(c);
	put32(h, n2 / 2);
	for (uint32_t i = 0; i < (n2 & ~1u); i++) {
		JSValue s = JS_GetPropertyUint32(c, argv[1], i);
		size_t sl;
		const char *cs = JS_ToCStringLen(c, &sl, s);
		JS_FreeValue(c, s);
		if (!cs) {
			free(h);
			return JS_EXCEPTION;
		}
		if (len + 4 + sl > cap) {
			cap = (len + 4 + sl) * 2;
			uint8_t *nh = realloc(h, cap);
			if (!nh) {
				JS_FreeCString(c, cs);
				free(h);
				return JS_ThrowOutOfMemory(c);
			}
			h = nh;
		}
		put32(h + len, (uint32_t)sl);
		memcpy(h + len + 4, cs, sl);
		len += 4 + sl;
		JS_FreeCString(c, cs);
	}
	int32_t rc = wedge_response_head(status, h, (int32_t)len);
	free(h);
	if (rc < 0)
		return JS_ThrowTypeError(c, "invalid response status or headers (status %d)", status);
	if (JS_IsUndefined(argv[2]) || JS_IsNull(argv[2]))
		return JS_UNDEFINED;
	size_t bn;
	const char *cstr;
	const uint8_t *b = bytes_of(c, argv[2], &bn, &cstr);
	if (!b)
		return JS_EXCEPTION;
	rc = bn ? wedge_response_write(b, (int32_t)bn) : 0;
	if (cstr)
		JS_FreeCString(c, cstr);
	if (rc < 0)
		return JS_ThrowRangeError(c, "response too large");
	return JS_UNDEFINED;
}

// w_env returns the function's configuration (the WASI environment) as
// an object. Read per request: the snapshot never touches environ.
static JSValue w_env(JSContext *c, JSValueConst this, int argc, JSValueConst *argv) {
	JSValue o = JS_NewObject(c);
	for (char **e = environ; e && *e; e++) {
		const char *eq = strchr(*e, '=');
		if (!eq)
			continue;
		char *k = strndup(*e, eq - *e);
		if (!k)
			break;
		JS_SetPropertyStr(c, o, k, JS_NewString(c, eq + 1));
		free(k);
	}
	return o;
}

static JSValue w_utf8_decode(JSContext *c, JSValueConst this, int argc, JSValueConst *argv) {
	size_t n;
	const char *cstr;
	if (argc < 1)
		return JS_NewString(c, "");
	const uint8_t *b = bytes_of(c, argv[0], &n, &cstr);
	if (!b)
		return JS_EXCEPTION;
	JSValue s = JS_NewStringLen(c, (const char *)b, n);
	if (cstr)
		JS_FreeCString(c, cstr);
	return s;
}

static JSValue w_utf8_encode(JSContext *c, JSValueConst this, int argc, JSValueConst *argv) {
	size_t n;
	const char *s = JS_ToCStringLen(c, &n, argc > 0 ? argv[0] : JS_UNDEFINED);
	if (!s)
		return JS_EXCEPTION;
	JSValue ab = JS_NewArrayBufferCopy(c, (const uint8_t *)s, n);
	JS_FreeCString(c, s);
	return ab;
}

static uint64_t xorshift64star(void) {
	uint64_t x = rand_state;
	x ^= x >> 12, x ^= x << 25, x ^= x >> 27;
	rand_state = x;
	return x * 0x2545F4914F6CDD1DULL;
}

// w_random is Math.random, reseeded for every request (the engine's own
// generator would repeat the snapshot's sequence in every instance):
// serve clears the state, and the first call of a request seeds it.
static JSValue w_random(JSContext *c, JSValueConst this, int argc, JSValueConst *argv) {
	if (rand_state == 0 && (getentropy(&rand_state, sizeof rand_state) != 0 || rand_state == 0))
		rand_state = 0x9E3779B97F4A7C15ULL;
	return JS_NewFloat64(c, (double)(xorshift64star() >> 11) * 0x1.0p-53);
}


// --- random, clocks, timers ---

// w_random_bytes(n) returns n bytes from WASI random_get (the host's
// cryptographically secure source) as an ArrayBuffer.
static JSValue w_random_bytes(JSContext *c, JSValueConst this, int argc, JSValueConst *argv) {
	uint32_t n = 0;
	if (argc < 1 || JS_ToUint32(c, &n, argv[0]))
		return JS_EXCEPTION;
	uint8_t *buf = malloc(n ? n : 1);
	if (!buf)
		return JS_ThrowOutOfMemory(c);
	if (n && __wasi_random_get(buf, n) != 0) {
		free(buf);
		return JS_ThrowInternalError(c, "random_get failed");
	}
	JSValue ab = JS_NewArrayBufferCopy(c, buf, n);
	free(buf);
	return ab;
}

// w_mono returns the monotonic clock in milliseconds (a float).
static JSValue w_mono(JSContext *c, JSValueConst this, int argc, JSValueConst *argv) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return JS_NewFloat64(c, (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6);
}

// w_sleep(ms) blocks the instance (WASI poll_oneoff; the time counts
// against the function's time limit).
static JSValue w_sleep(JSContext *c, JSValueConst this, int argc, JSValueConst *argv) {
	double ms = 0;
	if (argc < 1 || JS_ToFloat64(c, &ms, argv[0]))
		return JS_EXCEPTION;
	if (ms > 0) {
		struct timespec ts = {(time_t)(ms / 1e3), (long)((ms - (double)(time_t)(ms / 1e3) * 1e3) * 1e6)};
		nanosleep(&ts, NULL);
	}
	return JS_UNDEFINED;
}

// --- host calls that may fail: errors carry the ABI code's name ---

static const char *code_name(int64_t rc) {
	switch (-rc) {
	case 1: return "not found";
	case 2: return "too large";
	case 3: return "denied";
	case 4: return "invalid argument";
	case 5: return "conflict";
	case 6: return "unsupported on this node";
	case 7: return "internal error";
	case 8: return "not a counter";
	case 9: return "busy (a limit was reached)";
	case 10: return "timed out";
	case 11: return "network error";
	default: return "failed";
	}
}

static JSValue throw_code(JSContext *c, const char *what, int64_t rc) {
	return JS_ThrowTypeError(c, "%s: %s", what, code_name(rc));
}

// A str is a string argument's UTF-8 bytes, released with str_free.
typedef struct {
	const char *p;
	size_t n;
} str;

static int str_arg(JSContext *c, JSValueConst v, str *s) {
	s->p = JS_ToCStringLen(c, &s->n, v);
	return s->p ? 0 : -1;
}

static void str_free(JSContext *c, str *s) {
	if (s->p)
		JS_FreeCString(c, s->p);
	s->p = NULL;
}

#define U8(s) ((const uint8_t *)(s).p)

// --- KV: the function's namespace ("") or a granted one ---

// w_kv_get(ns, key) returns the value as an ArrayBuffer, or null.
static JSValue w_kv_get(JSContext *c, JSValueConst this, int argc, JSValueConst *argv) {
	str ns = {0}, key = {0};
	JSValue ret = JS_EXCEPTION;
	if (argc < 2 || str_arg(c, argv[0], &ns) || str_arg(c, argv[1], &key))
		goto out;
	int32_t cap = 4096;
	uint8_t *buf = NULL;
	for (;;) {
		uint8_t *nb = realloc(buf, cap);
		if (!nb) {
			free(buf);
			ret = JS_ThrowOutOfMemory(c);
			goto out;
		}
		buf = nb;
		int32_t rc = wedge_kv_get(U8(ns), ns.n, U8(key), key.n, buf, cap, NULL);
		if (rc == -1) {
			ret = JS_NULL;
			break;
		}
		if (rc < 0) {
			ret = throw_code(c, "KV get", rc);
			break;
		}
		if (rc <= cap) {
			ret = JS_NewArrayBufferCopy(c, buf, rc);
			break;
		}
		cap = rc;
	}
	free(buf);
out:
	str_free(c, &ns);
	str_free(c, &key);
	return ret;
}

// w_kv_put(ns, key, value, ttl_ms) stores value (string or bytes).
static JSValue w_kv_put(JSContext *c, JSValueConst this, int argc, JSValueConst *argv) {
	str ns = {0}, key = {0};
	JSValue ret = JS_EXCEPTION;
	int64_t ttl = 0;
	if (argc < 4 || str_arg(c, argv[0], &ns) || str_arg(c, argv[1], &key) || JS_ToInt64(c, &ttl, argv[3]))
		goto out;
	size_t vn;
	const char *cstr;
	const uint8_t *v = bytes_of(c, argv[2], &vn, &cstr);
	if (!v)
		goto out;
	int64_t rc = wedge_kv_put(U8(ns), ns.n, U8(key), key.n, v, (int32_t)vn, ttl, -1);
	if (cstr)
		JS_FreeCString(c, cstr);
	ret = rc < 0 ? throw_code(c, "KV put", rc) : JS_NewInt64(c, rc);
out:
	str_free(c, &ns);
	str_free(c, &key);
	return ret;
}

static JSValue w_kv_delete(JSContext *c, JSValueConst this, int argc, JSValueConst *argv) {
	str ns = {0}, key = {0};
	JSValue ret = JS_EXCEPTION;
	if (argc < 2 || str_arg(c, argv[0], &ns) || str_arg(c, argv[1], &key))
		goto out;
	int32_t rc = wedge_kv_delete(U8(ns), ns.n, U8(key), key.n, -1);
	ret = rc < 0 ? throw_code(c, "KV delete", rc) : JS_UNDEFINED;
out:
	str_free(c, &ns);
	str_free(c, &key);
	return ret;
}

// w_kv_list(ns, prefix, cursor, limit) returns [[key, ...], next_cursor].
static JSValue w_kv_list(JSContext *c, JSValueConst this, int argc, JSValueConst *argv) {
	str ns = {0}, prefix = {0}, cursor = {0};
	int32_t limit = 1000;
	JSValue ret = JS_EXCEPTION;
	uint8_t *buf = NULL;
	if (argc < 4 || str_arg(c, argv[0], &ns) || str_arg(c, argv[1], &prefix) || str_arg(c, argv[2], &cursor) ||
	    JS_ToInt32(c, &limit, argv[3]))
		goto out;
	int32_t cap = 16384, n;
	for (;;) {
		uint8_t *nb = realloc(buf, cap);
		if (!nb) {
			ret = JS_ThrowOutOfMemory(c);
			goto out;
		}
		buf = nb;
		n = wedge_kv_list(U8(ns), ns.n, U8(prefix), prefix.n, U8(cursor), cursor.n, limit, buf, cap);
		if (n < 0) {
			ret = throw_code(c, "KV list", n);
			goto out;
		}
		if (n <= cap)
			break;
		cap = n;
	}
	const uint8_t *p = buf, *end = buf + n;
	if (n < 4) {
		ret = JS_ThrowTypeError(c, "KV list: malformed page");
		goto out;
	}
	uint32_t count = rd32(p);
	p += 4;
	JSValue keys = JS_NewArray(c);
	for (uint32_t i = 0; i < count; i++) {
		JSValue k = read_str(c, &p, end);
		if (JS_IsException(k)) {
			JS_FreeValue(c, keys);
			goto out;
		}
		JS_SetPropertyUint32(c, keys, i, k);
	}
	JSValue next = read_str(c, &p, end);
	if (JS_IsException(next)) {
		JS_FreeValue(c, keys);
		goto out;
	}
	ret = JS_NewArray(c);
	JS_SetPropertyUint32(c, ret, 0, keys);
	JS_SetPropertyUint32(c, ret, 1, next);
out:
	free(buf);
	str_free(c, &ns);
	str_free(c, &prefix);
	str_free(c, &cursor);
	return ret;
}

// --- events ---

// w_event returns the event envelope (JSON text), or null outside the
// event entry.
static JSValue w_event(JSContext *c, JSValueConst this, int argc, JSValueConst *argv) {
	int32_t cap = 4096;
	uint8_t *buf = NULL;
	for (;;) {
		uint8_t *nb = realloc(buf, cap);
		if (!nb) {
			free(buf);
			return JS_ThrowOutOfMemory(c);
		}
		buf = nb;
		int32_t n = wedge_event_get(buf, cap);
		if (n < 0) {
			free(buf);
			return JS_NULL;
		}
		if (n <= cap) {
			JSValue s = JS_NewStringLen(c, (const char *)buf, n);
			free(buf);
			return s;
		}
		cap = n;
	}
}

// w_publish(queue, body) publishes body (string or bytes) to queue.
static JSValue w_publish(JSContext *c, JSValueConst this, int argc, JSValueConst *argv) {
	str q = {0};
	if (argc < 2 || str_arg(c, argv[0], &q))
		return JS_EXCEPTION;
	size_t bn;
	const char *cstr;
	const uint8_t *b = bytes_of(c, argv[1], &bn, &cstr);
	JSValue ret = JS_EXCEPTION;
	if (b) {
		int32_t rc = wedge_queue_publish(U8(q), q.n, b, (int32_t)bn);
		ret = rc < 0 ? throw_code(c, "queue send", rc) : JS_UNDEFINED;
		if (cstr)
			JS_FreeCString(c, cstr);
	}
	str_free(c, &q);
	return ret;
}

// w_object(bucket, name) returns an uploaded object's bytes.
static JSValue w_object(JSContext *c, JSValueConst this, int argc, JSValueConst *argv) {
	str b = {0}, name = {0};
	JSValue ret = JS_EXCEPTION;
	uint8_t *buf = NULL;
	size_t cap = 0, n = 0;
	if (argc < 2 || str_arg(c, argv[0], &b) || str_arg(c, argv[1], &name))
		goto out;
	for (;;) {
		if (cap - n < 65536) {
			uint8_t *nb = realloc(buf, cap * 2 + 65536);
			if (!nb) {
				ret = JS_ThrowOutOfMemory(c);
				goto out;
			}
			buf = nb;
			cap = cap * 2 + 65536;
		}
		int64_t got = wedge_object_read(U8(b), b.n, U8(name), name.n, (int64_t)n, buf + n, (int32_t)(cap - n));
		if (got < 0) {
			ret = throw_code(c, "object read", got);
			goto out;
		}
		if (got == 0)
			break;
		n += (size_t)got;
	}
	ret = JS_NewArrayBufferCopy(c, buf, n);
out:
	free(buf);
	str_free(c, &b);
	str_free(c, &name);
	return ret;
}

// --- outbound HTTP ---

typedef struct {
	uint8_t *p;
	size_t n, cap;
	int oom;
} wbuf;

static void wb_put(wbuf *b, const void *p, size_t n) {
	if (b->oom)
		return;
	if (b->n + n > b->cap) {
		size_t cap = (b->n + n) * 2 + 256;
		uint8_t *nb = realloc(b->p, cap);
		if (!nb) {
			b->oom = 1;
			return;
		}
		b->p = nb, b->cap = cap;
	}
	memcpy(b->p + b->n, p, n);
	b->n += n;
}

static void wb_u32(wbuf *b, uint32_t v) {
	uint8_t x[4];
	put32(x, v);
	wb_put(b, x, 4);
}

static int wb_str(JSContext *c, wbuf *b, JSValueConst v) {
	size_t n;
	const char *s = JS_ToCStringLen(c, &n, v);
	if (!s)
		return -1;
	wb_u32(b, (uint32_t)n);
	wb_put(b, s, n);
	JS_FreeCString(c, s);
	return 0;
}

// w_fetch(method, url, [name, value, ...], body, timeout_ms) sends a
// request and returns [status, [name, value, ...], body ArrayBuffer]:
// the whole response, read before it returns.
static JSValue w_fetch(JSContext *c, JSValueConst this, int argc, JSValueConst *argv) {
	wbuf req = {0};
	uint8_t *buf = NULL;
	const char *cstr = NULL;
	int32_t h = 0;
	uint32_t n2 = 0, timeout = 0;
	JSValue ret = JS_EXCEPTION;
	if (argc < 5 || wb_str(c, &req, argv[0]) || wb_str(c, &req, argv[1]))
		goto out;
	JSValue lenv = JS_GetPropertyStr(c, argv[2], "length");
	int bad = JS_ToUint32(c, &n2, lenv);
	JS_FreeValue(c, lenv);
	if (bad || JS_ToUint32(c, &timeout, argv[4]))
		goto out;
	wb_u32(&req, n2 / 2);
	for (uint32_t i = 0; i < (n2 & ~1u); i++) {
		JSValue s = JS_GetPropertyUint32(c, argv[2], i);
		int e = wb_str(c, &req, s);
		JS_FreeValue(c, s);
		if (e)
			goto out;
	}
	wb_u32(&req, timeout);
	if (req.oom) {
		ret = JS_ThrowOutOfMemory(c);
		goto out;
	}
	size_t bn = 0;
	const uint8_t *body = NULL;
	if (!JS_IsNull(argv[3]) && !JS_IsUndefined(argv[3])) {
		body = bytes_of(c, argv[3], &bn, &cstr);
		if (!body)
			goto out;
	}
	h = wedge_http_send(req.p, (int32_t)req.n, body, (int32_t)bn);
	if (h < 0) {
		ret = throw_code(c, "fetch", h);
		h = 0;
		goto out;
	}
	int32_t cap = 4096, n;
	for (;;) {
		uint8_t *nb = realloc(buf, cap);
		if (!nb) {
			ret = JS_ThrowOutOfMemory(c);
			goto out;
		}
		buf = nb;
		n = wedge_http_response_head(h, buf, cap);
		if (n < 0) {
			ret = throw_code(c, "fetch", n);
			goto out;
		}
		if (n <= cap)
			break;
		cap = n;
	}
	if (n < 8) {
		ret = JS_ThrowTypeError(c, "fetch: malformed response head");
		goto out;
	}
	const uint8_t *p = buf + 8, *end = buf + n;
	uint32_t status = rd32(buf), count = rd32(buf + 4);
	JSValue hs = JS_NewArray(c);
	for (uint32_t i = 0; i < 2 * count; i++) {
		JSValue s = read_str(c, &p, end);
		if (JS_IsException(s)) {
			JS_FreeValue(c, hs);
			goto out;
		}
		JS_SetPropertyUint32(c, hs, i, s);
	}
	size_t bcap = 0, bl = 0;
	uint8_t *bb = NULL;
	for (;;) {
		if (bcap - bl < 16384) {
			uint8_t *nb = realloc(bb, bcap * 2 + 16384);
			if (!nb) {
				free(bb);
				JS_FreeValue(c, hs);
				ret = JS_ThrowOutOfMemory(c);
				goto out;
			}
			bb = nb, bcap = bcap * 2 + 16384;
		}
		int32_t got = wedge_http_response_read(h, bb + bl, (int32_t)(bcap - bl));
		if (got < 0) {
			free(bb);
			JS_FreeValue(c, hs);
			ret = throw_code(c, "fetch: reading the body", got);
			goto out;
		}
		if (got == 0)
			break;
		bl += (size_t)got;
	}
	ret = JS_NewArray(c);
	JS_SetPropertyUint32(c, ret, 0, JS_NewUint32(c, status));
	JS_SetPropertyUint32(c, ret, 1, hs);
	JS_SetPropertyUint32(c, ret, 2, JS_NewArrayBufferCopy(c, bb, bl));
	free(bb);
out:
	if (h > 0)
		wedge_http_close(h);
	if (cstr)
		JS_FreeCString(c, cstr);
	free(req.p);
	free(buf);
	return ret;
}

static const JSCFunctionListEntry wedge_funcs[] = {
	JS_CFUNC_DEF("log", 2, w_log),
	JS_CFUNC_DEF("head", 0, w_head),
	JS_CFUNC_DEF("body", 0, w_body),
	JS_CFUNC_DEF("respond", 3, w_respond),
	JS_CFUNC_DEF("env", 0, w_env),
	JS_CFUNC_DEF("decode", 1, w_utf8_decode),
	JS_CFUNC_DEF("encode", 1, w_utf8_encode),
	JS_CFUNC_DEF("random", 0, w_random),
	JS_CFUNC_DEF("randomBytes", 1, w_random_bytes),
	JS_CFUNC_DEF("mono", 0, w_mono),
	JS_CFUNC_DEF("sleep", 1, w_sleep),
	JS_CFUNC_DEF("kvGet", 2, w_kv_get),
	JS_CFUNC_DEF("kvPut", 4, w_kv_put),
	JS_CFUNC_DEF("kvDelete", 2, w_kv_delete),
	JS_CFUNC_DEF("kvList", 4, w_kv_list),
	JS_CFUNC_DEF("event", 0, w_event),
	JS_CFUNC_DEF("publish", 2, w_publish),
	JS_CFUNC_DEF("object", 2, w_object),
	JS_CFUNC_DEF("fetch", 5, w_fetch),
};

// init_error logs msg and ends initialization with a trap: the deploy
// fails, and the node reports the logged message to the client.
static void init_error(const char *what) {
	if (JS_HasException(ctx))
		log_exception(what, NULL);
	else
		log_str(3, what, strlen(what));
	__builtin_trap();
}

static char *script;
static size_t script_len;

// take_script copies the trailer's script; see the top of the file.
static void take_script(void) {
	uintptr_t end = (uintptr_t)__builtin_wasm_memory_size(0) * 65536;
	const uint8_t *t = (const uint8_t *)(end - 8);
	if (memcmp(t + 4, "wjs1", 4) != 0)
		return;
	uint32_t n = rd32(t);
	if (n > end - WEDGE_TRAILER)
		return;
	const uint8_t *src = (const uint8_t *)(end - WEDGE_TRAILER - n);
	script = malloc(n + 1);
	if (!script)
		__builtin_trap();
	memcpy(script, src, n);
	script[n] = 0;
	script_len = n;
}

__attribute__((export_name("_initialize"))) void wedge_initialize(void) {
	take_script(); // before anything else allocates
	__wasm_call_ctors();
	rt = JS_NewRuntime();
	ctx = rt ? JS_NewContext(rt) : NULL;
	if (!ctx)
		__builtin_trap();
	JS_SetHostPromiseRejectionTracker(rt, track_rejection, NULL);
	JSValue global = JS_GetGlobalObject(ctx);
	JSValue w = JS_NewObject(ctx);
	JS_SetPropertyFunctionList(ctx, w, wedge_funcs, sizeof wedge_funcs / sizeof wedge_funcs[0]);
	JS_SetPropertyStr(ctx, global, "__wedge", w);
	JS_FreeValue(ctx, global);
	dispatch_fn = JS_Eval(ctx, (const char *)wedge_prelude, wedge_prelude_len, "wedge:prelude", JS_EVAL_TYPE_GLOBAL);
	if (JS_IsException(dispatch_fn) || !JS_IsFunction(ctx, dispatch_fn))
		init_error("prelude: ");
	timer_fn = JS_GetPropertyStr(ctx, dispatch_fn, "timer");
	if (!JS_IsFunction(ctx, timer_fn))
		init_error("prelude: dispatch.timer is not a function");
	if (!script)
		init_error("no script: the engine must be combined with a script at deploy");
	JSValue mod = JS_Eval(ctx, script, script_len, "worker.js", JS_EVAL_TYPE_MODULE | JS_EVAL_FLAG_COMPILE_ONLY);
	if (JS_IsException(mod))
		init_error("");
	JSModuleDef *m = JS_VALUE_GET_PTR(mod);
	JSValue res = JS_EvalFunction(ctx, mod); // top-level code; a promise
	if (JS_IsException(res))
		init_error("");
	for (;;) {
		JSContext *c;
		int r = JS_ExecutePendingJob(rt, &c);
		if (r < 0)
			init_error("");
		if (r == 0)
			break;
	}
	if (JS_IsPromise(res)) {
		if (JS_PromiseState(ctx, res) == JS_PROMISE_REJECTED) {
			JS_Throw(ctx, JS_PromiseResult(ctx, res));
			init_error("");
		}
		if (JS_PromiseState(ctx, res) == JS_PROMISE_PENDING)
			init_error("the script's top-level await never settles");
	}
	JS_FreeValue(ctx, res);
	JSValue ns = JS_GetModuleNamespace(ctx, m);
	handlers = JS_GetPropertyStr(ctx, ns, "default");
	JS_FreeValue(ctx, ns);
	free(script);
	script = NULL;
	// The handlers check (an object with fetch, or addEventListener)
	// happens in the prelude, so its message is a JS one.
	JSValue args[2] = {handlers, JS_NewString(ctx, "check")};
	JSValue ok = JS_Call(ctx, dispatch_fn, JS_UNDEFINED, 2, args);
	JS_FreeValue(ctx, args[1]);
	if (JS_IsException(ok))
		init_error("");
	JS_FreeValue(ctx, ok);
	for (;;) { // the jobs of the prelude's warm-up
		JSContext *c;
		int r = JS_ExecutePendingJob(rt, &c);
		if (r < 0)
			init_error("prelude warm-up: ");
		if (r == 0)
			break;
	}
	JS_RunGC(rt);
}

// Promises rejected with no handler during an invocation; those still
// unhandled when it ends are logged as "Uncaught (in promise)", as
// Workers does (the response stands: only the handler's own promise
// decides it).
#define MAX_REJECTED 16
static JSValue rejected[MAX_REJECTED], rejected_reason[MAX_REJECTED];
static int n_rejected, tracking;

static void track_rejection(JSContext *c, JSValueConst promise, JSValueConst reason, bool is_handled, void *opaque) {
	if (!tracking)
		return;
	if (!is_handled) {
		if (n_rejected < MAX_REJECTED) {
			rejected[n_rejected] = JS_DupValue(c, promise);
			rejected_reason[n_rejected] = JS_DupValue(c, reason);
			n_rejected++;
		}
		return;
	}
	for (int i = 0; i < n_rejected; i++) {
		if (JS_VALUE_GET_PTR(rejected[i]) == JS_VALUE_GET_PTR(promise)) {
			JS_FreeValue(c, rejected[i]);
			JS_FreeValue(c, rejected_reason[i]);
			n_rejected--;
			rejected[i] = rejected[n_rejected];
			rejected_reason[i] = rejected_reason[n_rejected];
			return;
		}
	}
}

static void report_rejections(void) {
	for (int i = 0; i < n_rejected; i++) {
		JS_Throw(ctx, rejected_reason[i]); // takes the reason
		log_exception("Uncaught (in promise) ", NULL);
		JS_FreeValue(ctx, rejected[i]);
	}
	n_rejected = 0;
}

// run settles p, the promise dispatch returned: it runs promise jobs,
// and while p is pending, the next due timer (sleeping until it is due),
// until p settles or nothing is left to run. It returns what p resolved
// to (0 done, 1 failed and logged), or 1 after logging why not.
static int32_t run(JSValue p, const char *what) {
	if (JS_IsException(p)) {
		log_exception("Uncaught ", NULL);
		return 1;
	}
	for (;;) {
		for (;;) {
			JSContext *c;
			int r = JS_ExecutePendingJob(rt, &c);
			if (r < 0) {
				log_exception("Uncaught ", NULL);
				JS_FreeValue(ctx, p);
				return 1;
			}
			if (r == 0)
				break;
		}
		if (!JS_IsPromise(p) || JS_PromiseState(ctx, p) != JS_PROMISE_PENDING)
			break;
		JSValue ran = JS_Call(ctx, timer_fn, JS_UNDEFINED, 0, NULL);
		if (JS_IsException(ran)) {
			log_exception("Uncaught ", NULL);
			JS_FreeValue(ctx, p);
			return 1;
		}
		int more = JS_ToBool(ctx, ran);
		JS_FreeValue(ctx, ran);
		if (!more)
			break;
	}
	// dispatch's promise never rejects: it logs the handler's error and
	// resolves to 1.
	int32_t rc = 1;
	if (JS_IsPromise(p) && JS_PromiseState(ctx, p) == JS_PROMISE_FULFILLED) {
		JSValue v = JS_PromiseResult(ctx, p);
		JS_ToInt32(ctx, &rc, v);
		JS_FreeValue(ctx, v);
	} else if (JS_IsPromise(p) && JS_PromiseState(ctx, p) == JS_PROMISE_PENDING) {
		char m[160];
		snprintf(m, sizeof m, "Uncaught: the %s handler's promise never settled (nothing left to wait for)", what);
		log_str(3, m, strlen(m));
	}
	JS_FreeValue(ctx, p);
	return rc;
}

static int32_t serve(const char *kind) {
	rand_state = 0; // seeded at the first Math.random (a host call saved otherwise)
	JSValue args[2] = {handlers, JS_NewString(ctx, kind)};
	tracking = 1;
	JSValue p = JS_Call(ctx, dispatch_fn, JS_UNDEFINED, 2, args);
	JS_FreeValue(ctx, args[1]);
	int32_t rc = run(p, kind);
	report_rejections();
	tracking = 0;
	return rc;
}

// wedge_handle serves one request; see abi/README.md.
__attribute__((export_name("wedge_handle"))) int32_t wedge_handle(int32_t head_len, int32_t body_len) {
	cur_head_len = head_len, cur_body_len = body_len;
	return serve("fetch");
}

// wedge_event serves one event (kv, upload, schedule, queue); the
// prelude reads the envelope with event_get.
__attribute__((export_name("wedge_event"))) int32_t wedge_event(int32_t event_len) {
	return serve("event");
}
