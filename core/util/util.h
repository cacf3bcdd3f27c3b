/*
 * util.h - the bottom layer of vnet's C core (core/util/): the error
 * convention, argument checks at the border, small helpers every module
 * uses, and the text of addresses. Uses nothing of vnet's above it.
 */
#ifndef VNET_UTIL_H
#define VNET_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include <sys/types.h>
#include <lua.h>
#include <lauxlib.h>

#define VNET_VERSION "0.1.0"

/* ---- errors (util.c) ------------------------------------------------- */

/* Push nil, "<op> <obj>: strerror(err)[ (detail)]", err and return 3:
 * the system-failure convention of every vnet function (luaL_fileresult). */
int vnet_pusherr(lua_State *L, const char *op, const char *obj, int err,
                 const char *detail);

/* Misuse errors point at the user's line: the position of the first stack
 * frame outside vnet's own Lua modules (lua/vnet/NAME.lua) and C functions,
 * as luaL_where does one level up. vnet_where pushes "file:line: " (or "");
 * vnet_error raises the formatted message (lua_pushfstring's formats). */
void vnet_where(lua_State *L);
int vnet_error(lua_State *L, const char *fmt, ...);
/* nl.core's raise(msg) and where(), the Lua side of the above: sets them
 * in the table on top of the stack. */
void vnet_err_funcs(lua_State *L);

/* Range checks at the border: the integer at idx, or raise "op: what must
 * be an integer (got x)" / "op: what N out of range (lo to hi)". */
lua_Integer vnet_checkrange(lua_State *L, int idx, const char *op,
                            const char *what, lua_Integer lo, lua_Integer hi);
/* An ifindex: 1 to 2^31-1 (the kernel's int). */
int vnet_checkifindex(lua_State *L, int idx, const char *op);
/* A uid or gid: 0 to 2^32-2 ((uid_t)-1 means "no change" to the kernel). */
uint32_t vnet_checkid(lua_State *L, int idx, const char *op, const char *what);
/* A name or path that goes to a fixed buffer or the kernel: a string of 1
 * to maxlen bytes without NUL. */
const char *vnet_checkname(lua_State *L, int idx, size_t maxlen,
                           const char *op, const char *what);

/* The integer t[key] of the option table at idx, or dflt when it is nil;
 * raises "op obj: option 'key' N out of range (lo to hi)" (or not an
 * integer) otherwise. */
lua_Integer vnet_optfield(lua_State *L, int idx, const char *key,
                          const char *op, const char *obj, lua_Integer lo,
                          lua_Integer hi, lua_Integer dflt);

/* Push and return s (len bytes) for a message: NUL bytes shown as "\0". */
const char *vnet_shown(lua_State *L, const char *s, size_t len);

/* Message handler for lua_pcall: appends a traceback (lua.c's msghandler). */
int vnet_msghandler(lua_State *L);

/* The fd behind a Lua value: an integer, a Lua file handle, or any object
 * with a :fileno() method. Raises on anything else. */
int vnet_tofd(lua_State *L, int idx);

/* The userdata types on the per-packet path (packet, device, header view)
 * begin with a tag: the address of a static object of their class, which
 * Lua code cannot forge. Testing one is two API calls (the userdata and its
 * size), where luaL_testudata's metatable comparison takes five and a
 * registry lookup by name. vnet_testudata: the userdata at idx, at least
 * `size` bytes and starting with `tag`, or NULL; vnet_checkudata raises
 * luaL_checkudata's error ("vnet.packet expected, got table") instead. */
static inline void *vnet_testudata(lua_State *L, int idx, const void *tag,
                                   size_t size)
{
    /* a light userdata has no size: rawlen 0 keeps it from being read */
    const void *const *u = lua_touserdata(L, idx);
    return u && lua_rawlen(L, idx) >= size && *u == tag ? (void *)u : NULL;
}
/* (inline: it runs twice for every packet a callback writes) */
static inline void *vnet_checkudata(lua_State *L, int idx, const char *tname,
                                    const void *tag, size_t size)
{
    void *u = vnet_testudata(L, idx, tag, size);
    if (u == NULL)
        luaL_typeerror(L, idx, tname);
    return u;
}

/* Create metatable `tname` with the metamethods `meta` and a method table
 * built from `methods`, kept as metatable.methods so the Lua layer can add
 * methods. __index is the method table, or index_fn with the method table
 * as upvalue 1 when the type also has fields. Leaves the method table on
 * the stack. */
void vnet_newclass(lua_State *L, const char *tname, const luaL_Reg *meta,
                   const luaL_Reg *methods, lua_CFunction index_fn);

/* Metatables of their own, for objects whose methods run per packet (a
 * device, the packet it hands to callbacks): its __index is a table that
 * holds the class's methods, so `fb:write(p)` or `p:ipv4()` finds its
 * method with a table hit instead of a call of the class's __index
 * function. That table (the proxy) keeps the object at proxy[tag] and
 * has a metatable whose __index hands the object to index_fn, for its
 * fields and for methods added to the class later.
 * vnet_proxy_class: once per class, after vnet_newclass(tname), with the
 * class's __index function (it finds methods in its upvalue 1, the method
 * table; then fields). vnet_own_metatable: the object on top gets its own
 * metatable: the class metatable's entries, __index the proxy. */
void vnet_proxy_class(lua_State *L, const char *tname, const void *tag,
                      lua_CFunction index_fn);
void vnet_own_metatable(lua_State *L, const char *tname, const void *tag);

/* The monotonic clock: ns, and s as a float (util.c). */
uint64_t vnet_now_ns(void);
double vnet_now(void);

/* ---- signal names (signame.c) --------------------------------------- */

/* "INT", "TERM", ... for a signal number ("?" if unknown), and back (0 if
 * unknown; no "SIG" prefix either way). */
const char *vnet_signame(int signo);
int vnet_signo(const char *name);

/* ---- address text (addrtext.c) -------------------------------------- */

/* buf needs 46 bytes (INET6_ADDRSTRLEN); returns length. */
size_t vnet_fmt_ip4(char *buf, const unsigned char *a);
size_t vnet_fmt_ip6(char *buf, const unsigned char *a);
size_t vnet_fmt_mac(char *buf, const unsigned char *a);
/* Parse text into out (4, 16 or 6 bytes); 1 on success. */
int vnet_parse_ip4(const char *s, unsigned char *out);
int vnet_parse_ip6(const char *s, unsigned char *out);
int vnet_parse_mac(const char *s, unsigned char *out);

#endif
