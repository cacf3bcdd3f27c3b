/*
 * interrupt.c - Ctrl-C at the REPL against a loop callback that does not
 * return (a handler stuck in `while true do end`): the REPL's SIGINT
 * handler calls vnet_loop_interrupt, which arms a count hook on the thread
 * the callback runs in; if the callback is still running STUCK seconds
 * later, the hook raises and the dispatcher drops that watcher. A callback
 * that returns before leaves the Ctrl-C to the prompt.
 *
 * The state is process-wide, as a signal is: one host state takes Ctrl-C.
 */

#include <errno.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "io/loop.h"

lua_State *volatile vnet_loop_running;
volatile int vnet_loop_interrupted;
volatile int vnet_loop_unused_sigint;
volatile int *volatile vnet_loop_hold;

static volatile int armed;        /* a Ctrl-C came while it ran */
static volatile double armed_at;  /* when */

#define STUCK 0.25 /* s: a callback still running this long after Ctrl-C is stuck */

static void interrupt_hook(lua_State *L, lua_Debug *ar)
{
    (void)ar;
    if ((vnet_loop_hold && *vnet_loop_hold) || vnet_now() - armed_at < STUCK)
        return; /* something made, not yet journaled; or it may yet return */
    lua_sethook(L, NULL, 0, 0);
    armed = 0;
    vnet_loop_interrupted = 1;
    luaL_error(L, "interrupted by Ctrl-C: the handler is dropped "
               "(set it again to restart it)");
}

int vnet_loop_interrupt(void)
{
    lua_State *co = vnet_loop_running;
    if (co == NULL)
        return 0;
    armed_at = vnet_now();
    armed = 1;
    lua_sethook(co, interrupt_hook, LUA_MASKCOUNT, 1000);
    return 1;
}

/* vnet_loop_wake's eventfd, made by the first wait (not in a signal
 * handler); the wait has it in its epoll set while it runs. */
static volatile int wake_fd = -1;

void vnet_loop_wake(void)
{
    int saved = errno;
    if (wake_fd >= 0) {
        uint64_t one = 1;
        if (write(wake_fd, &one, sizeof one) < 0) {
            /* full (2^64 - 2 wakes unread): awake already */
        }
    }
    errno = saved;
}

int vnet_loop_wake_fd(void)
{
    if (wake_fd < 0)
        wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    return wake_fd;
}

void vnet_loop_returned(lua_State *co)
{
    if (armed) { /* it returned by itself: the Ctrl-C was for the prompt */
        armed = 0;
        lua_sethook(co, NULL, 0, 0);
        vnet_loop_unused_sigint = 1;
    }
}
