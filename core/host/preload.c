/*
 * preload.c - package.preload entries for the host binary: the C openers,
 * and the Lua modules of lua/vnet/ embedded at build time (build/embed.c,
 * made by tools/embed.lua), so build/vnet runs from anywhere.
 */
#include <string.h>

#include <lauxlib.h>

#include "host/host.h"

struct embedded {
    const char *name;   /* module name, "vnet.tun" */
    const char *chunk;  /* chunk name, "@lua/vnet/tun.lua" */
    const char *src;
    size_t len;
};

extern const struct embedded vnet_embedded[]; /* build/embed.c */

static const luaL_Reg cmods[] = {
    {"vnet.packet.core", luaopen_vnet_packet_core},
    {"vnet.tun.core", luaopen_vnet_tun_core},
    {"vnet.loop.core", luaopen_vnet_loop_core},
    {"vnet.link.core", luaopen_vnet_link_core},
    {"vnet.batch.core", luaopen_vnet_batch_core},
    {"vnet.netns.core", luaopen_vnet_netns_core},
    {"vnet.nl.core", luaopen_vnet_nl_core},
    {"vnet.addr.core", luaopen_vnet_addr_core},
    {"vnet.macvtap.core", luaopen_vnet_macvtap_core},
    {"vnet.route.core", luaopen_vnet_route_core},
    {"vnet.neigh.core", luaopen_vnet_neigh_core},
    {"vnet.watch.core", luaopen_vnet_watch_core},
    {"vnet.proto.core", luaopen_vnet_proto_core},
    {"vnet.pcap.core", luaopen_vnet_pcap_core},
    {"vnet.tc.core", luaopen_vnet_tc_core},
    {"vnet.ping.core", luaopen_vnet_ping_core},
    {"vnet.session.core", luaopen_vnet_session_core},
    {"vnet.psock.core", luaopen_vnet_psock_core},
    {"vnet.bpf.core", luaopen_vnet_bpf_core},
    {"vnet.pcapfile.core", luaopen_vnet_pcapfile_core},
    {"vnet.pcapng.core", luaopen_vnet_pcapng_core},
    {NULL, NULL}
};

static int load_embedded(lua_State *L)
{
    const struct embedded *e = lua_touserdata(L, lua_upvalueindex(1));
    if (luaL_loadbuffer(L, e->src, e->len, e->chunk) != LUA_OK)
        return lua_error(L);
    lua_pushvalue(L, 1); /* module name */
    lua_call(L, 1, 1);
    return 1;
}

void vnet_preload(lua_State *L)
{
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
    for (const luaL_Reg *m = cmods; m->name; m++) {
        lua_pushcfunction(L, m->func);
        lua_setfield(L, -2, m->name);
    }
    for (const struct embedded *e = vnet_embedded; e->name; e++) {
        lua_pushlightuserdata(L, (void *)e);
        lua_pushcclosure(L, load_embedded, 1);
        lua_setfield(L, -2, e->name);
    }
    lua_pop(L, 1);
}
