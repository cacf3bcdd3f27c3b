/*
 * psock.c - vnet.psock.core: a packet socket (AF_PACKET) on any link, as
 * a vnet device: read, write (inject a frame), on_packet, fileno, close.
 *
 * Receiving goes through a TPACKET_V3 ring mapped once per socket: the
 * kernel fills blocks of packets and wakes us when a block is full or its
 * retire timeout passes, so a burst is handed over in one wake-up. Each
 * packet is copied into the device's one reused packet (a packet a script
 * may change and keep writing must not point into the kernel's ring) and
 * its block goes back to the kernel as soon as its last packet is taken.
 *
 * The socket is made with protocol 0 (it sees nothing), then gets its
 * filter and ring, and only then is bound to the link and protocol: no
 * packet of another link or outside the filter ever enters the ring.
 * Writing is send(2) on the bound socket. The socket belongs to the
 * namespace it was made in (the Lua layer makes it inside ns:run).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/filter.h>
#include <linux/if_arp.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>

#include "io/io.h"

#define DLT_EN10MB 1   /* pcap's link types (pcap/dlt.h) */
#define DLT_RAW 12
#define LT_RAW 101     /* ... and LINKTYPE_RAW in files */

typedef struct psock {
    unsigned char *ring;
    size_t ring_len;
    unsigned block_size, block_nr, timeout_ms;
    unsigned cur;                    /* the block to read next */
    struct tpacket_block_desc *bd;   /* the block being read, or NULL */
    unsigned char *next;             /* its next packet */
    unsigned left;                   /* packets left in it */
    int dlt, dir, promisc, proto;
    /* the last packet handed out */
    uint32_t sec, nsec, wirelen;
    int pkttype;
    uint64_t kpackets, drops, freezes; /* PACKET_STATISTICS, summed */
    char filter[1024];
} psock;

static const char *const dirnames[] = {"both", "in", "out", NULL};

/* Nothing in the ring: 0, or -errno when the socket has an error to say
 * (ENETDOWN: the link went down or away), which epoll keeps reporting as
 * EPOLLERR until it is read. One getsockopt per drained ring, not per
 * packet. */
static long sock_error(int fd)
{
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
        return -errno;
    return -err;
}

/* Take one packet of the ring into d->rx: length, 0 when none waits, or
 * -errno. */
static long ps_recv(vnet_dev *d)
{
    psock *s = d->priv;
    vnet_packet *p = d->rx;
    for (;;) {
        if (s->bd == NULL) {
            struct tpacket_block_desc *bd =
                (void *)(s->ring + (size_t)s->cur * s->block_size);
            if (!(__atomic_load_n(&bd->hdr.bh1.block_status, __ATOMIC_ACQUIRE)
                  & TP_STATUS_USER))
                return sock_error(d->fd);
            s->bd = bd;
            s->left = bd->hdr.bh1.num_pkts;
            s->next = (unsigned char *)bd + bd->hdr.bh1.offset_to_first_pkt;
        }
        long n = -1;
        if (s->left > 0) {
            struct tpacket3_hdr *h = (void *)s->next;
            const struct sockaddr_ll *sll =
                (const void *)(s->next + TPACKET_ALIGN(sizeof *h));
            size_t len = h->tp_snaplen < p->cap ? h->tp_snaplen : p->cap;
            memcpy(p->data, s->next + h->tp_mac, len);
            p->len = len;
            s->sec = h->tp_sec;
            s->nsec = h->tp_nsec;
            s->wirelen = h->tp_len;
            s->pkttype = sll->sll_pkttype;
            s->next += h->tp_next_offset;
            s->left--;
            n = (long)len;
        }
        if (s->left == 0) { /* the block goes back to the kernel */
            __atomic_store_n(&s->bd->hdr.bh1.block_status, TP_STATUS_KERNEL,
                             __ATOMIC_RELEASE);
            s->bd = NULL;
            s->cur = (s->cur + 1) % s->block_nr;
        }
        if (n > 0) {
            d->rx_packets++;
            if (d->capture) {
                struct timespec ts = {(time_t)s->sec, (long)s->nsec};
                d->capture(d->capture_ctx, p->data, p->len,
                           s->pkttype == PACKET_OUTGOING, &ts);
            }
            return n;
        }
    }
}

