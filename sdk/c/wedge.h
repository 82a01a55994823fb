/*
 * wedge.h: the C SDK for wedge functions (ABI v1, abi/README.md).
 *
 * Header-only: every function is `static inline`, so include it in as many
 * translation units as you like; what a module does not call is dropped.
 * Build with Debian's clang and wasi-libc (see README.md):
 *
 *   clang --target=wasm32-wasi -mexec-model=reactor -O2 -o app.wasm app.c
 *
 * A function defines its handler and names it once:
 *
 *   #include "wedge.h"
 *   static int hello(wedge_request *req) {
 *       wedge_respond(200, "text/plain", "hello\n", 6);
 *       return 0;
 *   }
 *   WEDGE_HTTP_HANDLER(hello)
 *
 * Conventions: functions returning int return 0 (or a length) on success
 * and -code on failure, code being one of the WEDGE_E* values, exactly as
 * the host does. Names (namespaces, keys, queues, configuration variables)
 * are NUL-terminated strings; a NULL or "" namespace is the function's own.
 * Values and bodies are (pointer, length). Buffers the SDK allocates come
 * from malloc and are the caller's to free; every request runs in a fresh
 * instance, so a handler that forgets costs nothing past its request.
 */
#ifndef WEDGE_H
#define WEDGE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Error codes (abi/errors.go), negated in return values. ---- */

enum {
    WEDGE_OK = 0,
    WEDGE_ENOTFOUND = 1,    /* no such key, variable or object */
    WEDGE_ETOOLARGE = 2,    /* a value, key, header list or response exceeds its limit */
    WEDGE_EDENIED = 3,      /* the function's grants do not allow the operation */
    WEDGE_EINVALID = 4,     /* a malformed argument */
    WEDGE_ECONFLICT = 5,    /* compare-and-swap failed: the version changed */
    WEDGE_EUNSUPPORTED = 6, /* the host does not offer this operation here */
    WEDGE_EINTERNAL = 7,    /* the host failed; retrying may succeed */
    WEDGE_ENOTCOUNTER = 8,  /* increment of a value that is not an integer */
    WEDGE_EBUSY = 9,        /* a limit on concurrent or queued work was reached */
    WEDGE_ENOMEM = 100      /* SDK only: malloc failed in the guest */
};

/* Log levels for wedge_log. */
enum { WEDGE_DEBUG = 0, WEDGE_INFO = 1, WEDGE_WARN = 2, WEDGE_ERROR = 3 };

/* kv_put / kv_delete if_version values besides a version number n > 0. */
#define WEDGE_ANY_VERSION ((int64_t)-1) /* unconditional */
#define WEDGE_IF_ABSENT ((int64_t)0)    /* only if the key does not exist */

/* ---- The wedge_v1 imports, with the ABI's exact signatures. ---- */

#define WEDGE_IMPORT(name) __attribute__((import_module("wedge_v1"), import_name(#name)))

WEDGE_IMPORT(request_head) int32_t wedge_v1_request_head(void *buf, int32_t cap);
WEDGE_IMPORT(request_body) int32_t wedge_v1_request_body(void *buf, int32_t cap);
WEDGE_IMPORT(response_head) int32_t wedge_v1_response_head(int32_t status, const void *headers, int32_t len);
WEDGE_IMPORT(response_write) int32_t wedge_v1_response_write(const void *buf, int32_t len);
WEDGE_IMPORT(log) int32_t wedge_v1_log(int32_t level, const void *msg, int32_t len);
WEDGE_IMPORT(config_get) int32_t wedge_v1_config_get(const void *key, int32_t key_len, void *buf, int32_t cap);
WEDGE_IMPORT(kv_get) int32_t wedge_v1_kv_get(const void *ns, int32_t ns_len, const void *key, int32_t key_len,
                                             void *buf, int32_t cap, uint64_t *version_out);
WEDGE_IMPORT(kv_put) int64_t wedge_v1_kv_put(const void *ns, int32_t ns_len, const void *key, int32_t key_len,
                                             const void *val, int32_t val_len, int64_t ttl_ms, int64_t if_version);
WEDGE_IMPORT(kv_delete) int32_t wedge_v1_kv_delete(const void *ns, int32_t ns_len, const void *key, int32_t key_len,
                                                   int64_t if_version);
WEDGE_IMPORT(kv_increment) int32_t wedge_v1_kv_increment(const void *ns, int32_t ns_len, const void *key,
                                                         int32_t key_len, int64_t delta, int64_t *out);
WEDGE_IMPORT(kv_list) int32_t wedge_v1_kv_list(const void *ns, int32_t ns_len, const void *prefix, int32_t prefix_len,
                                               const void *cursor, int32_t cursor_len, int32_t limit, void *buf,
                                               int32_t cap);
WEDGE_IMPORT(event_get) int32_t wedge_v1_event_get(void *buf, int32_t cap);
WEDGE_IMPORT(queue_publish) int32_t wedge_v1_queue_publish(const void *queue, int32_t queue_len, const void *body,
                                                           int32_t body_len);
WEDGE_IMPORT(object_read) int64_t wedge_v1_object_read(const void *bucket, int32_t bucket_len, const void *name,
                                                       int32_t name_len, int64_t offset, void *buf, int32_t cap);
/* Outbound HTTP (abi/README.md, "Outbound HTTP"): the request is encoded
 * as the ABI describes (method, URL, header list, optional u32 timeout_ms),
 * to destinations on the function's allowed_hosts only. */
WEDGE_IMPORT(http_send) int32_t wedge_v1_http_send(const void *req, int32_t req_len, const void *body, int32_t body_len);
WEDGE_IMPORT(http_response_head) int32_t wedge_v1_http_response_head(int32_t handle, void *buf, int32_t cap);
WEDGE_IMPORT(http_response_read) int32_t wedge_v1_http_response_read(int32_t handle, void *buf, int32_t cap);
WEDGE_IMPORT(http_close) int32_t wedge_v1_http_close(int32_t handle);

/* ---- Small helpers. ---- */

/* A byte string that is not NUL-terminated: it points into a buffer the
 * SDK owns (the request head) or the caller does. */
typedef struct {
    const char *ptr;
    size_t len;
} wedge_str;

