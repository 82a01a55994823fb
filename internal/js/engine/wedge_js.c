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
//                 promise settles, and returns 0 (responded) or 1 (500).
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

#include "quickjs.h"

#define WEDGE_IMPORT(name) __attribute__((import_module("wedge_v1"), import_name(name)))

WEDGE_IMPORT("request_head") int32_t wedge_request_head(uint8_t *buf, int32_t cap);
WEDGE_IMPORT("request_body") int32_t wedge_request_body(uint8_t *buf, int32_t cap);
WEDGE_IMPORT("response_head") int32_t wedge_response_head(int32_t status, const uint8_t *headers, int32_t len);
WEDGE_IMPORT("response_write") int32_t wedge_response_write(const uint8_t *buf, int32_t len);
WEDGE_IMPORT("log") int32_t wedge_log(int32_t level, const uint8_t *msg, int32_t len);

extern void __wasm_call_ctors(void);
extern char **environ;

#include "prelude.h" // wedge_prelude, wedge_prelude_len: prelude.js as bytes

static JSRuntime *rt;
static JSContext *ctx;
static JSValue dispatch_fn; // the prelude's dispatch(handlers, kind)
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
// generator would repeat the snapshot's sequence in every instance).
static JSValue w_random(JSContext *c, JSValueConst this, int argc, JSValueConst *argv) {
	return JS_NewFloat64(c, (double)(xorshift64star() >> 11) * 0x1.0p-53);
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
	JSValue global = JS_GetGlobalObject(ctx);
	JSValue w = JS_NewObject(ctx);
	JS_SetPropertyFunctionList(ctx, w, wedge_funcs, sizeof wedge_funcs / sizeof wedge_funcs[0]);
	JS_SetPropertyStr(ctx, global, "__wedge", w);
	JS_FreeValue(ctx, global);
	dispatch_fn = JS_Eval(ctx, (const char *)wedge_prelude, wedge_prelude_len, "wedge:prelude", JS_EVAL_TYPE_GLOBAL);
	if (JS_IsException(dispatch_fn) || !JS_IsFunction(ctx, dispatch_fn))
		init_error("prelude: ");
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
}

// wedge_handle serves one request; see abi/README.md.
__attribute__((export_name("wedge_handle"))) int32_t wedge_handle(int32_t head_len, int32_t body_len) {
	cur_head_len = head_len, cur_body_len = body_len;
	if (getentropy(&rand_state, sizeof rand_state) != 0 || rand_state == 0)
		rand_state = 0x9E3779B97F4A7C15ULL;
	JSValue args[2] = {handlers, JS_NewString(ctx, "fetch")};
	JSValue p = JS_Call(ctx, dispatch_fn, JS_UNDEFINED, 2, args);
	JS_FreeValue(ctx, args[1]);
	if (JS_IsException(p)) {
		log_exception("Uncaught ", NULL);
		return 1;
	}
	for (;;) {
		JSContext *c;
		int r = JS_ExecutePendingJob(rt, &c);
		if (r < 0) {
			log_exception("Uncaught ", NULL);
			return 1;
		}
		if (r == 0)
			break;
	}
	// dispatch's promise resolves once the response is sent; it never
	// rejects (it logs the handler's error and resolves to 1).
	int32_t rc = 1;
	if (JS_IsPromise(p) && JS_PromiseState(ctx, p) == JS_PROMISE_FULFILLED) {
		JSValue v = JS_PromiseResult(ctx, p);
		JS_ToInt32(ctx, &rc, v);
		JS_FreeValue(ctx, v);
	} else if (JS_IsPromise(p) && JS_PromiseState(ctx, p) == JS_PROMISE_PENDING) {
		const char *m = "Uncaught: the fetch handler's promise never settled";
		log_str(3, m, strlen(m));
	}
	return rc;
}