static void ps_release(vnet_dev *d)
{
    psock *s = d->priv;
    if (s == NULL)
        return;
    if (s->ring)
        munmap(s->ring, s->ring_len);
    free(s);
    d->priv = NULL;
}

/* Read (and reset) the kernel's counters into the running sums. */
static void ps_stats(vnet_dev *d, psock *s)
{
    struct tpacket_stats_v3 st;
    socklen_t len = sizeof st;
    if (d->fd >= 0 &&
        getsockopt(d->fd, SOL_PACKET, PACKET_STATISTICS, &st, &len) == 0) {
        s->kpackets += st.tp_packets;
        s->drops += st.tp_drops;
        s->freezes += st.tp_freeze_q_cnt;
    }
}

static const char *pkttype_name(int t)
{
    switch (t) {
    case PACKET_HOST: return "host";
    case PACKET_BROADCAST: return "broadcast";
    case PACKET_MULTICAST: return "multicast";
    case PACKET_OTHERHOST: return "otherhost";
    case PACKET_OUTGOING: return "out";
    default: return "other";
    }
}

/* Fields of a packet socket (dev.c asks after its own). */
static int ps_index(lua_State *L, vnet_dev *d, const char *k)
{
    psock *s = d->priv;
    if (s == NULL)
        return 0;
    if (strcmp(k, "drops") == 0 || strcmp(k, "kernel_packets") == 0 ||
        strcmp(k, "freezes") == 0) {
        ps_stats(d, s);
        lua_pushinteger(L, (lua_Integer)(k[0] == 'd' ? s->drops
                                         : k[0] == 'k' ? s->kpackets
                                                       : s->freezes));
    }
    else if (strcmp(k, "linktype") == 0)
        lua_pushinteger(L, s->dlt == DLT_RAW ? LT_RAW : s->dlt);
    else if (strcmp(k, "direction") == 0) lua_pushstring(L, dirnames[s->dir]);
    else if (strcmp(k, "promisc") == 0) lua_pushboolean(L, s->promisc);
    else if (strcmp(k, "protocol") == 0) lua_pushinteger(L, s->proto);
    else if (strcmp(k, "filter") == 0) {
        if (s->filter[0]) lua_pushstring(L, s->filter);
        else lua_pushnil(L);
    }
    else if (strcmp(k, "block_size") == 0) lua_pushinteger(L, s->block_size);
    else if (strcmp(k, "blocks") == 0) lua_pushinteger(L, s->block_nr);
    else if (strcmp(k, "block_timeout") == 0) /* s:timeout() is cqueues' */
        lua_pushnumber(L, s->timeout_ms / 1000.0);
    else
        return 0;
    return 1;
}

static psock *checkps(lua_State *L, int idx)
{
    vnet_dev *d = vnet_dev_check(L, idx);
    luaL_argcheck(L, d->kind == VNET_DEV_PSOCK && d->priv, idx,
                  "not a packet socket");
    return d->priv;
}

/* s:info() -> time, sec, nsec, wire_len, pkttype of the last packet read
 * (pkttype: "host", "broadcast", "multicast", "otherhost", "out") */
static int ps_info(lua_State *L)
{
    psock *s = checkps(L, 1);
    lua_pushnumber(L, (double)s->sec + (double)s->nsec / 1e9);
    lua_pushinteger(L, s->sec);
    lua_pushinteger(L, s->nsec);
    lua_pushinteger(L, s->wirelen);
    lua_pushstring(L, pkttype_name(s->pkttype));
    return 5;
}

/* Compile and attach: 0, 1 when libpcap refused the expression (its
 * message in err), or -errno from the kernel. */
static int attach(int fd, const char *expr, int dlt, int dir, char *err,
                  size_t n)
{
    struct sock_fprog prog;
    if (vnet_bpf_compile(expr, dlt, dir, &prog, err, n) < 0)
        return 1;
    int r = setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog);
    int e = errno;
    vnet_bpf_free(&prog);
    return r < 0 ? -e : 0;
}

