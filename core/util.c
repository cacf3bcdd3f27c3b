/*
 * util.c - the error convention and small helpers every core module uses.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include "vnet.h"

int vnet_pusherr(lua_State *L, const char *op, const char *obj, int err,
                 const char *detail)
{
    luaL_Buffer b;
    lua_pushnil(L);
    luaL_buffinit(L, &b);
    luaL_addstring(&b, op);
    if (obj && *obj) {
        luaL_addchar(&b, ' ');
        luaL_addstring(&b, obj);
    }
    luaL_addstring(&b, ": ");
    luaL_addstring(&b, strerror(err));
    if (detail && *detail) {
        luaL_addstring(&b, " (");
        luaL_addstring(&b, detail);
        luaL_addchar(&b, ')');
    }
    luaL_pushresult(&b);
    lua_pushinteger(L, err);
    return 3;
}

int vnet_msghandler(lua_State *L)
{
    const char *msg = lua_tostring(L, 1);
    if (msg == NULL) {
        if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
            return 1;
        msg = lua_pushfstring(L, "(error object is a %s value)",
                              luaL_typename(L, 1));
    }
    luaL_traceback(L, L, msg, 1);
    return 1;
}

int vnet_tofd(lua_State *L, int idx)
{
    int fd;
    idx = lua_absindex(L, idx);
    if (lua_isinteger(L, idx)) {
        lua_Integer n = lua_tointeger(L, idx);
        luaL_argcheck(L, n >= 0 && n <= 0x7fffffff, idx, "not a valid fd");
        return (int)n;
    }
    luaL_Stream *s = luaL_testudata(L, idx, LUA_FILEHANDLE);
    if (s) {
        luaL_argcheck(L, s->closef != NULL && s->f != NULL, idx,
                      "attempt to use a closed file");
        return fileno(s->f);
    }
    if (luaL_getmetafield(L, idx, "__index") != LUA_TNIL) {
        lua_pop(L, 1);
        lua_getfield(L, idx, "fileno");
        if (lua_isfunction(L, -1)) {
            lua_pushvalue(L, idx);
            lua_call(L, 1, 1);
            if (!lua_isinteger(L, -1))
                luaL_argerror(L, idx, ":fileno() did not return an integer");
            fd = (int)lua_tointeger(L, -1);
            lua_pop(L, 1);
            return fd;
        }
        lua_pop(L, 1);
    }
    return luaL_typeerror(L, idx, "fd, file or object with :fileno()");
}

void *vnet_testudata(lua_State *L, int idx, const char *tname,
                     const void **mt)
{
    void *p = lua_touserdata(L, idx);
    if (p == NULL || !lua_getmetatable(L, idx))
        return NULL;
    const void *m = lua_topointer(L, -1);
    lua_pop(L, 1);
    if (m == *mt)
        return p;
    p = luaL_testudata(L, idx, tname); /* another state, or another type */
    if (p) {
        lua_getmetatable(L, idx);
        *mt = lua_topointer(L, -1);
        lua_pop(L, 1);
    }
    return p;
}

void *vnet_checkudata(lua_State *L, int idx, const char *tname,
                      const void **mt)
{
    void *p = vnet_testudata(L, idx, tname, mt);
    return p ? p : luaL_checkudata(L, idx, tname);
}

int vnet_fd_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
        return -errno;
    return 0;
}

void vnet_newclass(lua_State *L, const char *tname, const luaL_Reg *meta,
                   const luaL_Reg *methods, lua_CFunction index_fn)
{
    luaL_newmetatable(L, tname);
    luaL_setfuncs(L, meta, 0);
    lua_newtable(L);                   /* the method table */
    luaL_setfuncs(L, methods, 0);
    lua_pushvalue(L, -1);
    lua_setfield(L, -3, "methods");    /* metatable.methods */
    lua_pushvalue(L, -1);
    if (index_fn)                      /* fields as well as methods */
        lua_pushcclosure(L, index_fn, 1);
    lua_setfield(L, -3, "__index");
    lua_remove(L, -2);                 /* leave the method table */
}