static inline const char *wedge_strerror(int code) {
    if (code < 0) code = -code;
    switch (code) {
    case WEDGE_OK: return "ok";
    case WEDGE_ENOTFOUND: return "not found";
    case WEDGE_ETOOLARGE: return "too large";
    case WEDGE_EDENIED: return "denied";
    case WEDGE_EINVALID: return "invalid argument";
    case WEDGE_ECONFLICT: return "version conflict";
    case WEDGE_EUNSUPPORTED: return "unsupported";
    case WEDGE_EINTERNAL: return "internal error";
    case WEDGE_ENOTCOUNTER: return "not a counter";
    case WEDGE_EBUSY: return "busy";
    case WEDGE_ENOMEM: return "out of memory";
    }
    return "unknown error";
}

static inline int wedge_str_eq(wedge_str s, const char *z) {
    size_t n = strlen(z);
    return s.len == n && memcmp(s.ptr, z, n) == 0;
}

/* wedge_str_dup returns a malloc'd NUL-terminated copy of s (NULL on OOM). */
static inline char *wedge_str_dup(wedge_str s) {
    char *p = (char *)malloc(s.len + 1);
    if (p) {
        memcpy(p, s.ptr, s.len);
        p[s.len] = 0;
    }
    return p;
}

static inline uint32_t wedge__u32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline void wedge__put_u32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)(v >> 16), p[3] = (uint8_t)(v >> 24);
}

/* wedge__string reads one encoded string at *off; 0 when it does not fit. */
static inline int wedge__string(const uint8_t *buf, size_t len, size_t *off, wedge_str *out) {
    if (len - *off < 4) return 0;
    uint32_t n = wedge__u32(buf + *off);
    if (len - *off - 4 < n) return 0;
    out->ptr = (const char *)buf + *off + 4;
    out->len = n;
    *off += 4 + (size_t)n;
    return 1;
}

/* wedge__fill runs a size-needed host call until what it reports fits the
 * buffer it was given, growing *buf with realloc. get returns the full
 * length, or a negative code. Returns the length or -code. */
typedef int32_t (*wedge__getter)(void *ctx, void *buf, int32_t cap);

static inline int32_t wedge__fill(wedge__getter get, void *ctx, uint8_t **buf, size_t *cap) {
    for (;;) {
        int32_t n = get(ctx, *buf, (int32_t)*cap);
        if (n < 0 || (size_t)n <= *cap) return n;
        uint8_t *p = (uint8_t *)realloc(*buf, (size_t)n);
        if (!p) return -WEDGE_ENOMEM;
        *buf = p;
        *cap = (size_t)n;
    }
}

/* ---- Logging: one call, one entry in the function's logs. ---- */

static inline int wedge_log(int level, const char *msg) {
    return wedge_v1_log(level, msg, (int32_t)strlen(msg));
}

