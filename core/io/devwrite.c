/*
 * devwrite.c - the write path of a packet device: one write of
 * [pi][virtio_net_hdr][bytes], and for an offload device in segments
 * mode, segments a Lua
 * callback writes to an offload device in "segments" mode are coalesced
 * here into one superpacket (GRO on write) before the write, so the
 * kernel gets one write instead of 44; a superpacket goes out with its
 * virtio_net_hdr, split (packet/gso.c) when the device takes no GSO writes.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <sys/uio.h>
#include <unistd.h>

#include <linux/if_tun.h>

#include "io/io.h"

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACK 0x10
#define TCP_URG 0x20
#define TCP_ECE 0x40
#define TCP_CWR 0x80


#define GRO_MAX 65535 /* bytes from the IP header on: IPv4 total length */

/* ---- one write ---------------------------------------------------------- */

/* The protocol for a packet-information header when the packet has none:
 * guessed from the IP version nibble on a TUN, left 0 on a TAP. */
static uint16_t guess_proto(const vnet_dev *d, const unsigned char *b,
                            size_t n)
{
    if (d->kind != VNET_DEV_TUN || n == 0)
        return 0;
    switch (b[0] >> 4) {
    case 4: return 0x0800;
    case 6: return 0x86dd;
    default: return 0;
    }
}

/* One write; queue_gso: a superpacket may be queued too (the coalescer's,
 * whose failure only counts in tx_dropped, as a plain queued write's). */
static long writev_q(vnet_dev *d, const vnet_vhdr *vh, const unsigned char *b,
                     size_t n, int pi_flags, int pi_proto, int queue_gso)
{
    struct tun_pi pi;
    vnet_wire_vhdr w = {0, 0, 0, 0, 0, 0};
    if (d->pi) {
        pi.flags = (uint16_t)(pi_flags >= 0 ? pi_flags : 0);
        pi.proto = htons(pi_proto >= 0 ? (uint16_t)pi_proto
                                       : guess_proto(d, b, n));
    }
    if (d->vnet_hdr && vh)
        w = (vnet_wire_vhdr){vh->flags & VNET_NEEDS_CSUM, vh->gso_type,
                             vh->hdr_len, vh->gso_size, vh->csum_start,
                             vh->csum_offset};
    size_t pre = vnet_dev_prefix(d);
    unsigned char *at;
    if ((queue_gso || !vh || !vh->gso_type) &&
        (at = vnet_iob_claim(d, pre + n))) {
        /* in a dispatch round: written into the arena, it leaves batched */
        if (d->pi)
            memcpy(at, &pi, sizeof pi);
        if (d->vnet_hdr)
            memcpy(at + pre - sizeof w, &w, sizeof w);
        memcpy(at + pre, b, n);
        if (d->capture)
            d->capture(d->capture_ctx, b, n, 1, NULL);
        return (long)n;
    }
    vnet_iob_flush(); /* what was queued before goes first */
    struct iovec iov[3];
    int k = 0;
    if (d->pi)
        iov[k++] = (struct iovec){&pi, sizeof pi};
    if (d->vnet_hdr)
        iov[k++] = (struct iovec){&w, sizeof w};
    iov[k++] = (struct iovec){(void *)b, n};
    ssize_t r = k == 1 ? write(d->fd, b, n) : writev(d->fd, iov, k);
    if (r < 0) {
        d->tx_errno = errno;
        return -errno;
    }
    d->tx_packets++;
    d->tx_bytes += n;
    if (d->capture)
        d->capture(d->capture_ctx, b, n, 1, NULL);
    return (size_t)r >= pre ? (long)((size_t)r - pre) : 0;
}

long vnet_dev_writev(vnet_dev *d, const vnet_vhdr *vh, const unsigned char *b,
                     size_t n, int pi_flags, int pi_proto)
{
    return writev_q(d, vh, b, n, pi_flags, pi_proto, 0);
}

/* ---- deferred flushes, per Lua state ------------------------------------ */

/* Devices whose write coalescer holds data, flushed when the loop's
 * dispatch round ends: one wake-up's segments leave as few superpackets
 * as they can. One list per Lua state (a userdata in its registry), as
 * the loop that flushes it is. */
#define MAXDEFER 64
typedef struct deferq {
    vnet_dev *dev[MAXDEFER];
    int n;
    int dispatching; /* a dispatch round is on: flush at its end */
} deferq;

static const char DEFERQ_KEY = 'q';

static deferq *getq(lua_State *L, int make)
{
    deferq *q = NULL;
    if (lua_rawgetp(L, LUA_REGISTRYINDEX, &DEFERQ_KEY) == LUA_TUSERDATA)
        q = lua_touserdata(L, -1);
    lua_pop(L, 1);
    if (q == NULL && make) {
        q = lua_newuserdatauv(L, sizeof *q, 0);
        memset(q, 0, sizeof *q);
        lua_rawsetp(L, LUA_REGISTRYINDEX, &DEFERQ_KEY);
    }
    return q;
}

