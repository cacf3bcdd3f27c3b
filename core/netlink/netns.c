/*
 * netns.c - vnet.netns.core: network namespaces held by an fd.
 *
 * A namespace object ("vnet.netns") holds an fd on a namespace, which keeps
 * it alive; an anonymous namespace dies with its last fd (and its devices
 * with it). A named namespace is bound to a file under /run/netns, as
 * `ip netns add` does, so iproute2 sees it; it lives until it is deleted.
 * lua/vnet/netns.lua builds create/open/run/delete on these primitives;
 * exec.c runs commands inside one.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/nsfs.h>

#include "netlink/nl.h"

#define RUN_DIR "/run/netns"
#define SELF "/proc/thread-self/ns/net"

/* What this process did to /run/netns, so deleting its last namespace can
 * undo it and leave the machine as it found it (process-wide: the mount and
 * the directory are the machine's, undone once, at exit at the latest). */
static int made_dir, made_mount;

/* An fd still open on a deleted namespace keeps the directory busy; the
 * last try is at exit, when every namespace object has been closed. */
static void rmdir_at_exit(void)
{
    if (made_dir && !made_mount)
        rmdir(RUN_DIR);
}

static vnet_netns *newns(lua_State *L)
{
    vnet_netns *n = lua_newuserdatauv(L, sizeof *n, 2);
    n->fd = -1;
    luaL_setmetatable(L, VNET_NETNS_T);
    return n;
}

/* open(path, name|nil, named_path|nil) -> ns | nil, msg, errno */
static int n_open(lua_State *L)
{
    const char *path = vnet_checkname(L, 1, PATH_MAX - 1, "netns.open", "path");
    const char *name = luaL_optstring(L, 2, path);
    vnet_netns *n = newns(L);
    n->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (n->fd < 0) {
        int e = errno;
        return vnet_pusherr(L, "netns.open", name, e,
                            e == ENOENT ? "no such namespace: see `ip netns "
                                          "list` or vnet.netns.list()" : NULL);
    }
    if (ioctl(n->fd, NS_GET_NSTYPE) != CLONE_NEWNET) {
        close(n->fd);
        n->fd = -1;
        return vnet_pusherr(L, "netns.open", name, EINVAL,
                            "not a network namespace");
    }
    lua_pushstring(L, name);
    lua_setiuservalue(L, -2, 1);
    if (lua_isstring(L, 3)) {
        lua_pushvalue(L, 3);
        lua_setiuservalue(L, -2, 2);
    }
    return 1;
}

/* unshare() -> true | nil, msg, errno: move this thread into a new one */
static int n_unshare(lua_State *L)
{
    vnet_netns_moved();
    if (unshare(CLONE_NEWNET) < 0)
        return vnet_pusherr(L, "netns.create", "", errno,
                            errno == EPERM ? "needs CAP_SYS_ADMIN: run as root"
                                           : NULL);
    lua_pushboolean(L, 1);
    return 1;
}

/* enter(ns) -> true | nil, msg, errno */
static int n_enter(lua_State *L)
{
    vnet_netns *n = vnet_netns_check(L, 1);
    vnet_netns_moved();
    if (setns(n->fd, CLONE_NEWNET) < 0) {
        lua_getiuservalue(L, 1, 1);
        return vnet_pusherr(L, "netns.enter", lua_tostring(L, -1), errno,
                            NULL);
    }
    lua_pushboolean(L, 1);
    return 1;
}

/* current_id() -> inode of the calling thread's namespace */
static int n_current_id(lua_State *L)
{
    dev_t dev;
    ino_t ino;
    int r = vnet_netns_self(&dev, &ino);
    if (r < 0)
        return vnet_pusherr(L, "netns.current", "", -r, NULL);
    lua_pushinteger(L, (lua_Integer)ino);
    return 1;
}

/* /run/netns exists and is a shared mount point, as iproute2 makes it, so
 * that bind mounts made under it propagate to every mount namespace. */
