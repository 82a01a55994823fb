// The epoch ticker's thread: see ticker.go.

#define _GNU_SOURCE
#include "wasmpool.h"

#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <time.h>

static int64_t mono_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void sleep_until(int64_t ns) {
  struct timespec ts = {.tv_sec = ns / 1000000000, .tv_nsec = ns % 1000000000};
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) != 0) {
  }
}

static void *ticker_run(void *arg) {
  wasmpool_ticker_t *t = arg;
  pthread_mutex_t *mu = t->mu;
  pthread_cond_t *cv = t->cv;
  int64_t next = __atomic_load_n(&t->synced, __ATOMIC_SEQ_CST) + t->tick_ns;
  int64_t idle_since = -1;
  for (;;) {
    sleep_until(next);
    if (__atomic_load_n(&t->stop, __ATOMIC_SEQ_CST)) {
      return NULL;
    }
    int64_t now = mono_ns();
    int64_t synced = __atomic_load_n(&t->synced, __ATOMIC_SEQ_CST);
    int64_t n = (now - synced) / t->tick_ns;
    for (int64_t i = 0; i < n; i++) {
      wasmtime_engine_increment_epoch(t->engine);
    }
    // Record the progress only after the increments: a deadline set in
    // between counts the owed ticks twice, never zero times.
    __atomic_store_n(&t->synced, synced + n * t->tick_ns, __ATOMIC_SEQ_CST);
    next += t->tick_ns;
    if (next < now) { // fell behind: the epochs are made up, not the sleeps
      next = now + t->tick_ns;
    }
    if (__atomic_load_n(&t->active, __ATOMIC_SEQ_CST) > 0) {
      idle_since = -1;
      continue;
    }
    if (idle_since < 0) {
      idle_since = now;
    }
    if (now - idle_since < t->grace_ns) {
      continue;
    }
    // Park. Marking parked before looking at active, while Go adds to
    // active before looking at parked, means one of the two sees the
    // other: no wake-up is lost.
    pthread_mutex_lock(mu);
    __atomic_store_n(&t->synced, -1, __ATOMIC_SEQ_CST);
    while (__atomic_load_n(&t->active, __ATOMIC_SEQ_CST) == 0 &&
           !__atomic_load_n(&t->stop, __ATOMIC_SEQ_CST)) {
      pthread_cond_wait(cv, mu);
    }
    now = mono_ns();
    __atomic_store_n(&t->synced, now, __ATOMIC_SEQ_CST);
    pthread_mutex_unlock(mu);
    if (__atomic_load_n(&t->stop, __ATOMIC_SEQ_CST)) {
      return NULL;
    }
    idle_since = -1;
    next = now + t->tick_ns;
  }
}

wasmpool_ticker_t *wasmpool_ticker_start(wasm_engine_t *engine,
                                         int64_t tick_ns, int64_t grace_ns,
                                         int64_t *now) {
  wasmpool_ticker_t *t = calloc(1, sizeof *t);
  pthread_t *thread = malloc(sizeof *thread);
  pthread_mutex_t *mu = malloc(sizeof *mu);
  pthread_cond_t *cv = malloc(sizeof *cv);
  if (!t || !thread || !mu || !cv) {
    goto fail;
  }
  pthread_mutex_init(mu, NULL);
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_cond_init(cv, &ca);
  pthread_condattr_destroy(&ca);
  t->engine = engine;
  t->tick_ns = tick_ns;
  t->grace_ns = grace_ns;
  t->thread = thread;
  t->mu = mu;
  t->cv = cv;
  *now = mono_ns();
  t->synced = *now;
  if (pthread_create(thread, NULL, ticker_run, t) != 0) {
    pthread_cond_destroy(cv);
    pthread_mutex_destroy(mu);
    goto fail;
  }
  return t;
fail:
  free(cv);
  free(mu);
  free(thread);
  free(t);
  return NULL;
}

typedef struct deadline {
  wasmpool_ticker_t *t;
  int64_t at;    // CLOCK_MONOTONIC ns
  int64_t slice; // ticks between checks
} deadline_t;

// deadline_check runs when a guest reaches its epoch deadline: past the
// wall-clock deadline it stops the guest; before it, it gives the core to
// whatever else is runnable (the node's own threads, other guests) and
// sets the next check, a slice or what is left away, whichever is
// sooner. The epoch may lag the clock, so a check may come early; the
// clock decides, never the epoch.
static wasmtime_error_t *deadline_check(wasmtime_context_t *context,
                                        void *data, uint64_t *delta,
                                        wasmtime_update_deadline_kind_t *kind) {
  (void)context;
  deadline_t *d = data;
  int64_t now = mono_ns();
  if (now >= d->at) {
    return wasmtime_error_new("wasm trap: interrupt: the wall-clock time limit passed");
  }
  sched_yield();
  now = mono_ns();
  int64_t tick = d->t->tick_ns;
  int64_t left = (d->at - now + tick - 1) / tick;
  *delta = (uint64_t)(left < d->slice ? (left > 0 ? left : 1) : d->slice);
  *kind = WASMTIME_UPDATE_DEADLINE_CONTINUE;
  return NULL;
}

void wasmpool_ticker_deadline(wasmpool_ticker_t *t, wasmtime_store_t *store,
                              wasmtime_context_t *context, int64_t deadline_ns,
                              int64_t slice_ticks) {
  deadline_t *d = malloc(sizeof *d);
  if (d == NULL) { // keep a plain epoch deadline: the limit still holds
    int64_t left = (deadline_ns - mono_ns()) / t->tick_ns + 1;
    wasmtime_context_set_epoch_deadline(context, (uint64_t)(left > 0 ? left : 1));
    return;
  }
  d->t = t;
  d->at = deadline_ns;
  d->slice = slice_ticks > 0 ? slice_ticks : 1;
  wasmtime_store_epoch_deadline_callback(store, deadline_check, d, free);
  int64_t left = (deadline_ns - mono_ns() + t->tick_ns - 1) / t->tick_ns;
  wasmtime_context_set_epoch_deadline(
      context, (uint64_t)(left < d->slice ? (left > 0 ? left : 1) : d->slice));
}

void wasmpool_ticker_wake(wasmpool_ticker_t *t) {
  pthread_mutex_lock(t->mu);
  pthread_cond_signal(t->cv);
  pthread_mutex_unlock(t->mu);
}

void wasmpool_ticker_stop(wasmpool_ticker_t *t) {
  __atomic_store_n(&t->stop, 1, __ATOMIC_SEQ_CST);
  wasmpool_ticker_wake(t);
  pthread_join(*(pthread_t *)t->thread, NULL);
  pthread_cond_destroy(t->cv);
  pthread_mutex_destroy(t->mu);
  free(t->cv);
  free(t->mu);
  free(t->thread);
  free(t);
}
