/*
 * exec.c - run a command inside a network namespace: ns:exec{...}.
 *
 * fork, setns in the child, exec the argument vector as given (no shell),
 * with stdout and stderr captured through one pipe and stdin from
 * /dev/null, and no other fd of the host. The parent reads the output up to a bound, kills the child
 * when it outlives its time limit, and reaps it. A command that cannot be
 * started (not found, not executable) is reported with its errno through
 * a close-on-exec pipe, as posix_spawn does. Inside a task, netns.lua
 * uses exec_start, exec_read and exec_reap instead, and the loop waits
 * for the output while other work goes on.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/close_range.h>
#include <unistd.h>

#include "netlink/nl.h"

static void child(int nsfd, char **argv, int out, int report, pid_t parent)
{
    int e;
    /* dies with the session: a command left running would hold the
     * namespace (and what is in it) after a SIGKILL (issue 11) */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(127);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL); /* the loop blocks some */
    for (int s = 1; s < NSIG; s++)
        signal(s, SIG_DFL);
    if (nsfd >= 0 && setns(nsfd, CLONE_NEWNET) < 0)
        goto fail;
    /* close-on-exec: after dup2 only fd 0 refers to it (issue 9) */
    int in = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (in < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
        goto fail;
    /* nor may any other fd of the host (a script's files, sockets, devices)
     * reach the command: mark them all close-on-exec, so `report` still
     * works until execvp succeeds. Before Linux 5.11 this is not there and
     * only vnet's own fds, all O_CLOEXEC, are kept from the command. */
    (void)syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC);
    execvp(argv[0], argv);
fail:
    e = errno;
    if (write(report, &e, sizeof e) < 0) { /* nothing more to do */ }
    _exit(127);
}

/* Start argv (the table at index 2) in ns (index 1, or nil): *pid and
 * *outfd (its stdout and stderr) on success and 0 returned; else nil, msg,
 * errno pushed and 3 returned. Leaves argv on the stack (*objp, the
 * command's name, lives there). */
static int start(lua_State *L, pid_t *pid, int *outfd, const char **objp)
{
    int nsfd = lua_isnil(L, 1) ? -1 : vnet_netns_check(L, 1)->fd;
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_Integer argc = luaL_len(L, 2);
    luaL_argcheck(L, argc >= 1 && argc < 4096, 2,
                  "needs a command: {\"prog\", \"arg\", ...}");
    char **argv = lua_newuserdatauv(L, sizeof(char *) * (size_t)(argc + 1), 0);
    luaL_checkstack(L, (int)argc + 8, "too many arguments");
    for (lua_Integer i = 1; i <= argc; i++) {
        lua_rawgeti(L, 2, i); /* stays on the stack: a number converted to
                                 a string here lives only there */
        if (!lua_isstring(L, -1))
            return luaL_error(L, "netns.exec: argument %d must be a string "
                              "(got %s)", (int)i, luaL_typename(L, -1));
        argv[i - 1] = (char *)lua_tostring(L, -1);
    }
    argv[argc] = NULL;
    const char *obj = argv[0];
    int out[2], rep[2];
    if (pipe2(out, O_CLOEXEC) < 0)
        return vnet_pusherr(L, "netns.exec", obj, errno, NULL);
    if (pipe2(rep, O_CLOEXEC) < 0) {
        int e = errno;
        close(out[0]);
        close(out[1]);
        return vnet_pusherr(L, "netns.exec", obj, e, NULL);
    }
    pid_t parent = getpid();
    *pid = fork();
    if (*pid == 0)
        child(nsfd, argv, out[1], rep[1], parent);
    int e = errno;
    close(out[1]);
    close(rep[1]);
    if (*pid < 0) {
        close(out[0]);
        close(rep[0]);
        return vnet_pusherr(L, "netns.exec", obj, e, NULL);
    }
    int why = 0;
    ssize_t got;
    while ((got = read(rep[0], &why, sizeof why)) < 0 && errno == EINTR) {}
    close(rep[0]);
    if (got > 0) { /* it never started */
        close(out[0]);
        int st;
        while (waitpid(*pid, &st, 0) < 0 && errno == EINTR) {}
        return vnet_pusherr(L, "netns.exec", obj, why,
                            why == ENOENT ? "command not found" : NULL);
    }
    *outfd = out[0];
    *objp = obj;
    return 0;
}