void vnet_dev_defer_flush(lua_State *L, vnet_dev *d)
{
    deferq *q = getq(L, 0);
    if (q == NULL || !q->dispatching) {
        vnet_gro_flush(d);
        return;
    }
    if (d->dirty)
        return;
    if (q->n == MAXDEFER) {
        vnet_gro_flush(d);
        return;
    }
    d->dirty = 1;
    q->dev[q->n++] = d;
}

void vnet_dev_forget(lua_State *L, vnet_dev *d)
{
    deferq *q = getq(L, 0);
    for (int i = 0; q && i < q->n; i++) {
        if (q->dev[i] == d) {
            q->dev[i] = q->dev[--q->n];
            break;
        }
    }
    d->dirty = 0;
}

void vnet_dev_round(lua_State *L, int begin)
{
    deferq *q = getq(L, 1);
    q->dispatching = begin;
    if (begin) {
        vnet_iob_hold(1); /* writes queue up and leave together (iobatch.c) */
        return;
    }
    while (q->n > 0) {
        vnet_dev *d = q->dev[--q->n];
        d->dirty = 0;
        vnet_gro_flush(d);
    }
    vnet_iob_hold(0); /* the writes still queued leave now */
}

/* ---- GRO on write ------------------------------------------------------ */

static long write_gso_q(vnet_dev *d, const unsigned char *b, size_t n,
                        const vnet_vhdr *vh, int queue); /* below */

/* Datagrams a UDP superpacket carries at most: every kernel with UDP GSO
 * takes at least 64 segments in one send (its UDP_MAX_SEGMENTS). */
#define UDP_SEGS 64

struct vnet_gro {
    size_t len;        /* bytes held; 0 when empty */
    int count;         /* segments merged */
    int l3, l4, hl;
    int udp;           /* UDP datagrams (USO), else TCP segments (TSO) */
    uint32_t next_seq; /* TCP: the sequence number that continues */
    unsigned next_id;  /* UDP over IPv4 without DF: the IP id that does */
    size_t mss;        /* payload of the first segment */
    int closed;        /* a short or PSH segment ended it */
    vnet_vhdr vh;      /* the first packet's, written with it if it stays alone */
    unsigned char buf[GRO_MAX + 64];
};

struct vnet_gro *vnet_gro_new(void)
{
    struct vnet_gro *g = malloc(sizeof *g);
    if (g) {
        g->len = 0;
        g->count = 0;
    }
    return g;
}

void vnet_gro_free(struct vnet_gro *g)
{
    free(g);
}

/* Is the L4 checksum of a complete (not partial) packet right? A UDP
 * datagram over IPv4 with none (0) is taken: the superpacket gets one. */
static int l4_csum_ok(const unsigned char *b, size_t n, int l3, int l4,
                      int udp)
{
    const unsigned char *ip = b + l3;
    size_t l4len = n - (size_t)l4;
    if (udp && ip[0] >> 4 == 4 && b[l4 + 6] == 0 && b[l4 + 7] == 0)
        return 1;
    uint64_t s = vnet_pseudo_csum(ip, udp ? 17 : 6, l4len, 24);
    return vnet_csum_fold(vnet_csum_add(s, b + l4, l4len)) == 0xffff;
}

/* A packet we can merge: plain IPv4 (no options, no fragment) or IPv6
 * without extension headers, carrying TCP (ACK set, no SYN/FIN/RST/URG/ECN,
 * data) or UDP (data). Fills l3, l4, hl and udp; returns the payload
 * length or 0. */
static size_t mergeable(const unsigned char *b, size_t n, int tap, int *l3,
                        int *l4, int *hl, int *udp)
{
    int o = vnet_l3off(b, n, tap);
    if (o < 0)
        return 0;
    const unsigned char *ip = b + o;
    size_t t;
    unsigned proto;
    if (ip[0] >> 4 == 4) {
        if ((size_t)o + 20 > n || ip[0] != 0x45 ||
            (vnet_get16(ip + 6) & 0x3fff) != 0 || vnet_get16(ip + 2) != n - (size_t)o)
            return 0;
        proto = ip[9];
        t = (size_t)o + 20;
    } else {
        if ((size_t)o + 40 > n || vnet_get16(ip + 4) != n - (size_t)o - 40)
            return 0;
        proto = ip[6];
        t = (size_t)o + 40;
    }
    if (proto == 17) {
        if (t + 8 >= n || vnet_get16(b + t + 4) != n - t)
            return 0;
        *l3 = o;
        *l4 = (int)t;
        *hl = (int)t + 8;
        *udp = 1;
        return n - t - 8;
    }
    if (proto != 6 || t + 20 > n)
        return 0;
    size_t h = t + (size_t)(b[t + 12] >> 4) * 4;
    unsigned fl = b[t + 13];
    if (h > n || h < t + 20 || !(fl & TCP_ACK) ||
        (fl & (TCP_SYN | TCP_FIN | TCP_RST | TCP_URG | TCP_ECE | TCP_CWR)))
        return 0;
    *l3 = o;
    *l4 = (int)t;
    *hl = (int)h;
    *udp = 0;
    return n - h;
}

