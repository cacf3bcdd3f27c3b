/*
 * loop.h - what loop.c shares with task.c (the loop layer's private
 * header; nothing outside core/loop.c and core/task.c includes it).
 */
#ifndef VNET_LOOP_H
#define VNET_LOOP_H

#include <signal.h>
#include "vnet.h"

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

/* Call the function below nargs arguments at the top in the handler
 * thread (so that it may yield: it then becomes a task); h is the index of
 * a message handler. On error, route it to on_error or stop the loop.
 * Returns 0, or -1 when the loop must stop. */
int vnet_loop_call(lua_State *L, loop *lp, int nargs, int h);

/* The error message on top goes to on_error, or stops the loop (run()
 * returns it). Pops it. Returns 0 if on_error took it, else -1. */
int vnet_loop_fail(lua_State *L, loop *lp, int h);

/* Task and inspection functions of vnet.loop.core (task.c). */
void vnet_task_register(lua_State *L);

#endif