static inline int wedge_vlogf(int level, const char *fmt, va_list ap) {
    char small[256];
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    if (n < 0) {
        va_end(ap2);
        return -WEDGE_EINVALID;
    }
    if ((size_t)n < sizeof small) {
        va_end(ap2);
        return wedge_v1_log(level, small, n);
    }
    char *big = (char *)malloc((size_t)n + 1);
    if (!big) {
        va_end(ap2);
        return wedge_v1_log(level, small, (int32_t)sizeof small - 1);
    }
    vsnprintf(big, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    int r = wedge_v1_log(level, big, n);
    free(big);
    return r;
}

/* wedge_logf logs a printf-style message at level. */
__attribute__((format(printf, 2, 3))) static inline int wedge_logf(int level, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int r = wedge_vlogf(level, fmt, ap);
    va_end(ap);
    return r;
}

#define wedge_debugf(...) wedge_logf(WEDGE_DEBUG, __VA_ARGS__)
#define wedge_infof(...) wedge_logf(WEDGE_INFO, __VA_ARGS__)
#define wedge_warnf(...) wedge_logf(WEDGE_WARN, __VA_ARGS__)
#define wedge_errorf(...) wedge_logf(WEDGE_ERROR, __VA_ARGS__)

/* wedge_panic logs msg at error level and traps: the request answers 500
 * and the function's logs hold msg. Never returns. */
__attribute__((noreturn, format(printf, 1, 2))) static inline void wedge_panic(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    wedge_vlogf(WEDGE_ERROR, fmt, ap);
    va_end(ap);
    __builtin_trap();
}

/* ---- The request. ---- */

typedef struct {
    wedge_str method;      /* "GET" */
    wedge_str uri;         /* path and query as received: "/api/users?id=7" */
    wedge_str path;        /* uri up to '?' */
    wedge_str query;       /* uri after '?', without it; empty when none */
    wedge_str host;        /* the Host header */
    wedge_str remote_addr; /* "127.0.0.1:53122" */
    wedge_str request_id;  /* unique per request, also in the logs */
    wedge_str route;       /* the route that matched: "/api/..." */
    uint32_t header_count;
    size_t body_len;       /* the request body's length in bytes */
    /* private */
    uint8_t *head_;
    size_t head_len_, headers_off_;
} wedge_request;

/* wedge_request_read fetches and decodes the request head. The entry
 * macro calls it; a hand-written wedge_handle may too. Returns 0 or -code. */
static inline int wedge_request_read(wedge_request *r, int32_t head_len, int32_t body_len) {
    memset(r, 0, sizeof *r);
    r->body_len = body_len > 0 ? (size_t)body_len : 0;
    size_t cap = head_len > 0 ? (size_t)head_len : 64;
    r->head_ = (uint8_t *)malloc(cap);
    if (!r->head_) return -WEDGE_ENOMEM;
    for (;;) {
        int32_t n = wedge_v1_request_head(r->head_, (int32_t)cap);
        if (n < 0) return n;
        if ((size_t)n <= cap) {
            r->head_len_ = (size_t)n;
            break;
        }
        uint8_t *p = (uint8_t *)realloc(r->head_, (size_t)n);
        if (!p) return -WEDGE_ENOMEM;
        r->head_ = p, cap = (size_t)n;
    }
    size_t off = 0;
    const uint8_t *b = r->head_;
    size_t len = r->head_len_;
    if (!wedge__string(b, len, &off, &r->method) || !wedge__string(b, len, &off, &r->uri) ||
        !wedge__string(b, len, &off, &r->host) || !wedge__string(b, len, &off, &r->remote_addr) ||
        !wedge__string(b, len, &off, &r->request_id) || !wedge__string(b, len, &off, &r->route) ||
        len - off < 4)
        return -WEDGE_EINVALID;
    r->header_count = wedge__u32(b + off);
    r->headers_off_ = off + 4;
    const char *q = (const char *)memchr(r->uri.ptr, '?', r->uri.len);
    r->path.ptr = r->uri.ptr;
    r->path.len = q ? (size_t)(q - r->uri.ptr) : r->uri.len;
    r->query.ptr = q ? q + 1 : r->uri.ptr + r->uri.len;
    r->query.len = q ? r->uri.len - r->path.len - 1 : 0;
    return 0;
}

/* wedge_request_free releases the head buffer (optional: the instance ends
 * with the request). */
static inline void wedge_request_free(wedge_request *r) {
    free(r->head_);
    r->head_ = NULL;
}

/* wedge_header_at sets name and value to header i (0 <= i < header_count),
 * in the order received. Names are in canonical form ("Content-Type").
 * Returns 1, or 0 past the end. */
static inline int wedge_header_at(const wedge_request *r, uint32_t i, wedge_str *name, wedge_str *value) {
    if (i >= r->header_count) return 0;
    size_t off = r->headers_off_;
    wedge_str n, v;
    for (uint32_t k = 0;; k++) {
        if (!wedge__string(r->head_, r->head_len_, &off, &n) || !wedge__string(r->head_, r->head_len_, &off, &v))
            return 0;
        if (k == i) break;
    }
    *name = n, *value = v;
    return 1;
}

static inline int wedge__ieq(const char *a, size_t n, const char *z) {
    size_t i = 0;
    for (; i < n && z[i]; i++) {
        char x = a[i], y = z[i];
        if (x >= 'A' && x <= 'Z') x = (char)(x + 32);
        if (y >= 'A' && y <= 'Z') y = (char)(y + 32);
        if (x != y) return 0;
    }
    return i == n && z[i] == 0;
}

/* wedge_header finds the first header called name (case-insensitively).
 * Returns 1 and sets value, or 0. */
static inline int wedge_header(const wedge_request *r, const char *name, wedge_str *value) {
    size_t off = r->headers_off_;
    wedge_str n, v;
    for (uint32_t k = 0; k < r->header_count; k++) {
        if (!wedge__string(r->head_, r->head_len_, &off, &n) || !wedge__string(r->head_, r->head_len_, &off, &v))
            return 0;
        if (wedge__ieq(n.ptr, n.len, name)) {
            *value = v;
            return 1;
        }
    }
    return 0;
}

static inline int wedge__hex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* wedge_query_param finds the first query parameter called name and returns
 * its value percent-decoded ('+' as space) in a malloc'd NUL-terminated
 * string, or NULL when absent. A parameter without '=' has the value "". */
static inline char *wedge_query_param(const wedge_request *r, const char *name) {
    size_t nlen = strlen(name);
    const char *p = r->query.ptr, *end = r->query.ptr + r->query.len;
    while (p < end) {
        const char *amp = (const char *)memchr(p, '&', (size_t)(end - p));
        const char *stop = amp ? amp : end;
        const char *eq = (const char *)memchr(p, '=', (size_t)(stop - p));
        const char *kend = eq ? eq : stop;
        if ((size_t)(kend - p) == nlen && memcmp(p, name, nlen) == 0) {
            const char *v = eq ? eq + 1 : stop;
            char *out = (char *)malloc((size_t)(stop - v) + 1), *o = out;
            if (!out) return NULL;
            for (; v < stop; v++) {
                if (*v == '+') {
                    *o++ = ' ';
                } else if (*v == '%' && stop - v >= 3 && wedge__hex(v[1]) >= 0 && wedge__hex(v[2]) >= 0) {
                    *o++ = (char)(wedge__hex(v[1]) << 4 | wedge__hex(v[2]));
                    v += 2;
                } else {
                    *o++ = *v;
                }
            }
            *o = 0;
            return out;
        }
        p = stop + 1;
    }
    return NULL;
}

/* wedge_body_read reads the next bytes of the request body into buf;
 * returns the count, 0 at the end. */
static inline size_t wedge_body_read(void *buf, size_t cap) {
    int32_t n = wedge_v1_request_body(buf, (int32_t)(cap > INT32_MAX ? INT32_MAX : cap));
    return n > 0 ? (size_t)n : 0;
}

/* wedge_body_all reads the rest of the body into a malloc'd buffer (NUL
 * terminated for convenience, not counted in *len). NULL on OOM. */
static inline uint8_t *wedge_body_all(const wedge_request *r, size_t *len) {
    size_t cap = r->body_len + 1, n = 0;
    uint8_t *b = (uint8_t *)malloc(cap);
    if (!b) return NULL;
    for (;;) {
        if (n + 1 == cap) {
            uint8_t *p = (uint8_t *)realloc(b, cap * 2);
            if (!p) {
                free(b);
                return NULL;
            }
            b = p, cap *= 2;
        }
        size_t got = wedge_body_read(b + n, cap - 1 - n);
        if (got == 0) break;
        n += got;
    }
    b[n] = 0;
    *len = n;
    return b;
}

/* ---- The response. ---- */

/* wedge_headers builds an encoded header list. Zero-initialize it
 * (wedge_headers h = {0};), add, send with wedge_response_head, free. */
typedef struct {
    uint8_t *buf;
    size_t len, cap;
    uint32_t count;
    int err; /* WEDGE_ENOMEM once an add failed */
} wedge_headers;

static inline int wedge_headers_addn(wedge_headers *h, const char *name, size_t nlen, const char *value, size_t vlen) {
    if (h->err) return -h->err;
    size_t need = (h->len ? h->len : 4) + 8 + nlen + vlen;
    if (need > h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 256;
        while (cap < need) cap *= 2;
        uint8_t *p = (uint8_t *)realloc(h->buf, cap);
        if (!p) {
            h->err = WEDGE_ENOMEM;
            return -WEDGE_ENOMEM;
        }
        h->buf = p, h->cap = cap;
    }
    if (!h->len) h->len = 4;
    wedge__put_u32(h->buf + h->len, (uint32_t)nlen);
    memcpy(h->buf + h->len + 4, name, nlen);
    h->len += 4 + nlen;
    wedge__put_u32(h->buf + h->len, (uint32_t)vlen);
    memcpy(h->buf + h->len + 4, value, vlen);
    h->len += 4 + vlen;
    wedge__put_u32(h->buf, ++h->count);
    return 0;
}

static inline int wedge_headers_add(wedge_headers *h, const char *name, const char *value) {
    return wedge_headers_addn(h, name, strlen(name), value, strlen(value));
}

static inline void wedge_headers_free(wedge_headers *h) {
    free(h->buf);
    memset(h, 0, sizeof *h);
}

/* wedge_response_head sets the status (200..999) and replaces the response
 * headers (h may be NULL: none). The last call wins, before or after the
 * body is written. Returns 0, -WEDGE_EINVALID or -WEDGE_ETOOLARGE. */
static inline int wedge_response_head(int status, const wedge_headers *h) {
    static const uint8_t none[4] = {0, 0, 0, 0};
    if (h && h->err) return -h->err;
    if (!h || !h->len) return wedge_v1_response_head(status, none, 4);
    return wedge_v1_response_head(status, h->buf, (int32_t)h->len);
}

/* wedge_write appends to the response body. Returns len or -WEDGE_ETOOLARGE. */
static inline int wedge_write(const void *buf, size_t len) {
    return wedge_v1_response_write(buf, (int32_t)len);
}

static inline int wedge_write_str(const char *s) { return wedge_write(s, strlen(s)); }

/* wedge_printf appends printf-style text to the response body. */
__attribute__((format(printf, 1, 2))) static inline int wedge_printf(const char *fmt, ...) {
    char small[512];
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    int r;
    if (n < 0) {
        r = -WEDGE_EINVALID;
    } else if ((size_t)n < sizeof small) {
        r = wedge_write(small, (size_t)n);
    } else {
        char *big = (char *)malloc((size_t)n + 1);
        if (!big) {
            r = -WEDGE_ENOMEM;
        } else {
            vsnprintf(big, (size_t)n + 1, fmt, ap2);
            r = wedge_write(big, (size_t)n);
            free(big);
        }
    }
    va_end(ap2);
    return r;
}

/* wedge_respond sets status and Content-Type (NULL: the host's default)
 * and writes body: a whole response in one call. */
static inline int wedge_respond(int status, const char *content_type, const void *body, size_t len) {
    wedge_headers h = {0};
    if (content_type) wedge_headers_add(&h, "Content-Type", content_type);
    int r = wedge_response_head(status, &h);
    wedge_headers_free(&h);
    if (r < 0) return r;
    return len ? wedge_write(body, len) : 0;
}

/* ---- Configuration and secrets. ---- */

typedef struct {
    const char *key;
} wedge__config_ctx;

static inline int32_t wedge__config_get(void *ctx, void *buf, int32_t cap) {
    const char *key = ((wedge__config_ctx *)ctx)->key;
    return wedge_v1_config_get(key, (int32_t)strlen(key), buf, cap);
}

/* wedge_config returns the function's configuration variable (or secret:
 * the host serves both through config_get) as a malloc'd NUL-terminated
 * string, or NULL when it is not set. */
static inline char *wedge_config(const char *key) {
    wedge__config_ctx c = {key};
    size_t cap = 64;
    uint8_t *buf = (uint8_t *)malloc(cap);
    if (!buf) return NULL;
    int32_t n = wedge__fill(wedge__config_get, &c, &buf, &cap);
    if (n < 0 || (size_t)n == cap) {
        uint8_t *p = n < 0 ? NULL : (uint8_t *)realloc(buf, (size_t)n + 1);
        if (!p) {
            free(buf);
            return NULL;
        }
        buf = p;
    }
    buf[n] = 0;
    return (char *)buf;
}

/* ---- The key-value store. ---- */

static inline int32_t wedge__len(const char *s) { return s ? (int32_t)strlen(s) : 0; }

typedef struct {
    const char *ns, *key;
    uint64_t *version;
} wedge__kv_ctx;

static inline int32_t wedge__kv_get(void *ctx, void *buf, int32_t cap) {
    wedge__kv_ctx *c = (wedge__kv_ctx *)ctx;
    return wedge_v1_kv_get(c->ns, wedge__len(c->ns), c->key, wedge__len(c->key), buf, cap, c->version);
}

/* wedge_kv_get reads key into a malloc'd buffer (*val, NUL-terminated for
 * convenience, *len bytes) and its version (version may be NULL).
 * Returns 0, -WEDGE_ENOTFOUND, or another -code. */
static inline int wedge_kv_get(const char *ns, const char *key, uint8_t **val, size_t *len, uint64_t *version) {
    uint64_t v = 0;
    wedge__kv_ctx c = {ns, key, &v};
    size_t cap = 256;
    uint8_t *buf = (uint8_t *)malloc(cap);
    if (!buf) return -WEDGE_ENOMEM;
    int32_t n = wedge__fill(wedge__kv_get, &c, &buf, &cap);
    if (n >= 0 && (size_t)n == cap) {
        uint8_t *p = (uint8_t *)realloc(buf, cap + 1);
        if (!p) n = -WEDGE_ENOMEM;
        else buf = p;
    }
    if (n < 0) {
        free(buf);
        return n;
    }
    buf[n] = 0;
    *val = buf;
    *len = (size_t)n;
    if (version) *version = v;
    return 0;
}

/* wedge_kv_put stores val under key. ttl_ms 0 means no expiry; if_version
 * is WEDGE_ANY_VERSION, WEDGE_IF_ABSENT or a version n > 0 (compare and
 * swap). Returns the new version (> 0), or -code (-WEDGE_ECONFLICT when
 * the condition failed). */
static inline int64_t wedge_kv_put(const char *ns, const char *key, const void *val, size_t len, int64_t ttl_ms,
                                   int64_t if_version) {
    return wedge_v1_kv_put(ns, wedge__len(ns), key, wedge__len(key), val, (int32_t)len, ttl_ms, if_version);
}

/* wedge_kv_delete deletes key (if_version as for wedge_kv_put). Returns 0
 * or -code; deleting an absent key succeeds unless if_version > 0. */
static inline int wedge_kv_delete(const char *ns, const char *key, int64_t if_version) {
    return wedge_v1_kv_delete(ns, wedge__len(ns), key, wedge__len(key), if_version);
}

/* wedge_kv_increment adds delta to the counter at key (absent counts as 0)
 * and stores the new value at *out (out may be NULL). Returns 0 or -code
 * (-WEDGE_ENOTCOUNTER when the value is not an integer). */
static inline int wedge_kv_increment(const char *ns, const char *key, int64_t delta, int64_t *out) {
    int64_t v = 0;
    int r = wedge_v1_kv_increment(ns, wedge__len(ns), key, wedge__len(key), delta, &v);
    if (r == 0 && out) *out = v;
    return r;
}

/* wedge_kv_iter lists the keys under a prefix, page by page:
 *
 *   wedge_kv_iter it;
 *   wedge_kv_list(&it, NULL, "user/", 100);
 *   wedge_str key;
 *   while (wedge_kv_next(&it, &key) > 0) { ... }
 *   if (it.err) ...;   (a -code, 0 when the listing completed)
 *   wedge_kv_iter_free(&it);
 *
 * A key stays valid until the next call to wedge_kv_next. */
typedef struct {
    const char *ns, *prefix;
    int32_t limit;
    int err;
    /* private */
    uint8_t *page;
    size_t page_len, page_cap, off;
    uint32_t left;
    char *cursor;
    size_t cursor_len;
    int started, done;
} wedge_kv_iter;

static inline void wedge_kv_list(wedge_kv_iter *it, const char *ns, const char *prefix, int32_t limit) {
    memset(it, 0, sizeof *it);
    it->ns = ns, it->prefix = prefix;
    it->limit = limit < 1 ? 100 : limit > 1000 ? 1000 : limit;
}

static inline int32_t wedge__kv_list(void *ctx, void *buf, int32_t cap) {
    wedge_kv_iter *it = (wedge_kv_iter *)ctx;
    return wedge_v1_kv_list(it->ns, wedge__len(it->ns), it->prefix, wedge__len(it->prefix), it->cursor,
                            (int32_t)it->cursor_len, it->limit, buf, cap);
}

/* wedge_kv_next sets *key to the next key: 1, or 0 at the end or on an
 * error (then it->err is the -code). */
static inline int wedge_kv_next(wedge_kv_iter *it, wedge_str *key) {
    while (!it->left) {
        if (it->done || it->err) return 0;
        if (it->started && it->cursor_len == 0) {
            it->done = 1;
            return 0;
        }
        it->started = 1;
        if (!it->page) {
            it->page_cap = 4096;
            it->page = (uint8_t *)malloc(it->page_cap);
            if (!it->page) {
                it->err = -WEDGE_ENOMEM;
                return 0;
            }
        }
        int32_t n = wedge__fill(wedge__kv_list, it, &it->page, &it->page_cap);
        if (n < 0) {
            it->err = n;
            return 0;
        }
        it->page_len = (size_t)n;
        if (n < 4) {
            it->err = -WEDGE_EINVALID;
            return 0;
        }
        it->left = wedge__u32(it->page);
        it->off = 4;
        /* The next cursor follows the keys: skip them to find it. */
        size_t off = 4;
        wedge_str s;
        for (uint32_t i = 0; i < it->left; i++) {
            if (!wedge__string(it->page, it->page_len, &off, &s)) {
                it->err = -WEDGE_EINVALID;
                return 0;
            }
        }
        if (!wedge__string(it->page, it->page_len, &off, &s)) {
            it->err = -WEDGE_EINVALID;
            return 0;
        }
        free(it->cursor);
        it->cursor = NULL;
        it->cursor_len = s.len;
        if (s.len) {
            it->cursor = (char *)malloc(s.len);
            if (!it->cursor) {
                it->err = -WEDGE_ENOMEM;
                return 0;
            }
            memcpy(it->cursor, s.ptr, s.len);
        }
    }
    wedge__string(it->page, it->page_len, &it->off, key);
    it->left--;
    return 1;
}

static inline void wedge_kv_iter_free(wedge_kv_iter *it) {
    free(it->page);
    free(it->cursor);
    it->page = NULL, it->cursor = NULL;
}

/* ---- Events and queues. ---- */

/* wedge_publish publishes body to the named queue; 0 once it is stored
 * durably, or -code (-WEDGE_ETOOLARGE over 1 MiB, -WEDGE_EINVALID for a
 * bad queue name). */
static inline int wedge_publish(const char *queue, const void *body, size_t len) {
    return wedge_v1_queue_publish(queue, wedge__len(queue), body, (int32_t)len);
}

/* wedge_object_read reads up to cap bytes of an uploaded object from
 * offset; returns the count (0 at the end) or -code. */
static inline int64_t wedge_object_read(const char *bucket, const char *name, int64_t offset, void *buf, size_t cap) {
    return wedge_v1_object_read(bucket, wedge__len(bucket), name, wedge__len(name), offset, buf,
                                (int32_t)(cap > INT32_MAX ? INT32_MAX : cap));
}

static inline int32_t wedge__event_get(void *ctx, void *buf, int32_t cap) {
    (void)ctx;
    return wedge_v1_event_get(buf, cap);
}

/* wedge_event_read returns the event envelope (JSON, abi/README.md
 * "Events") in a malloc'd NUL-terminated buffer, or NULL. */
static inline char *wedge_event_read(int32_t event_len, size_t *len) {
    size_t cap = (event_len > 0 ? (size_t)event_len : 256) + 1;
    uint8_t *buf = (uint8_t *)malloc(cap);
    if (!buf) return NULL;
    int32_t n = wedge__fill(wedge__event_get, NULL, &buf, &cap);
    if (n >= 0 && (size_t)n == cap) {
        uint8_t *p = (uint8_t *)realloc(buf, cap + 1);
        if (!p) n = -WEDGE_ENOMEM;
        else buf = p;
    }
    if (n < 0) {
        free(buf);
        return NULL;
    }
    buf[n] = 0;
    if (len) *len = (size_t)n;
    return (char *)buf;
}

/* ---- Typed events: a small JSON reader for the envelope. ----
 *
 * wedge_event_parse decodes the envelope's own fields; wedge_event_kv,
 * wedge_event_upload, wedge_event_schedule and wedge_event_queue decode its
 * data for each kind. Strings and byte values are malloc'd (NUL-terminated)
 * and live until the instance ends with the event: there is nothing to
 * free. WEDGE_EVENT_HANDLERS (below) does all this and calls one handler
 * per kind. */

typedef struct {
    const char *json; /* the envelope as received */
    size_t len;
    char *kind;       /* "kv", "upload", "schedule" or "queue" */
    char *id;         /* the same on every attempt: use it for idempotency */
    char *source;     /* "kv:chat/msg/", "upload:photos", "queue:jobs", ... */
    char *time;       /* when the fact behind the event happened (RFC 3339) */
    char *function;   /* the function it is delivered to */
    int64_t trigger;  /* the trigger's index in the deployment */
    int64_t attempt;  /* 1 on the first delivery, then 2, 3, ... */
    wedge_str data;   /* the kind's data, raw JSON */
    /* The W3C traceparent of what caused the event (the KV write, publish
     * or upload of a traced request; a queue batch's first message's);
     * "" when it was not traced, and for schedule ticks. */
    char *traceparent;
} wedge_event;

/* A key-value change (kind "kv"). */
typedef struct {
    char *ns;            /* the namespace written */
    char *key;
    char *op;            /* "put" or "delete" */
    uint64_t old_version; /* 0: the key did not exist */
    uint64_t new_version;
    uint8_t *value;      /* the value a put wrote, when at most 64 KiB (else NULL) */
    size_t value_len;
    int value_too_large; /* 1: value not carried, read it with wedge_kv_get */
} wedge_kv_change;

/* An uploaded object (kind "upload"): read it with wedge_upload_read. */
typedef struct {
    char *bucket, *object, *content_type;
    char *sha256; /* hex, of the content */
    int64_t size;
} wedge_upload;

/* A schedule tick (kind "schedule"). */
typedef struct {
    char *cron, *timezone;
    char *scheduled; /* the tick's time (RFC 3339) */
    int64_t missed;  /* ticks skipped while no node could run them */
} wedge_schedule;

/* One queue message; a queue event carries a batch. */
typedef struct {
    char *id;
    uint8_t *body;
    size_t body_len;
    int64_t attempts; /* earlier failed deliveries (0 the first time) */
    char *published;  /* when it was published (RFC 3339) */
} wedge_message;

typedef struct {
    char *queue;
    wedge_message *messages;
    size_t count;
} wedge_queue_batch;

#define WEDGE__BAD ((size_t)-1)

static inline size_t wedge__json_ws(const char *s, size_t n, size_t i) {
    while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) i++;
    return i;
}