static int exit_status(int st)
{
    return WIFEXITED(st) ? WEXITSTATUS(st) : WIFSIGNALED(st) ? 128 + WTERMSIG(st) : -1;
}

/* exec_start(ns|nil, argv) -> pid, fd | nil, msg, errno: the command
 * runs; fd (non-blocking, close-on-exec) gives its output. For tasks,
 * which wait for fd on the loop (lua/vnet/netns.lua). */
int vnet_netns_exec_start(lua_State *L)
{
    pid_t pid;
    const char *obj;
    int fd, r = start(L, &pid, &fd, &obj);
    if (r)
        return r;
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); /* the task polls it */
    lua_pushinteger(L, pid);
    lua_pushinteger(L, fd);
    return 2;
}

/* exec_read(fd) -> bytes | "" (nothing now) | nil at end of output
 * (fd is closed then) */
int vnet_netns_exec_read(lua_State *L)
{
    int fd = (int)luaL_checkinteger(L, 1);
    char chunk[4096];
    ssize_t n;
    while ((n = read(fd, chunk, sizeof chunk)) < 0 && errno == EINTR) {}
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        lua_pushliteral(L, "");
        return 1;
    }
    if (n <= 0) {
        close(fd);
        return 0;
    }
    lua_pushlstring(L, chunk, (size_t)n);
    return 1;
}

/* exec_reap(pid [, kill [, fd]]) -> status | nil while it runs; kill:
 * SIGKILL it first and wait for it (and close its output fd) */
int vnet_netns_exec_reap(lua_State *L)
{
    pid_t pid = (pid_t)luaL_checkinteger(L, 1);
    int st = 0, k = lua_toboolean(L, 2);
    if (k && lua_isinteger(L, 3))
        close((int)lua_tointeger(L, 3));
    if (k)
        kill(pid, SIGKILL);
    pid_t r;
    while ((r = waitpid(pid, &st, k ? 0 : WNOHANG)) < 0 && errno == EINTR) {}
    if (r == 0)
        return 0;
    lua_pushinteger(L, r < 0 ? -1 : exit_status(st));
    return 1;
}

/* exec(ns|nil, argv, timeout_s, max_output) -> status, output, timed_out
 * | nil, msg, errno. status is the exit code, or 128 + signal. */
int vnet_netns_exec(lua_State *L)
{
    double timeout = luaL_optnumber(L, 3, 30);
    lua_Integer max = luaL_optinteger(L, 4, 1 << 20);
    pid_t pid;
    const char *obj;
    int fd, started = start(L, &pid, &fd, &obj);
    if (started)
        return started;
    int out[1] = {fd};
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    int timed_out = 0;
    size_t kept = 0;
    double deadline = vnet_now() + timeout;
    for (;;) {
        double left = deadline - vnet_now();
        if (left <= 0 && !timed_out) {
            kill(pid, SIGKILL);
            timed_out = 1;
        }
        struct pollfd p = {out[0], POLLIN, 0};
        int r = poll(&p, 1, timed_out ? 1000 : (int)(left * 1000) + 1);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            if (timed_out) break;
            continue;
        }
        char chunk[4096];
        ssize_t n = read(out[0], chunk, sizeof chunk);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        if (kept < (size_t)max) {
            size_t take = (size_t)n;
            if (take > (size_t)max - kept) take = (size_t)max - kept;
            luaL_addlstring(&b, chunk, take);
            kept += take;
        }
    }
    close(out[0]);
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
    if (timed_out) {
        luaL_pushresult(&b);
        lua_pushfstring(L, "killed after %f s", timeout);
        vnet_pusherr(L, "netns.exec", obj, ETIMEDOUT, lua_tostring(L, -1));
        lua_pushvalue(L, -5); /* the output so far */
        return 4;
    }
    luaL_pushresult(&b);
    lua_pushinteger(L, exit_status(st));
    lua_insert(L, -2);
    return 2;
}
