/*
 * bpf.c - vnet.bpf.core: tcpdump filter expressions, compiled by libpcap
 * (pcap_compile on a dead handle of the device's link type) into classic
 * BPF, and attached where the kernel runs them: SO_ATTACH_FILTER on a
 * packet socket (psock.c), TUNATTACHFILTER on a TUN/TAP queue (here).
 *
 * libpcap compiles; vnet does not hand-write a filter compiler. What vnet
 * adds is the direction test in front of the program (the kernel's packet
 * type, SKF_AD_PKTTYPE), which libpcap only does in user space on Linux.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include <linux/filter.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <pcap/pcap.h>

#include "io/io.h"

#define SNAP 262144 /* what a matching packet keeps: all of it */

int vnet_bpf_compile(const char *expr, int dlt, int dir, struct sock_fprog *out,
                     char *err, size_t n)
{
    struct bpf_program prog = {0, NULL};
    unsigned pre = dir ? 3 : 0;
    if (expr && *expr) {
        pcap_t *p = pcap_open_dead(dlt, SNAP);
        if (p == NULL) {
            snprintf(err, n, "pcap_open_dead: out of memory");
            return -1;
        }
        if (pcap_compile(p, &prog, expr, 1, PCAP_NETMASK_UNKNOWN) < 0) {
            snprintf(err, n, "%s", pcap_geterr(p));
            pcap_close(p);
            return -1;
        }
        pcap_close(p);
    }
    unsigned body = prog.bf_len ? prog.bf_len : 1;
    struct sock_filter *f = calloc(pre + body, sizeof *f);
    if (f == NULL) {
        pcap_freecode(&prog);
        snprintf(err, n, "%s", strerror(ENOMEM));
        return -1;
    }
    if (dir) {
        /* 1 (in): drop what the kernel sends; 2 (out): keep only that */
        f[0] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_B | BPF_ABS,
                                            SKF_AD_OFF + SKF_AD_PKTTYPE);
        f[1] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
                                            PACKET_OUTGOING, dir == 2, dir != 2);
        f[2] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, 0);
    }
    if (prog.bf_len) /* struct bpf_insn and struct sock_filter: one layout */
        for (unsigned i = 0; i < prog.bf_len; i++) {
            f[pre + i].code = prog.bf_insns[i].code;
            f[pre + i].jt = prog.bf_insns[i].jt;
            f[pre + i].jf = prog.bf_insns[i].jf;
            f[pre + i].k = prog.bf_insns[i].k;
        }
    else
        f[pre] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SNAP);
    pcap_freecode(&prog);
    out->len = (unsigned short)(pre + body);
    out->filter = f;
    return 0;
}

void vnet_bpf_free(struct sock_fprog *prog)
{
    free(prog->filter);
    prog->filter = NULL;
    prog->len = 0;
}

static const char *const linknames[] = {"eth", "raw", NULL};
static const int linkdlts[] = {DLT_EN10MB, DLT_RAW};

/* compile(expr, "eth" | "raw") -> { "(000) ldh [12]", ... } (tcpdump -d)
 * | nil, "bpf.compile: <libpcap's message>" */
static int b_compile(lua_State *L)
{
    const char *expr = luaL_checkstring(L, 1);
    int dlt = linkdlts[luaL_checkoption(L, 2, "eth", linknames)];
    char err[PCAP_ERRBUF_SIZE + 64];
    struct bpf_program prog;
    pcap_t *p = pcap_open_dead(dlt, SNAP);
    if (p == NULL)
        return luaL_error(L, "bpf.compile: pcap_open_dead failed");
    if (pcap_compile(p, &prog, expr, 1, PCAP_NETMASK_UNKNOWN) < 0) {
        snprintf(err, sizeof err, "%s", pcap_geterr(p));
        pcap_close(p);
        lua_pushnil(L);
        lua_pushfstring(L, "bpf.compile '%s': %s", expr, err);
        lua_pushinteger(L, EINVAL);
        return 3;
    }
    pcap_close(p);
    lua_createtable(L, (int)prog.bf_len, 0);
    for (unsigned i = 0; i < prog.bf_len; i++) {
        lua_pushstring(L, bpf_image(&prog.bf_insns[i], (int)i));
        lua_rawseti(L, -2, i + 1);
    }
    pcap_freecode(&prog);
    return 1;
}

/* tun_filter(tap, expr | nil) -> true | nil, msg, errno: TUNATTACHFILTER
 * (the tun driver, for TAP devices only, then drops, before the queue, what does not match)
 * or TUNDETACHFILTER. */
static int b_tun_filter(lua_State *L)
{
    vnet_dev *d = vnet_dev_check(L, 1);
    const char *expr = luaL_optstring(L, 2, NULL);
    luaL_argcheck(L, d->kind == VNET_DEV_TAP, 1,
                  "not a TAP device (the kernel filters no TUN)");
    if (expr == NULL) {
        struct sock_fprog none = {0, NULL};
        if (ioctl(d->fd, TUNDETACHFILTER, &none) < 0 && errno != ENOENT)
            return vnet_pusherr(L, "filter", d->name, errno, NULL);
        lua_pushboolean(L, 1);
        return 1;
    }
    char err[PCAP_ERRBUF_SIZE + 64];
    struct sock_fprog prog;
    if (vnet_bpf_compile(expr, d->kind == VNET_DEV_TAP ? DLT_EN10MB : DLT_RAW,
                         0, &prog, err, sizeof err) < 0) {
        lua_pushnil(L);
        lua_pushfstring(L, "filter %s '%s': %s", d->name, expr, err);
        lua_pushinteger(L, EINVAL);
        return 3;
    }
    int r = ioctl(d->fd, TUNATTACHFILTER, &prog);
    int e = errno;
    vnet_bpf_free(&prog);
    if (r < 0)
        return vnet_pusherr(L, "filter", d->name, e, NULL);
    lua_pushboolean(L, 1);
    return 1;
}

/* libpcap's version string, for --version and bug reports */
static int b_version(lua_State *L)
{
    lua_pushstring(L, pcap_lib_version());
    return 1;
}

int luaopen_vnet_bpf_core(lua_State *L)
{
    static const luaL_Reg funcs[] = {
        {"compile", b_compile},
        {"tun_filter", b_tun_filter},
        {"version", b_version},
        {NULL, NULL}
    };
    luaL_newlib(L, funcs);
    return 1;
}