static int prepare_run_dir(void)
{
    if (mkdir(RUN_DIR, 0755) == 0)
        made_dir = 1;
    else if (errno != EEXIST)
        return -errno;
    if (mount("", RUN_DIR, "none", MS_SHARED | MS_REC, NULL) == 0)
        return 0;
    if (errno != EINVAL)
        return -errno;
    /* not a mount point yet: bind it onto itself, then share it */
    if (mount(RUN_DIR, RUN_DIR, "none", MS_BIND | MS_REC, NULL) < 0)
        return -errno;
    made_mount = 1;
    if (mount("", RUN_DIR, "none", MS_SHARED | MS_REC, NULL) < 0)
        return -errno;
    return 0;
}

/* add_named(name) -> path | nil, msg, errno: a new namespace bound to
 * /run/netns/<name>; the caller stays where it was. */
static int n_add_named(lua_State *L)
{
    const char *op = "netns.create";
    const char *name = vnet_checkname(L, 1, NAME_MAX, op, "name");
    char path[sizeof RUN_DIR + NAME_MAX + 1];
    snprintf(path, sizeof path, RUN_DIR "/%s", name);
    int r = prepare_run_dir();
    if (r < 0)
        return vnet_pusherr(L, op, name, -r, -r == EPERM || -r == EACCES
                            ? "making " RUN_DIR " a shared mount needs "
                              "CAP_SYS_ADMIN: run as root" : NULL);
    int fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
    if (fd < 0)
        return vnet_pusherr(L, op, name, errno, errno == EEXIST
                            ? "a namespace of that name exists: "
                              "vnet.netns.open(name) uses it" : NULL);
    close(fd);
    int home = open(SELF, O_RDONLY | O_CLOEXEC), e = 0;
    vnet_netns_moved();
    if (home < 0) {
        e = errno;
    } else if (unshare(CLONE_NEWNET) < 0) {
        e = errno;
    } else {
        if (mount(SELF, path, "none", MS_BIND, NULL) < 0)
            e = errno;
        if (setns(home, CLONE_NEWNET) < 0) {
            close(home);
            return vnet_error(L, "netns.create %s: cannot return to the "
                              "original namespace: %s", name, strerror(errno));
        }
    }
    if (home >= 0) close(home);
    if (e) {
        unlink(path);
        return vnet_pusherr(L, op, name, e, e == EPERM
                            ? "needs CAP_SYS_ADMIN: run as root" : NULL);
    }
    lua_pushstring(L, path);
    return 1;
}

/* del_named(path, name) -> true | nil, msg, errno: unbind and remove the
 * file; when this process made /run/netns and it is now empty, undo that. */
static int n_del_named(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    const char *name = luaL_optstring(L, 2, path);
    if (umount2(path, MNT_DETACH) < 0 && errno != EINVAL)
        return vnet_pusherr(L, "netns.delete", name, errno, NULL);
    if (unlink(path) < 0)
        return vnet_pusherr(L, "netns.delete", name, errno, NULL);
    if ((made_mount || made_dir) && rmdir(RUN_DIR) < 0 && errno == EBUSY &&
        made_mount) {
        DIR *d = opendir(RUN_DIR);
        int empty = 1;
        for (struct dirent *e; d && (e = readdir(d));)
            if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
                empty = 0;
        if (d) closedir(d);
        if (empty && umount2(RUN_DIR, MNT_DETACH) == 0) {
            made_mount = 0;
            if (made_dir && rmdir(RUN_DIR) == 0)
                made_dir = 0;
            else if (made_dir)
                atexit(rmdir_at_exit);
        }
    } else if (made_dir && access(RUN_DIR, F_OK) < 0) {
        made_dir = 0;
    }
    lua_pushboolean(L, 1);
    return 1;
}

/* names(dir) -> { name, ... } sorted (empty when dir does not exist) */
static int n_names(lua_State *L)
{
    const char *dir = luaL_optstring(L, 1, RUN_DIR);
    lua_newtable(L);
    DIR *d = opendir(dir);
    if (d == NULL)
        return 1;
    int i = 0;
    for (struct dirent *e; (e = readdir(d));)
        if (e->d_name[0] != '.') {
            lua_pushstring(L, e->d_name);
            lua_rawseti(L, -2, ++i);
        }
    closedir(d);
    lua_getglobal(L, "table");
    lua_getfield(L, -1, "sort");
    lua_pushvalue(L, -3);
    lua_call(L, 1, 0);
    lua_pop(L, 1);
    return 1;
}

