/*
 * netns.c - vnet.netns.core: network namespaces held by an fd.
 *
 * A namespace object ("vnet.netns") holds an fd on a namespace, which keeps
 * it alive; an anonymous namespace dies with its last fd (and its devices
 * with it). lua/vnet/netns.lua builds create/run on these primitives.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vnet.h"

#define NETNS_T "vnet.netns"

typedef struct ns {
    int fd;
} ns;

static ns *newns(lua_State *L)
{
    ns *n = lua_newuserdatauv(L, sizeof *n, 1);
    n->fd = -1;
    luaL_setmetatable(L, NETNS_T);
    return n;
}

static ns *checkns(lua_State *L, int idx)
{
    ns *n = luaL_checkudata(L, idx, NETNS_T);
    if (n->fd < 0)
        luaL_error(L, "attempt to use a closed netns");
    return n;
}

/* open(path, name) -> ns | nil, msg, errno */
static int n_open(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    const char *name = luaL_optstring(L, 2, path);
    ns *n = newns(L);
    n->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (n->fd < 0)
        return vnet_pusherr(L, "netns.open", name, errno, NULL);
    lua_pushstring(L, name);
    lua_setiuservalue(L, -2, 1);
    return 1;
}

/* unshare() -> true | nil, msg, errno: move this thread into a new one */
static int n_unshare(lua_State *L)
{
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
    ns *n = checkns(L, 1);
    if (setns(n->fd, CLONE_NEWNET) < 0) {
        lua_getiuservalue(L, 1, 1);
        return vnet_pusherr(L, "netns.enter", lua_tostring(L, -1), errno,
                            NULL);
    }
    lua_pushboolean(L, 1);
    return 1;
}

static int n_fileno(lua_State *L)
{
    lua_pushinteger(L, checkns(L, 1)->fd);
    return 1;
}

/* ns:id() -> the namespace's inode number: equal ids, same namespace */
static int n_id(lua_State *L)
{
    struct stat st;
    if (fstat(checkns(L, 1)->fd, &st) < 0)
        return vnet_pusherr(L, "netns.id", "", errno, NULL);
    lua_pushinteger(L, (lua_Integer)st.st_ino);
    return 1;
}

static int n_close(lua_State *L)
{
    ns *n = luaL_checkudata(L, 1, NETNS_T);
    if (n->fd >= 0) {
        close(n->fd);
        n->fd = -1;
    }
    return 0;
}

static int n_tostring(lua_State *L)
{
    ns *n = luaL_checkudata(L, 1, NETNS_T);
    lua_getiuservalue(L, 1, 1);
    const char *name = lua_isstring(L, -1) ? lua_tostring(L, -1)
                                           : "(anonymous)";
    if (n->fd < 0)
        lua_pushfstring(L, "vnet.netns: %s (closed)", name);
    else
        lua_pushfstring(L, "vnet.netns: %s (fd %d)", name, n->fd);
    return 1;
}

static int n_index(lua_State *L)
{
    luaL_checkudata(L, 1, NETNS_T);
    lua_pushvalue(L, 2);
    if (lua_rawget(L, lua_upvalueindex(1)) != LUA_TNIL)
        return 1;
    if (lua_type(L, 2) == LUA_TSTRING && strcmp(lua_tostring(L, 2), "name") == 0)
        lua_getiuservalue(L, 1, 1);
    return 1;
}

static int n_setname(lua_State *L)
{
    checkns(L, 1);
    lua_settop(L, 2);
    lua_setiuservalue(L, 1, 1);
    return 0;
}

int luaopen_vnet_netns_core(lua_State *L)
{
    static const luaL_Reg funcs[] = {
        {"open", n_open}, {"unshare", n_unshare}, {"enter", n_enter},
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
    vnet_newclass(L, NETNS_T, meta, methods, n_index);
    lua_setfield(L, -2, "methods");
    return 1;
}