/* wedge__json_skip returns the index just past the value starting at i
 * (after blanks), or WEDGE__BAD. */
static inline size_t wedge__json_skip(const char *s, size_t n, size_t i) {
    i = wedge__json_ws(s, n, i);
    if (i >= n) return WEDGE__BAD;
    if (s[i] == '"') {
        for (i++; i < n; i++) {
            if (s[i] == '\\') i++;
            else if (s[i] == '"') return i + 1;
        }
        return WEDGE__BAD;
    }
    if (s[i] == '{' || s[i] == '[') {
        int depth = 0;
        for (; i < n; i++) {
            char c = s[i];
            if (c == '"') {
                size_t e = wedge__json_skip(s, n, i);
                if (e == WEDGE__BAD) return e;
                i = e - 1;
            } else if (c == '{' || c == '[') {
                depth++;
            } else if (c == '}' || c == ']') {
                if (--depth == 0) return i + 1;
            }
        }
        return WEDGE__BAD;
    }
    size_t start = i;
    while (i < n && s[i] != ',' && s[i] != '}' && s[i] != ']' && s[i] != ' ' && s[i] != '\t' && s[i] != '\n' &&
           s[i] != '\r')
        i++;
    return i > start ? i : WEDGE__BAD;
}

/* wedge_json_field finds the member called name in the object obj and sets
 * *val to its raw value. Returns 1, or 0 when absent or malformed. */
