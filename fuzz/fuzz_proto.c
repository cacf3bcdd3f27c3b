/*
 * fuzz_proto.c - libFuzzer target over the header parsers and setters:
 * core/packet/parse.c, field.c, csum.c, proto.c and describe.c.
 *
 * Each input goes two ways:
 *   - straight into the C parser, vnet_parse(), for every link type, every
 *     kind of header and a few network-header offsets, and into the
 *     address-text parsers;
 *   - through a Lua state holding vnet.packet.core, vnet.proto.core and
 *     lua/vnet/proto.lua, where fuzz/driver.lua takes header views, reads
 *     and sets their fields, fixes and checks checksums, swaps, makes
 *     replies and prints, as a script would, and checks that what must
 *     hold does (see the driver's header). A broken rule aborts.
 *
 * The Lua sources are read at start-up from VNET_SRC (the checkout, set
 * by fuzz/fuzz.mk), or from $VNET_SRC when that is set.
 *
 *   make fuzz                 60 s (FUZZ_SECONDS), corpus in build/fuzz
 *   build/fuzz/fuzz_proto crash-file     replay one input
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>

#include "packet/proto.h"

#ifndef VNET_SRC
#define VNET_SRC "."
#endif

static lua_State *L;
static int driver = LUA_NOREF;

static int l_fail(lua_State *l)
{
    fprintf(stderr, "fuzz_proto: a rule is broken: %s\n",
            luaL_checkstring(l, 1));
    abort();
}

static const char *src_dir(void)
{
    const char *d = getenv("VNET_SRC");
    return d && *d ? d : VNET_SRC;
}

/* Load the Lua file dir/rel (a chunk), or die saying why. */
static void load(const char *rel)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", src_dir(), rel);
    if (luaL_loadfile(L, path) != LUA_OK) {
        fprintf(stderr, "fuzz_proto: %s\n(set VNET_SRC to the checkout)\n",
                lua_tostring(L, -1));
        exit(2);
    }
}

/* package.preload["vnet.proto"]: lua/vnet/proto.lua, read once. */
static int load_proto(lua_State *l)
{
    (void)l;
    load("lua/vnet/proto.lua");
    lua_pushstring(L, "vnet.proto");
    lua_call(L, 1, 1);
    return 1;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    L = luaL_newstate();
    luaL_openlibs(L);
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
    lua_pushcfunction(L, luaopen_vnet_packet_core);
    lua_setfield(L, -2, "vnet.packet.core");
    lua_pushcfunction(L, luaopen_vnet_proto_core);
    lua_setfield(L, -2, "vnet.proto.core");
    lua_pushcfunction(L, load_proto);
    lua_setfield(L, -2, "vnet.proto");
    lua_pop(L, 1);
    load("fuzz/driver.lua");
    lua_pushcfunction(L, l_fail);
    if (lua_pcall(L, 1, 1, 0) != LUA_OK || !lua_isfunction(L, -1)) {
        fprintf(stderr, "fuzz_proto: fuzz/driver.lua: %s\n",
                lua_tostring(L, -1));
        exit(2);
    }
    driver = luaL_ref(L, LUA_REGISTRYINDEX);
    return 0;
}

/* The C parser alone, every way it can be asked. */
static void parse_all(const unsigned char *b, size_t n)
{
    static const int wants[] = {V_ETH, V_ARP, V_IPV4, V_IPV6, V_IP,
                                V_ICMP, V_ICMP6, V_UDP, V_TCP};
    long offs[] = {-1, 0, 14, 18, 28, 40, 48, n ? (long)b[0] : 1,
                   (long)n, (long)n + 1};
    layers ly;
    vnet_guess_link(b, n);
    for (int link = LINK_RAW; link <= LINK_ETH; link++)
        for (size_t o = 0; o < sizeof offs / sizeof offs[0]; o++)
            for (size_t w = 0; w < sizeof wants / sizeof wants[0]; w++) {
                int ok = vnet_parse(b, n, link, offs[o], wants[w], &ly);
                if (!ok && ly.why[0] == 0) {
                    fprintf(stderr, "fuzz_proto: vnet_parse failed "
                            "without a reason\n");
                    abort();
                }
                if (ok && (ly.l3end > n || ly.l4 + ly.l4hlen > n ||
                           ly.l3 + ly.l3hlen > n)) {
                    fprintf(stderr, "fuzz_proto: vnet_parse found headers"
                            " past the end\n");
                    abort();
                }
            }
    /* address text: the input as a C string */
    char s[64];
    size_t k = n < sizeof s - 1 ? n : sizeof s - 1;
    memcpy(s, b, k);
    s[k] = 0;
    unsigned char a[16];
    vnet_parse_ip4(s, a);
    vnet_parse_ip6(s, a);
    vnet_parse_mac(s, a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    parse_all(data, size);
    lua_pushcfunction(L, vnet_msghandler);
    lua_rawgeti(L, LUA_REGISTRYINDEX, driver);
    lua_pushlstring(L, (const char *)data, size);
    if (lua_pcall(L, 1, 0, -3) != LUA_OK) {
        /* the API raised where it should have returned nil, reason (or the
         * driver is wrong): either way, keep the input */
        fprintf(stderr, "fuzz_proto: unexpected error: %s\n",
                lua_tostring(L, -1));
        abort();
    }
    lua_pop(L, 1);
    /* Free what this input made now: libFuzzer runs LeakSanitizer after
     * any input that malloc'ed more than it freed, which is slow, and
     * leaks in the C code would then hide among objects the collector
     * has not got to yet. */
    lua_gc(L, LUA_GCCOLLECT);
    return 0;
}