/* Does packet b continue what g holds? Same headers but for IP length, id
 * and checksum; then for TCP the same header but for sequence, checksum
 * and PSH, the sequence adjacent; for UDP the same ports, and over IPv4
 * without DF the next id (as the kernel's GRO asks). */
static int continues(const struct vnet_gro *g, const unsigned char *b,
                     int l3, int l4, int hl, int udp)
{
    const unsigned char *a = g->buf;
    if (udp != g->udp || l3 != g->l3 || l4 != g->l4 || hl != g->hl ||
        memcmp(a, b, (size_t)l3) != 0)
        return 0;
    const unsigned char *x = a + l3, *y = b + l3;
    if (x[0] >> 4 == 4) {
        if (x[1] != y[1] || x[6] != y[6] || x[8] != y[8] || x[9] != y[9] ||
            memcmp(x + 12, y + 12, 8) != 0)
            return 0;
        if (udp && !(x[6] & 0x40) && vnet_get16(y + 4) != g->next_id)
            return 0;
    } else if (memcmp(x, y, 4) != 0 || memcmp(x + 6, y + 6, 34) != 0) {
        return 0;
    }
    x = a + l4;
    y = b + l4;
    if (udp)
        return memcmp(x, y, 4) == 0;
    return memcmp(x, y, 4) == 0 && vnet_get32(y + 4) == g->next_seq &&
           memcmp(x + 8, y + 8, 5) == 0 &&
           (x[13] & ~TCP_PSH) == (y[13] & ~TCP_PSH) &&
           memcmp(x + 14, y + 14, 2) == 0 && memcmp(x + 18, y + 18, 2) == 0 &&
           memcmp(x + 20, y + 20, (size_t)(hl - l4 - 20)) == 0;
}

int vnet_gro_add(vnet_dev *d, const unsigned char *b, size_t n,
                 const vnet_vhdr *vh)
{
    static const vnet_vhdr none = {0, 0, 0, 0, 0, 0};
    struct vnet_gro *g = d->gro;
    int l3, l4, hl, udp;
    if (vh == NULL)
        vh = &none;
    size_t pay = vh->gso_type ? 0 : mergeable(b, n, d->kind == VNET_DEV_TAP,
                                              &l3, &l4, &hl, &udp);
    /* Whose checksum do we trust? A partial one (the kernel's, or one kept
     * lazy: the merge completes it as one), one the kernel checked or
     * vnet computed (VNET_DATA_VALID), or one checked here; the IPv4
     * header's always, as the merge writes a new one. A UDP superpacket
     * needs a kernel that takes USO writes (6.2: dev.offload has uso4/6). */
    if (pay) {
        const unsigned char *ip = b + l3;
        int v4 = ip[0] >> 4 == 4;
        if (v4 && vnet_csum_fold(vnet_csum_add(0, ip, 20)) != 0xffff)
            pay = 0;
        else if (udp && !(d->offload & (v4 ? TUN_F_USO4 : TUN_F_USO6)))
            pay = 0;
        else if (vh->flags & VNET_NEEDS_CSUM)
            pay = vh->csum_start == (unsigned)l4 &&
                  vh->csum_offset == (udp ? 6u : 16u) ? pay : 0;
        else if (!(vh->flags & VNET_DATA_VALID) && !l4_csum_ok(b, n, l3, l4, udp))
            pay = 0;
    }
    if (pay == 0) {
        vnet_gro_flush(d);
        return 0;
    }
    if (g->len && (g->closed || pay > g->mss ||
                   g->len + pay - (size_t)g->l3 > GRO_MAX ||
                   (udp && g->count >= UDP_SEGS) ||
                   !continues(g, b, l3, l4, hl, udp)))
        vnet_gro_flush(d);
    if (g->len == 0) {
        memcpy(g->buf, b, n);
        g->len = n;
        g->count = 1;
        g->l3 = l3;
        g->l4 = l4;
        g->hl = hl;
        g->udp = udp;
        g->mss = pay;
        g->vh = (vnet_vhdr){vh->flags & VNET_NEEDS_CSUM, 0, 0, 0,
                            vh->csum_start, vh->csum_offset};
        if (udp) {
            g->next_id = (vnet_get16(b + l3 + 4) + 1) & 0xffff;
            g->closed = 0;
        } else {
            g->next_seq = vnet_get32(b + l4 + 4) + (uint32_t)pay;
            g->closed = (b[l4 + 13] & TCP_PSH) != 0;
        }
        return 1;
    }
    memcpy(g->buf + g->len, b + hl, pay);
    g->len += pay;
    g->count++;
    if (pay < g->mss)
        g->closed = 1;
    if (udp) {
        g->next_id = (g->next_id + 1) & 0xffff;
    } else {
        g->next_seq += (uint32_t)pay;
        if (b[l4 + 13] & TCP_PSH) {
            g->buf[l4 + 13] |= TCP_PSH;
            g->closed = 1;
        }
    }
    return 1;
}

