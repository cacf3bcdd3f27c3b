/*
 * loopmod.c - the opener of vnet.loop.core: the loop's own functions
 * (loop.c), then the watchers (watcher.c) and tasks and inspection
 * (task.c) added to the same table. The three files use loop.c's
 * machinery; none of them calls back up into this one.
 */
#include "io/loop.h"

int luaopen_vnet_loop_core(lua_State *L)
{
    vnet_loop_open(L);
    vnet_watcher_register(L);
    vnet_task_register(L);
    return 1;
}
