/*
 * hello: the C SDK's example, and the C guest of the cross-language
 * conformance suite (sdk/conformance). It dispatches on the last segment
 * of the path, so it can be deployed under any route ending in "/...".
 */
#include "wedge.h"

static wedge_str last_segment(wedge_str path) {
    size_t i = path.len;
    while (i > 0 && path.ptr[i - 1] != '/') i--;
    wedge_str s = {path.ptr + i, path.len - i};
    return s;
}

/* GET hello?name=Ada: a greeting, with a header of our own. */
static int hello(wedge_request *req) {
    char *name = wedge_query_param(req, "name");
    wedge_headers h = {0};
    wedge_headers_add(&h, "Content-Type", "text/plain; charset=utf-8");
    wedge_headers_add(&h, "X-Wedge-Sdk", "c");
    wedge_response_head(200, &h);
    wedge_headers_free(&h);
    wedge_write_str("hello, ");
    wedge_write_str(name && *name ? name : "world");
    wedge_write_str("\n");
    free(name);
    return 0;
}

/* echo?status=N: the body back, the X-Echo header back, the status asked. */
static int echo(wedge_request *req) {
    char *status = wedge_query_param(req, "status");
    wedge_str v;
    wedge_headers h = {0};
    wedge_headers_add(&h, "Content-Type", "application/octet-stream");
    if (wedge_header(req, "X-Echo", &v)) wedge_headers_addn(&h, "X-Echo", 6, v.ptr, v.len);
    int r = wedge_response_head(status ? atoi(status) : 200, &h);
    wedge_headers_free(&h);
    free(status);
    if (r < 0) return r;
    char buf[16384];
    size_t n;
    while ((n = wedge_body_read(buf, sizeof buf)) > 0) wedge_write(buf, n);
    return 0;
}

/* head: the request line as the guest sees it. */
static int head(wedge_request *req) {
    wedge_printf("%.*s %.*s %.*s %u\n", (int)req->method.len, req->method.ptr, (int)req->path.len, req->path.ptr,
                 (int)req->query.len, req->query.ptr, (unsigned)req->body_len);
    return 0;
}

/* count: a counter in the key-value store. */
static int count(wedge_request *req) {
    (void)req;
    int64_t n;
    int r = wedge_kv_increment(NULL, "counter", 1, &n);
    if (r < 0) wedge_panic("increment: %s", wedge_strerror(r));
    wedge_printf("%lld\n", (long long)n);
    return 0;
}

/* kv: every key-value call, the outcome of each as one word. */
static int kv(wedge_request *req) {
    (void)req;
    int64_t v1 = wedge_kv_put(NULL, "kv/a", "one", 3, 0, WEDGE_ANY_VERSION);
    int64_t v2 = wedge_kv_put(NULL, "kv/a", "two", 3, 0, v1);
    int64_t stale = wedge_kv_put(NULL, "kv/a", "three", 5, 0, v1);
    int64_t absent = wedge_kv_put(NULL, "kv/a", "four", 4, 0, WEDGE_IF_ABSENT);
    wedge_kv_put(NULL, "kv/b", "ttl", 3, 60000, WEDGE_ANY_VERSION);
    uint8_t *val = NULL;
    size_t len = 0;
    uint64_t ver = 0;
    int g = wedge_kv_get(NULL, "kv/a", &val, &len, &ver);
    wedge_printf("put:%s cas:%s stale:%s absent:%s get:%.*s version:%s ", v1 > 0 ? "ok" : wedge_strerror((int)v1),
                 v2 > v1 ? "ok" : wedge_strerror((int)v2), wedge_strerror((int)stale), wedge_strerror((int)absent),
                 g == 0 ? (int)len : 0, g == 0 ? (const char *)val : "", (int64_t)ver == v2 ? "ok" : "wrong");
    free(val);
    wedge_kv_iter it;
    wedge_kv_list(&it, NULL, "kv/", 1); /* one key a page: the cursor is followed */
    wedge_str key;
    wedge_write_str("list:");
    while (wedge_kv_next(&it, &key)) wedge_printf("%.*s,", (int)key.len, key.ptr);
    if (it.err) wedge_printf("(%s)", wedge_strerror(it.err));
    wedge_kv_iter_free(&it);
    int d = wedge_kv_delete(NULL, "kv/a", WEDGE_ANY_VERSION);
    g = wedge_kv_get(NULL, "kv/a", &val, &len, NULL);
    wedge_printf(" delete:%s gone:%s\n", wedge_strerror(d), wedge_strerror(g));
    wedge_kv_delete(NULL, "kv/b", WEDGE_ANY_VERSION);
    return 0;
}

/* log?msg=...: one entry in the function's logs. */
static int log_route(wedge_request *req) {
    char *msg = wedge_query_param(req, "msg");
    wedge_infof("log: %s", msg ? msg : "");
    free(msg);
    wedge_write_str("logged\n");
    return 0;
}

