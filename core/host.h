/*
 * host.h - what the vnet host binary's files share (main.c, repl.c,
 * preload.c); not part of the module library.
 */
#ifndef VNET_HOST_H
#define VNET_HOST_H

#include <lua.h>

/* Register every C module opener and every embedded Lua module of vnet in
 * package.preload, so require works without any file on disk. */
void vnet_preload(lua_State *L);

/* Call the function below narg arguments with a traceback handler, with
 * Ctrl-C turned into an "interrupted!" error (lua.c's docall). */
int vnet_docall(lua_State *L, int narg, int nres);

/* The interactive loop: returns at end of input. */
void vnet_repl(lua_State *L);

/* End the session (undo what it made), then die of sig: 128 + sig. */
void vnet_end_by_signal(lua_State *L, int sig);

#endif