/* s:filter(expr | nil) -> true | nil, msg, errno: replace the kernel
 * filter (nil: every packet of the direction asked at open) */
static int ps_filter(lua_State *L)
{
    psock *s = checkps(L, 1);
    vnet_dev *d = lua_touserdata(L, 1);
    size_t len = 0;
    const char *expr = luaL_optlstring(L, 2, NULL, &len);
    luaL_argcheck(L, len < sizeof s->filter, 2, "expression too long");
    char err[512];
    int r = attach(d->fd, expr, s->dlt, s->dir, err, sizeof err);
    if (r == 1) {
        lua_pushnil(L);
        lua_pushfstring(L, "filter %s '%s': %s", d->name, expr, err);
        lua_pushinteger(L, EINVAL);
        return 3;
    }
    if (r < 0)
        return vnet_pusherr(L, "filter", d->name, -r, NULL);
    snprintf(s->filter, sizeof s->filter, "%s", expr ? expr : "");
    lua_pushboolean(L, 1);
    return 1;
}

/* The pcap link type of a link's packets on a SOCK_RAW packet socket:
 * Ethernet framing, or none (the packet starts at the IP header). */
static int dlt_of(int arphrd)
{
    switch (arphrd) {
    case ARPHRD_ETHER:
    case ARPHRD_LOOPBACK:
        return DLT_EN10MB;
    default:
        return DLT_RAW;
    }
}

/* open(link (name | ifindex), proto, promisc, dir, filter, block_size,
 * blocks, timeout_ms, op) -> psock | nil, msg, errno. Options are checked
 * by lua/vnet/psock.lua. */