int vnet_gro_flush(vnet_dev *d)
{
    struct vnet_gro *g = d->gro;
    if (g == NULL || g->len == 0)
        return 0;
    vnet_vhdr vh = g->vh; /* alone: as it came */
    unsigned char *ip = g->buf + g->l3, *l4 = g->buf + g->l4;
    if (g->count > 1) {
        size_t l4len = g->len - (size_t)g->l4;
        int v4 = ip[0] >> 4 == 4;
        if (v4) {
            vnet_put16(ip + 2, (unsigned)(g->len - (size_t)g->l3));
            ip[10] = ip[11] = 0;
            vnet_csum_store(ip + 10, vnet_csum_add(0, ip, 20), 0);
        } else {
            vnet_put16(ip + 4, (unsigned)(g->len - (size_t)g->l3 - 40));
        }
        if (g->udp)
            vnet_put16(l4 + 4, (unsigned)l4len);
        /* partial checksum (mergeable: no extension headers) */
        unsigned off = g->udp ? 6 : 16;
        vnet_csum_store_partial(l4 + off,
                                vnet_pseudo_csum(ip, g->udp ? 17 : 6, l4len, 24));
        vh.flags = VNET_NEEDS_CSUM;
        vh.gso_type = g->udp ? VNET_GSO_UDP_L4 : v4 ? VNET_GSO_TCPV4 : VNET_GSO_TCPV6;
        vh.hdr_len = (uint16_t)g->hl;
        vh.gso_size = (uint16_t)g->mss;
        vh.csum_start = (uint16_t)g->l4;
        vh.csum_offset = (uint16_t)off;
    }
    long w = write_gso_q(d, g->buf, g->len, &vh, 1); /* in the round's batch */
    g->len = 0;
    g->count = 0;
    if (w < 0) {
        d->tx_dropped++;
        return (int)w;
    }
    return 0;
}

/* One buffer to split superpackets into when the target takes no GSO
 * writes (no vnet_hdr, or the probe at open found the kernel refuses
 * them): vnet runs one Lua state per thread, and the split is finished
 * before it returns. */
/* Scratch for one split write, reused: per thread (calls on one thread
 * never overlap, and a 64 KiB buffer per device would sit idle). */
static _Thread_local unsigned char split_buf[65536 + 256];

/* queue: a superpacket may be queued in the round's batch (iobatch.c) */
static long write_gso_q(vnet_dev *d, const unsigned char *b, size_t n,
                        const vnet_vhdr *vh, int queue)
{
    if (d->vnet_hdr && (vh->gso_type == 0 || d->gso_write))
        return writev_q(d, vh, b, n, -1, -1, queue);
    vnet_packet sp, out;
    memset(&sp, 0, sizeof sp);
    memset(&out, 0, sizeof out);
    sp.data = (unsigned char *)b;
    sp.len = sp.cap = n;
    sp.pi_flags = sp.pi_proto = -1;
    sp.vh_flags = vh->flags;
    sp.gso_type = vh->gso_type;
    sp.hdr_len = vh->hdr_len;
    sp.gso_size = vh->gso_size;
    sp.csum_start = vh->csum_start;
    sp.csum_offset = vh->csum_offset;
    out.data = split_buf;
    out.cap = sizeof split_buf;
    int count = vnet_gso_count(&sp), tap = d->kind == VNET_DEV_TAP;
    if (n > sizeof split_buf)
        return -EMSGSIZE;
    static const vnet_vhdr none = {0, 0, 0, 0, 0, 0};
    for (int i = 0; i < count; i++) {
        vnet_gso_segment(&sp, tap, i, &out);
        long w = vnet_dev_writev(d, &none, out.data, out.len, -1, -1);
        if (w < 0)
            return w;
    }
    return (long)n;
}

long vnet_dev_write_gso(vnet_dev *d, const unsigned char *b, size_t n,
                        const vnet_vhdr *vh)
{
    return write_gso_q(d, b, n, vh, 0);
}