static int n_fileno(lua_State *L)
{
    lua_pushinteger(L, vnet_netns_check(L, 1)->fd);
    return 1;
}

/* ns:id() -> the namespace's inode number: equal ids, same namespace */
static int n_id(lua_State *L)
{
    struct stat st;
    if (fstat(vnet_netns_check(L, 1)->fd, &st) < 0)
        return vnet_pusherr(L, "netns.id", "", errno, NULL);
    lua_pushinteger(L, (lua_Integer)st.st_ino);
    return 1;
}

static int n_close(lua_State *L)
{
    vnet_netns *n = luaL_checkudata(L, 1, VNET_NETNS_T);
    if (n->fd >= 0) {
        struct stat st;
        dev_t here_dev;
        ino_t here;
        /* the netlink socket cached for that namespace would keep it (and
         * its links) alive after its last object is gone */
        if (fstat(n->fd, &st) == 0 && vnet_netns_self(&here_dev, &here) == 0 &&
            st.st_ino != here)
            vnet_nl_forget((unsigned long)st.st_dev, (unsigned long)st.st_ino);
        close(n->fd);
        n->fd = -1;
    }
    return 0;
}

static int n_tostring(lua_State *L)
{
    vnet_netns *n = luaL_checkudata(L, 1, VNET_NETNS_T);
    lua_getiuservalue(L, 1, 1);
    const char *name = lua_isstring(L, -1) ? lua_tostring(L, -1)
                                           : "(anonymous)";
    if (n->fd < 0)
        lua_pushfstring(L, "vnet.netns: %s (closed)", name);
    else
        lua_pushfstring(L, "vnet.netns: %s (fd %d)", name, n->fd);
    return 1;
}

/* Fields: name (nil when anonymous), path (of a named one), closed. */
static int n_index(lua_State *L)
{
    vnet_netns *n = luaL_checkudata(L, 1, VNET_NETNS_T);
    lua_pushvalue(L, 2);
    if (lua_rawget(L, lua_upvalueindex(1)) != LUA_TNIL)
        return 1;
    const char *k = lua_tostring(L, 2);
    if (k && strcmp(k, "name") == 0)
        lua_getiuservalue(L, 1, 1);
    else if (k && strcmp(k, "path") == 0)
        lua_getiuservalue(L, 1, 2);
    else if (k && strcmp(k, "closed") == 0)
        lua_pushboolean(L, n->fd < 0);
    return 1;
}

static int n_setname(lua_State *L)
{
    vnet_netns_check(L, 1);
    lua_settop(L, 3);
    lua_pushvalue(L, 2);
    lua_setiuservalue(L, 1, 1);
    lua_setiuservalue(L, 1, 2);
    return 0;
}

int luaopen_vnet_netns_core(lua_State *L)
{
    static const luaL_Reg funcs[] = {
        {"open", n_open}, {"unshare", n_unshare}, {"enter", n_enter},
        {"current_id", n_current_id}, {"add_named", n_add_named},
        {"del_named", n_del_named}, {"names", n_names}, {"exec", vnet_netns_exec},
        {"exec_start", vnet_netns_exec_start}, {"exec_read", vnet_netns_exec_read},
        {"exec_reap", vnet_netns_exec_reap},
        {NULL, NULL}
    };
    static const luaL_Reg meta[] = {
        {"__gc", n_close}, {"__close", n_close}, {"__tostring", n_tostring},
        {NULL, NULL}
    };
    static const luaL_Reg methods[] = {
        {"fileno", n_fileno}, {"id", n_id}, {"close", n_close},
        {"_setname", n_setname},
        {NULL, NULL}
    };
    luaL_newlib(L, funcs);
    vnet_newclass(L, VNET_NETNS_T, meta, methods, n_index);
    lua_setfield(L, -2, "methods");
    return 1;
}