static int ps_open(lua_State *L)
{
    char name[IF_NAMESIZE] = "";
    int ifindex = 0;
    if (lua_isinteger(L, 1)) {
        lua_Integer i = lua_tointeger(L, 1);
        luaL_argcheck(L, i >= 1 && i <= 0x7fffffff, 1, "ifindex out of range");
        ifindex = (int)i;
        if (if_indextoname((unsigned)ifindex, name) == NULL)
            snprintf(name, sizeof name, "#%d", ifindex);
    } else {
        size_t n;
        const char *s = luaL_checklstring(L, 1, &n);
        luaL_argcheck(L, n > 0 && n < IF_NAMESIZE && strlen(s) == n, 1,
                      "bad interface name");
        memcpy(name, s, n + 1);
    }
    lua_Integer proto = luaL_checkinteger(L, 2);
    luaL_argcheck(L, proto >= 0 && proto <= 0xffff, 2, "protocol out of range");
    int promisc = lua_toboolean(L, 3);
    int dir = luaL_checkoption(L, 4, "both", dirnames);
    size_t flen = 0;
    const char *expr = luaL_optlstring(L, 5, NULL, &flen);
    lua_Integer bs = luaL_checkinteger(L, 6), nr = luaL_checkinteger(L, 7);
    lua_Integer tov = luaL_checkinteger(L, 8);
    const char *op = luaL_optstring(L, 9, "psock.open");
    luaL_argcheck(L, flen < 1024, 5, "expression too long");
    luaL_argcheck(L, bs >= 4096 && bs <= (1 << 26) && (bs & (bs - 1)) == 0, 6,
                  "block size must be a power of 2 from 4096 to 64 MiB");
    luaL_argcheck(L, nr >= 2 && nr <= 4096 && bs * nr <= (1LL << 31), 7,
                  "blocks must be 2 to 4096, at most 2 GiB in all");
    luaL_argcheck(L, tov >= 1 && tov <= 60000, 8,
                  "timeout must be 1 ms to 60 s");

    vnet_dev *d = vnet_dev_new(L, VNET_DEV_PSOCK, 65536 + 256);
    snprintf(d->name, sizeof d->name, "%s", name);
    psock *s = calloc(1, sizeof *s);
    if (s == NULL)
        return vnet_pusherr(L, op, name, ENOMEM, NULL);
    d->priv = s;
    d->release = ps_release;
    d->index = ps_index;
    s->dir = dir;
    s->promisc = promisc;
    s->proto = (int)proto;
    s->block_size = (unsigned)bs;
    s->block_nr = (unsigned)nr;
    s->timeout_ms = (unsigned)tov;

    int fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return vnet_pusherr(L, op, name, errno, errno == EPERM
                            ? "packet sockets need CAP_NET_RAW" : NULL);
    d->fd = fd; /* from here on, __gc closes it whatever happens */

    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    if (ifindex) {
        ifr.ifr_ifindex = ifindex;
        if (ioctl(fd, SIOCGIFNAME, &ifr) < 0)
            return vnet_pusherr(L, op, name, errno, NULL);
        snprintf(d->name, sizeof d->name, "%s", ifr.ifr_name);
        snprintf(name, sizeof name, "%s", ifr.ifr_name);
    } else {
        snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", name);
        if (ioctl(fd, SIOCGIFINDEX, &ifr) < 0)
            return vnet_pusherr(L, op, name, errno, NULL);
        ifindex = ifr.ifr_ifindex;
    }
    d->ifindex = ifindex;
    if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0)
        return vnet_pusherr(L, op, name, errno, NULL);
    s->dlt = dlt_of(ifr.ifr_hwaddr.sa_family);
    d->rx->link = s->dlt == DLT_EN10MB ? VNET_LINK_ETH : VNET_LINK_RAW;

    char err[512];
    int r = attach(fd, expr, s->dlt, dir, err, sizeof err);
    if (r == 1) {
        lua_pushnil(L);
        lua_pushfstring(L, "%s %s: bad filter '%s': %s", op, name, expr, err);
        lua_pushinteger(L, EINVAL);
        return 3;
    }
    if (r < 0)
        return vnet_pusherr(L, op, name, -r, "attaching the filter");
    snprintf(s->filter, sizeof s->filter, "%s", expr ? expr : "");
    if (dir == 1) { /* cheaper than the filter's test, where it exists */
        int one = 1;
        setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one);
    }

    int v = TPACKET_V3;
    if (setsockopt(fd, SOL_PACKET, PACKET_VERSION, &v, sizeof v) < 0)
        return vnet_pusherr(L, op, name, errno, "PACKET_VERSION TPACKET_V3");
    struct tpacket_req3 req;
    memset(&req, 0, sizeof req);
    req.tp_block_size = s->block_size;
    req.tp_block_nr = s->block_nr;
    req.tp_frame_size = 2048;
    req.tp_frame_nr = s->block_size / 2048 * s->block_nr;
    req.tp_retire_blk_tov = s->timeout_ms;
    if (setsockopt(fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof req) < 0)
        return vnet_pusherr(L, op, name, errno, "PACKET_RX_RING");
    s->ring_len = (size_t)s->block_size * s->block_nr;
    void *m = mmap(NULL, s->ring_len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (m == MAP_FAILED)
        return vnet_pusherr(L, op, name, errno, "mapping the ring");
    s->ring = m;
    d->recv = ps_recv;

    struct sockaddr_ll sll;
    memset(&sll, 0, sizeof sll);
    sll.sll_family = AF_PACKET;
    sll.sll_protocol = htons((uint16_t)proto);
    sll.sll_ifindex = ifindex;
    if (bind(fd, (struct sockaddr *)&sll, sizeof sll) < 0)
        return vnet_pusherr(L, op, name, errno, NULL);
    if (promisc) {
        struct packet_mreq mr;
        memset(&mr, 0, sizeof mr);
        mr.mr_ifindex = ifindex;
        mr.mr_type = PACKET_MR_PROMISC;
        if (setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof mr) < 0)
            return vnet_pusherr(L, op, name, errno, "promiscuous mode");
    }
    return 1;
}

int luaopen_vnet_psock_core(lua_State *L)
{
    static const luaL_Reg funcs[] = {
        {"open", ps_open},
        {"info", ps_info},
        {"filter", ps_filter},
        {NULL, NULL}
    };
    luaL_newlib(L, funcs);
    vnet_dev_open_methods(L);
    lua_setfield(L, -2, "methods");
    lua_pushinteger(L, ETH_P_ALL);
    lua_setfield(L, -2, "ETH_P_ALL");
    return 1;
}