static inline int wedge_json_field(wedge_str obj, const char *name, wedge_str *val) {
    const char *s = obj.ptr;
    size_t n = obj.len, i = wedge__json_ws(s, n, 0), nlen = strlen(name);
    if (i >= n || s[i] != '{') return 0;
    i = wedge__json_ws(s, n, i + 1);
    while (i < n && s[i] == '"') {
        size_t kend = wedge__json_skip(s, n, i);
        if (kend == WEDGE__BAD) return 0;
        int match = kend - i - 2 == nlen && memcmp(s + i + 1, name, nlen) == 0;
        i = wedge__json_ws(s, n, kend);
        if (i >= n || s[i] != ':') return 0;
        size_t vstart = wedge__json_ws(s, n, i + 1), vend = wedge__json_skip(s, n, vstart);
        if (vend == WEDGE__BAD) return 0;
        if (match) {
            val->ptr = s + vstart, val->len = vend - vstart;
            return 1;
        }
        i = wedge__json_ws(s, n, vend);
        if (i < n && s[i] == ',') i = wedge__json_ws(s, n, i + 1);
    }
    return 0;
}

/* wedge_json_elem sets *val to the element after *pos of the array arr
 * (start with *pos = 0). Returns 1, or 0 at the end. */
static inline int wedge_json_elem(wedge_str arr, size_t *pos, wedge_str *val) {
    const char *s = arr.ptr;
    size_t n = arr.len, i = *pos;
    if (i == 0) {
        i = wedge__json_ws(s, n, 0);
        if (i >= n || s[i] != '[') return 0;
        i++;
    }
    i = wedge__json_ws(s, n, i);
    if (i < n && s[i] == ',') i = wedge__json_ws(s, n, i + 1);
    if (i >= n || s[i] == ']') return 0;
    size_t e = wedge__json_skip(s, n, i);
    if (e == WEDGE__BAD) return 0;
    val->ptr = s + i, val->len = e - i;
    *pos = e;
    return 1;
}

