/*
 * host.h - what the vnet host binary's files share (main.c, docall.c,
 * repl.c, history.c, sandbox.c, preload.c); not part of the module
 * library. The top layer: it may use every layer below.
 */
#ifndef VNET_HOST_H
#define VNET_HOST_H

#include <lua.h>

#include "io/io.h"
#include "netlink/nl.h"

/* Register every C module opener and every embedded Lua module of vnet in
 * package.preload, so require works without any file on disk. */
void vnet_preload(lua_State *L);

/* Call the function below narg arguments with a traceback handler, with
 * Ctrl-C turned into an "interrupted!" error (lua.c's docall). */
int vnet_docall(lua_State *L, int narg, int nres);

/* docall.c: argv[0], for messages */
extern const char *vnet_progname;
/* docall.c: undo the session (vnet.session.finish, if it was loaded), with
 * the ending signals held off */
void vnet_end_session(lua_State *L);
/* End the session (undo what it made), then die of sig: 128 + sig (the
 * REPL calls it for a SIGTERM/SIGHUP that came while its prompt waited). */
void vnet_end_by_signal(lua_State *L, int sig);

/* history.c: the REPL's history file: open (and load) it, save a chunk
 * as typed (also to readline's list), trim and close it. */
void vnet_history_open(void);
void vnet_history_save(const char *entry);
void vnet_history_close(void);

/* The interactive loop: returns at end of input. */
void vnet_repl(lua_State *L);

/* sandbox.c: */
/* --netns NAME / --sandbox of the host (sandbox.c): move the process
 * before the script runs. 0, or -1 with a message in err. */
int vnet_netns_host_option(const char *name, int sandbox, char *err,
                           size_t n);

#endif
