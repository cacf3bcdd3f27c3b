/*
 * loop.h - what loop.c, watcher.c and task.c share, and the drain's hooks
 * into iobatch.c (the loop's private header: only these files include it).
 */
#ifndef VNET_LOOP_H
#define VNET_LOOP_H

#include <signal.h>
#include <stdint.h>
#include "io/io.h"

#define WATCHER_T "vnet.watcher"

enum { W_READ, W_WRITE, W_TIMER, W_SIGNAL, W_PACKET };

typedef struct watcher {
    int kind;
    int fd;        /* the fd in epoll */
    int owned;     /* fd is ours to close (timerfd, signalfd) */
    int active;
    int signo;
    int waiter;    /* W_PACKET of a task waiting: called with nil on close */
    unsigned gen;  /* bumped by every handler swap */
    double after, every;
    vnet_dev *dev; /* W_PACKET */
    vnet_dev *to;  /* W_PACKET: where the handler's packets go (user value 3) */
} watcher;

typedef struct loop {
    int epfd;
    int running;
    int stop;
    int nactive;          /* active watchers: run() ends at 0 */
    int sigfd;            /* run()'s default INT/TERM signalfd, or -1 */
    int errh;             /* registry ref of on_error handler, or LUA_NOREF */
    int adopt;            /* registry ref of vnet.loop's task adopter */
    lua_State *co;        /* the thread handlers run in, until one yields */
    int coref;            /* its registry ref */
    int sigcount[_NSIG];  /* active signal watchers per signal */
    int quit_signo;
} loop;

/* The loop of this Lua state, NULL before vnet.loop.core is opened. */
loop *vnet_loop_get(lua_State *L);

/* call.c: call the function below nargs arguments at the top in the handler
 * thread (so that it may yield: it then becomes a task); h is the index of
 * a message handler. On error, route it to on_error or stop the loop.
 * Returns 0; 1 when on_error took its error; -1 when the loop must stop. */
int vnet_loop_call(lua_State *L, loop *lp, int nargs, int h);

/* call.c: the error message on top goes to on_error, or stops the loop (run()
 * returns it). Pops it. Returns 1 if on_error took it, else -1. */
int vnet_loop_fail(lua_State *L, loop *lp, int h);

/* loop.c: a new watcher on the stack, active in epoll, with fn at fnidx
 * and its target (kept alive) at tidx or 0. Misuse raises; a system
 * failure pushes nil, msg, errno (naming op) and returns NULL. */
watcher *vnet_w_start(lua_State *L, const char *op, int kind, int fd,
                      int owned, uint32_t events, int fnidx, int tidx);
/* Take w out of epoll and the anchor table (safe twice). */
void vnet_w_deactivate(lua_State *L, watcher *w);
/* Push the active watcher w, or nil. */
void vnet_loop_push_watcher(lua_State *L, watcher *w);
/* call.c: pop the error message on top: run() returns it, the loop stops.
 * And take it back: push the pending error and clear it (1), or 0. */
void vnet_loop_set_error(lua_State *L, loop *lp);
int vnet_loop_take_error(lua_State *L);

/* loop.c, for step() in task.c: one turn of up to ms; the events
 * handled, or -1 with a callback's error (on_error did not take it) on
 * top. And the table of active watchers, pushed. */
int vnet_loop_step(lua_State *L, loop *lp, int ms);
void vnet_loop_push_anchors(lua_State *L);


/* loop.c: make this state's loop (once) and push the table of run, stop,
 * on_error, ... (the start of vnet.loop.core). */
void vnet_loop_open(lua_State *L);

/* interrupt.c, for vnet_loop_call: the thread a callback runs in now (NULL
 * between callbacks), and the call to make when it returned. */
extern lua_State *volatile vnet_loop_running;
void vnet_loop_returned(lua_State *co);

/* interrupt.c, for vnet_loop_wait_fd: the eventfd vnet_loop_wake writes
 * (made on first use; -1 if it could not be). */
int vnet_loop_wake_fd(void);

/* drain.c: hand w's device's packets to its handler (the watcher at widx,
 * the message handler at h), as many as one wake-up's budget allows.
 * Returns -1 when reading the device failed (the error is run()'s: the
 * watcher is to stop), else 0. */
int vnet_loop_drain(lua_State *L, loop *lp, watcher *w, int widx, int h);

/* iobatch.c: the loop's drain of d ended (the next one reads afresh). */
void vnet_iob_done(vnet_dev *d);
/* iobatch.c: packets of d read ahead and not yet handed out. */
int vnet_iob_held(const vnet_dev *d);

/* The functions of vnet.loop.core beyond run/stop/...: watchers (watcher.c;
 * also sets field watcher_methods), tasks, inspection and the face to
 * other event loops (task.c). */
void vnet_watcher_register(lua_State *L);
void vnet_task_register(lua_State *L);

#endif