static inline size_t wedge__utf8(uint32_t c, char *o) {
    if (c < 0x80) return o[0] = (char)c, 1;
    if (c < 0x800) return o[0] = (char)(0xC0 | c >> 6), o[1] = (char)(0x80 | (c & 0x3F)), 2;
    if (c < 0x10000)
        return o[0] = (char)(0xE0 | c >> 12), o[1] = (char)(0x80 | (c >> 6 & 0x3F)), o[2] = (char)(0x80 | (c & 0x3F)), 3;
    o[0] = (char)(0xF0 | c >> 18), o[1] = (char)(0x80 | (c >> 12 & 0x3F));
    o[2] = (char)(0x80 | (c >> 6 & 0x3F)), o[3] = (char)(0x80 | (c & 0x3F));
    return 4;
}

static inline int32_t wedge__hex4(const char *p) {
    int32_t v = 0;
    for (int k = 0; k < 4; k++) {
        int h = wedge__hex(p[k]);
        if (h < 0) return -1;
        v = v << 4 | h;
    }
    return v;
}

/* wedge_json_string decodes the JSON string v into a malloc'd
 * NUL-terminated UTF-8 string (its length at *len when len is not NULL).
 * NULL when v is not a string (null included) or on OOM. */
static inline char *wedge_json_string(wedge_str v, size_t *len) {
    if (v.len < 2 || v.ptr[0] != '"' || v.ptr[v.len - 1] != '"') return NULL;
    char *out = (char *)malloc(v.len), *o = out;
    if (!out) return NULL;
    for (size_t i = 1; i + 1 < v.len; i++) {
        char c = v.ptr[i];
        if (c != '\\') {
            *o++ = c;
            continue;
        }
        if (++i + 1 >= v.len) break;
        switch (v.ptr[i]) {
        case 'b': *o++ = '\b'; break;
        case 'f': *o++ = '\f'; break;
        case 'n': *o++ = '\n'; break;
        case 'r': *o++ = '\r'; break;
        case 't': *o++ = '\t'; break;
        case 'u': {
            int32_t c1 = i + 5 < v.len ? wedge__hex4(v.ptr + i + 1) : -1;
            if (c1 < 0) break;
            i += 4;
            uint32_t cp = (uint32_t)c1;
            if (cp >= 0xD800 && cp < 0xDC00 && i + 7 < v.len && v.ptr[i + 1] == '\\' && v.ptr[i + 2] == 'u') {
                int32_t c2 = wedge__hex4(v.ptr + i + 3);
                if (c2 >= 0xDC00 && c2 < 0xE000) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + ((uint32_t)c2 - 0xDC00);
                    i += 6;
                }
            }
            if (cp >= 0xD800 && cp < 0xE000) cp = 0xFFFD;
            o += wedge__utf8(cp, o);
            break;
        }
        default: *o++ = v.ptr[i];
        }
    }
    *o = 0;
    if (len) *len = (size_t)(o - out);
    return out;
}