/* config?key=NAME: a configuration variable or secret, 404 when unset. */
static int config(wedge_request *req) {
    char *key = wedge_query_param(req, "key");
    char *v = wedge_config(key ? key : "");
    free(key);
    if (!v) return wedge_respond(404, NULL, "not set\n", 8) < 0;
    wedge_printf("%s\n", v);
    free(v);
    return 0;
}

/* publish?queue=q: the body to a queue, 202 once stored. */
static int publish(wedge_request *req) {
    char *queue = wedge_query_param(req, "queue");
    size_t len = 0;
    uint8_t *body = wedge_body_all(req, &len);
    int r = wedge_publish(queue ? queue : "", body, len);
    free(queue);
    free(body);
    if (r < 0) {
        wedge_respond(400, NULL, wedge_strerror(r), strlen(wedge_strerror(r)));
        return 0;
    }
    return wedge_respond(202, NULL, "published\n", 10) < 0;
}

/* fresh: state a request leaves behind must not reach the next one.
 * Each request runs in a fresh instance, so a global and a heap value
 * that every request increments read 1 every time. */
static int fresh_calls;
static int *fresh_heap;

static int fresh(void) {
    fresh_calls++;
    if (fresh_heap == NULL) fresh_heap = calloc(1, sizeof *fresh_heap);
    if (fresh_heap == NULL) return wedge_respond(500, NULL, "out of memory\n", 14) < 0;
    (*fresh_heap)++;
    char out[48];
    int n = snprintf(out, sizeof out, "global=%d heap=%d\n", fresh_calls, *fresh_heap);
    return wedge_respond(200, NULL, out, (size_t)n) < 0;
}

static int handle(wedge_request *req) {
    wedge_str seg = last_segment(req->path);
    if (wedge_str_eq(seg, "hello")) return hello(req);
    if (wedge_str_eq(seg, "echo")) return echo(req);
    if (wedge_str_eq(seg, "head")) return head(req);
    if (wedge_str_eq(seg, "count")) return count(req);
    if (wedge_str_eq(seg, "fresh")) return fresh();
    if (wedge_str_eq(seg, "kv")) return kv(req);
    if (wedge_str_eq(seg, "log")) return log_route(req);
    if (wedge_str_eq(seg, "config")) return config(req);
    if (wedge_str_eq(seg, "publish")) return publish(req);
    if (wedge_str_eq(seg, "trap")) wedge_panic("boom from c");
    return wedge_respond(404, NULL, "not found\n", 10) < 0;
}

WEDGE_HTTP_HANDLER(handle)

/* The event entries (one per kind, as the conformance suite expects):
 * each records what it received under a "seen-<kind>" key, and the
 * traceparent of the event's cause under "trace-<kind>" first. */

static int put_line(const char *key, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *line = (char *)malloc((size_t)n + 1);
    if (!line) return 1;
    va_start(ap, fmt);
    vsnprintf(line, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return wedge_kv_put(NULL, key, line, (size_t)n, 0, WEDGE_ANY_VERSION) > 0 ? 0 : 1;
}

static int on_kv(const wedge_event *ev, const wedge_kv_change *c) {
    if (put_line("trace-kv", "%s", ev->traceparent)) return 1;
    return put_line("seen-kv", "%s %s %llu %llu %.*s", c->op, c->key, (unsigned long long)c->old_version,
                    (unsigned long long)c->new_version, (int)c->value_len, c->value ? (const char *)c->value : "");
}

/* An upload: its content, read through object_read, lands in the store. */
static int on_upload(const wedge_event *ev, const wedge_upload *u) {
    if (put_line("trace-upload", "%s", ev->traceparent)) return 1;
    uint8_t *buf = (uint8_t *)malloc((size_t)u->size + 1);
    if (!buf) return 1;
    int64_t off = 0;
    for (;;) {
        int64_t n = wedge_upload_read(u, off, buf + off, (size_t)(u->size + 1 - off));
        if (n < 0) wedge_panic("object_read: %s", wedge_strerror((int)n));
        if (n == 0) break;
        off += n;
    }
    if (wedge_kv_put(NULL, "upload-body", buf, (size_t)off, 0, WEDGE_ANY_VERSION) < 0) return 1;
    return put_line("seen-upload", "%s %s %lld %s %s", u->bucket, u->object, (long long)u->size, u->content_type,
                    u->sha256);
}

static int on_schedule(const wedge_event *ev, const wedge_schedule *t) {
    (void)ev;
    wedge_kv_increment(NULL, "ticks", 1, NULL);
    return put_line("seen-schedule", "%s|%s|%s", t->cron, t->timezone, t->scheduled);
}

static int on_queue(const wedge_event *ev, const wedge_queue_batch *b) {
    if (put_line("trace-queue", "%s", ev->traceparent)) return 1;
    for (size_t i = 0; i < b->count; i++) {
        const wedge_message *m = &b->messages[i];
        if (put_line("seen-queue", "%s %.*s %lld", b->queue, (int)m->body_len, (const char *)m->body,
                     (long long)m->attempts))
            return 1;
    }
    return 0;
}

WEDGE_EVENT_HANDLERS({.kv = on_kv, .upload = on_upload, .schedule = on_schedule, .queue = on_queue})