/* wedge_json_u64 reads a non-negative integer (0 when v is not one). */
static inline uint64_t wedge_json_u64(wedge_str v) {
    uint64_t x = 0;
    for (size_t i = 0; i < v.len && v.ptr[i] >= '0' && v.ptr[i] <= '9'; i++) x = x * 10 + (uint64_t)(v.ptr[i] - '0');
    return x;
}

static inline int wedge__b64(char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
}

/* wedge_base64_decode decodes standard or URL-safe base64 (padding
 * optional) into a malloc'd buffer (NUL-terminated, not counted in *len).
 * NULL on a bad character or OOM. */
static inline uint8_t *wedge_base64_decode(const char *s, size_t n, size_t *len) {
    while (n && s[n - 1] == '=') n--;
    uint8_t *out = (uint8_t *)malloc(n * 3 / 4 + 1), *o = out;
    if (!out) return NULL;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        int d = wedge__b64(s[i]);
        if (d < 0) {
            free(out);
            return NULL;
        }
        acc = acc << 6 | (uint32_t)d, bits += 6;
        if (bits >= 8) bits -= 8, *o++ = (uint8_t)(acc >> bits);
    }
    *o = 0;
    *len = (size_t)(o - out);
    return out;
}

/* wedge__field_string, _u64, _bytes: one member of obj, "" / 0 / NULL when absent. */
static inline char *wedge__field_string(wedge_str obj, const char *name) {
    wedge_str v;
    char *s = wedge_json_field(obj, name, &v) ? wedge_json_string(v, NULL) : NULL;
    return s ? s : (char *)"";
}

static inline uint64_t wedge__field_u64(wedge_str obj, const char *name) {
    wedge_str v;
    return wedge_json_field(obj, name, &v) ? wedge_json_u64(v) : 0;
}

static inline uint8_t *wedge__field_bytes(wedge_str obj, const char *name, size_t *len) {
    wedge_str v;
    size_t n = 0;
    *len = 0;
    if (!wedge_json_field(obj, name, &v)) return NULL;
    char *b64 = wedge_json_string(v, &n);
    if (!b64) return NULL;
    uint8_t *out = wedge_base64_decode(b64, n, len);
    free(b64);
    return out;
}

/* wedge_event_parse decodes the envelope json (len bytes, kept: not
 * copied). Returns 0, or -WEDGE_EINVALID when it is not a JSON object. */
static inline int wedge_event_parse(const char *json, size_t len, wedge_event *ev) {
    memset(ev, 0, sizeof *ev);
    wedge_str env = {json, len};
    size_t i = wedge__json_ws(json, len, 0);
    if (i >= len || json[i] != '{' || wedge__json_skip(json, len, i) == WEDGE__BAD) return -WEDGE_EINVALID;
    ev->json = json, ev->len = len;
    ev->kind = wedge__field_string(env, "kind");
    ev->id = wedge__field_string(env, "id");
    ev->source = wedge__field_string(env, "source");
    ev->time = wedge__field_string(env, "time");
    ev->function = wedge__field_string(env, "function");
    ev->trigger = (int64_t)wedge__field_u64(env, "trigger");
    ev->attempt = (int64_t)wedge__field_u64(env, "attempt");
    ev->traceparent = wedge__field_string(env, "traceparent");
    if (!wedge_json_field(env, "data", &ev->data)) ev->data.ptr = "{}", ev->data.len = 2;
    return 0;
}

/* wedge_event_kv decodes a kv event's data: 0, or -WEDGE_EINVALID for
 * another kind. Likewise wedge_event_upload, _schedule and _queue. */
static inline int wedge_event_kv(const wedge_event *ev, wedge_kv_change *c) {
    memset(c, 0, sizeof *c);
    if (strcmp(ev->kind, "kv") != 0) return -WEDGE_EINVALID;
    c->ns = wedge__field_string(ev->data, "namespace");
    c->key = wedge__field_string(ev->data, "key");
    c->op = wedge__field_string(ev->data, "op");
    c->old_version = wedge__field_u64(ev->data, "old_version");
    c->new_version = wedge__field_u64(ev->data, "new_version");
    c->value = wedge__field_bytes(ev->data, "value", &c->value_len);
    wedge_str v;
    c->value_too_large = wedge_json_field(ev->data, "value_too_large", &v) && v.len && v.ptr[0] == 't';
    return 0;
}

static inline int wedge_event_upload(const wedge_event *ev, wedge_upload *u) {
    memset(u, 0, sizeof *u);
    if (strcmp(ev->kind, "upload") != 0) return -WEDGE_EINVALID;
    u->bucket = wedge__field_string(ev->data, "bucket");
    u->object = wedge__field_string(ev->data, "object");
    u->content_type = wedge__field_string(ev->data, "content_type");
    u->sha256 = wedge__field_string(ev->data, "sha256");
    u->size = (int64_t)wedge__field_u64(ev->data, "size");
    return 0;
}

static inline int wedge_event_schedule(const wedge_event *ev, wedge_schedule *t) {
    memset(t, 0, sizeof *t);
    if (strcmp(ev->kind, "schedule") != 0) return -WEDGE_EINVALID;
    t->cron = wedge__field_string(ev->data, "cron");
    t->timezone = wedge__field_string(ev->data, "timezone");
    t->scheduled = wedge__field_string(ev->data, "scheduled");
    t->missed = (int64_t)wedge__field_u64(ev->data, "missed");
    return 0;
}

static inline int wedge_event_queue(const wedge_event *ev, wedge_queue_batch *b) {
    memset(b, 0, sizeof *b);
    if (strcmp(ev->kind, "queue") != 0) return -WEDGE_EINVALID;
    b->queue = wedge__field_string(ev->data, "queue");
    wedge_str arr, m;
    if (!wedge_json_field(ev->data, "messages", &arr)) return 0;
    size_t pos = 0, n = 0;
    while (wedge_json_elem(arr, &pos, &m)) n++;
    if (!n) return 0;
    b->messages = (wedge_message *)calloc(n, sizeof *b->messages);
    if (!b->messages) return -WEDGE_ENOMEM;
    pos = 0;
    while (b->count < n && wedge_json_elem(arr, &pos, &m)) {
        wedge_message *msg = &b->messages[b->count++];
        msg->id = wedge__field_string(m, "id");
        msg->body = wedge__field_bytes(m, "body", &msg->body_len);
        if (!msg->body) msg->body = (uint8_t *)"";
        msg->attempts = (int64_t)wedge__field_u64(m, "attempts");
        msg->published = wedge__field_string(m, "published");
    }
    return 0;
}

/* wedge_upload_read reads up to cap bytes of the uploaded object from
 * offset; returns the count (0 at the end) or -code. */
static inline int64_t wedge_upload_read(const wedge_upload *u, int64_t offset, void *buf, size_t cap) {
    return wedge_object_read(u->bucket, u->object, offset, buf, cap);
}

/* One handler per kind; NULL for kinds the function does not take. Each
 * returns 0 once the event is handled; anything else (or a trap) fails the
 * delivery, which is retried. A queue handler gets the whole batch: an
 * error delivers every message of it again. other takes kinds without a
 * typed handler (including kinds a newer host may add). */
typedef struct {
    int (*kv)(const wedge_event *ev, const wedge_kv_change *change);
    int (*upload)(const wedge_event *ev, const wedge_upload *upload);
    int (*schedule)(const wedge_event *ev, const wedge_schedule *tick);
    int (*queue)(const wedge_event *ev, const wedge_queue_batch *batch);
    int (*other)(const wedge_event *ev);
} wedge_event_handlers;

/* wedge_event_dispatch reads the envelope and calls the handler of its
 * kind; the WEDGE_EVENT_HANDLERS entry calls it. An event no handler takes
 * is logged and fails (it is retried, then dead-lettered). */
static inline int32_t wedge_event_dispatch(int32_t event_len, const wedge_event_handlers *h) {
    size_t len = 0;
    char *json = wedge_event_read(event_len, &len);
    if (!json) wedge_panic("wedge: reading the event envelope failed");
    wedge_event ev;
    if (wedge_event_parse(json, len, &ev) < 0) wedge_panic("wedge: the event envelope does not decode");
    int r;
    if (h->kv && !strcmp(ev.kind, "kv")) {
        wedge_kv_change c;
        r = wedge_event_kv(&ev, &c);
        if (r == 0) r = h->kv(&ev, &c);
    } else if (h->upload && !strcmp(ev.kind, "upload")) {
        wedge_upload u;
        r = wedge_event_upload(&ev, &u);
        if (r == 0) r = h->upload(&ev, &u);
    } else if (h->schedule && !strcmp(ev.kind, "schedule")) {
        wedge_schedule t;
        r = wedge_event_schedule(&ev, &t);
        if (r == 0) r = h->schedule(&ev, &t);
    } else if (h->queue && !strcmp(ev.kind, "queue")) {
        wedge_queue_batch b;
        r = wedge_event_queue(&ev, &b);
        if (r == 0) r = h->queue(&ev, &b);
    } else if (h->other) {
        r = h->other(&ev);
    } else {
        wedge_errorf("wedge: no handler for \"%s\" events (%s): set .%s in WEDGE_EVENT_HANDLERS", ev.kind, ev.source,
                     ev.kind[0] ? ev.kind : "other");
        return 1;
    }
    return r;
}

/* ---- Entries. ----
 *
 * WEDGE_HTTP_HANDLER(fn) exports wedge_handle, which reads the request head
 * and calls int fn(wedge_request *req). fn returns 0 once it has set the
 * response; any other value fails the request with 500.
 *
 * WEDGE_EVENT_HANDLERS({.kv = on_kv, .queue = on_queue, ...}) exports
 * wedge_event, which decodes the envelope and calls the typed handler of
 * its kind (wedge_event_handlers above).
 *
 * WEDGE_EVENT_HANDLER(fn) exports wedge_event, which reads the envelope and
 * calls int fn(const char *json, size_t len) with it raw (wedge_event_parse
 * and wedge_event_kv, ... decode it). 0 acknowledges the delivery;
 * anything else (or a trap) has it retried.
 *
 * A module uses one of the two event entries, not both. */

#define WEDGE_EXPORT(name) __attribute__((export_name(#name)))

#define WEDGE_HTTP_HANDLER(fn)                                                                                         \
    WEDGE_EXPORT(wedge_handle) int32_t wedge_handle(int32_t head_len, int32_t body_len) {                              \
        wedge_request req_;                                                                                            \
        int r_ = wedge_request_read(&req_, head_len, body_len);                                                        \
        if (r_ < 0) wedge_panic("wedge: reading the request head: %s", wedge_strerror(r_));                           \
        return fn(&req_);                                                                                              \
    }

#define WEDGE_EVENT_HANDLER(fn)                                                                                        \
    WEDGE_EXPORT(wedge_event) int32_t wedge__event_entry(int32_t event_len) {                                          \
        size_t len_ = 0;                                                                                               \
        char *json_ = wedge_event_read(event_len, &len_);                                                              \
        if (!json_) wedge_panic("wedge: reading the event envelope failed");                                           \
        int r_ = fn(json_, len_);                                                                                      \
        free(json_);                                                                                                   \
        return r_;                                                                                                     \
    }

#define WEDGE_EVENT_HANDLERS(...)                                                                                      \
    WEDGE_EXPORT(wedge_event) int32_t wedge__event_entry(int32_t event_len) {                                          \
        static const wedge_event_handlers handlers_ = __VA_ARGS__;                                                     \
        return wedge_event_dispatch(event_len, &handlers_);                                                            \
    }

#ifdef __cplusplus
}
#endif

#endif /* WEDGE_H */
