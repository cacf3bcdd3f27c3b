/*
 * gso.c - TUN/TAP offloads: split superpackets into segments (GSO), merge
 * written segments back into superpackets (GRO), and the checksums both
 * need.
 *
 * With IFF_VNET_HDR and TUNSETOFFLOAD the kernel hands us TCP (and UDP)
 * superpackets of up to 64 KiB with a virtio_net_hdr in front and the L4
 * checksum left partial. In "segments" mode a Lua callback sees each MSS
 * segment as an ordinary packet with correct headers and checksums, and the
 * segments it writes to an offload device are coalesced here before the
 * write, so the kernel again gets one superpacket instead of 44 writes.
 *
 * Checksums are summed in memory order (RFC 1071: the ones' complement sum
 * does not care about byte order as long as it is consistent), so no
 * byte swapping happens per word.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vnet.h"

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACK 0x10
#define TCP_URG 0x20
#define TCP_ECE 0x40
#define TCP_CWR 0x80

#define GRO_MAX 65535 /* bytes from the IP header on: IPv4 total length */

static inline unsigned get16(const unsigned char *b)
{
    return (unsigned)b[0] << 8 | b[1];
}

static inline uint32_t get32(const unsigned char *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static inline void put16(unsigned char *b, unsigned v)
{
    b[0] = (unsigned char)(v >> 8);
    b[1] = (unsigned char)v;
}

static inline void put32(unsigned char *b, uint32_t v)
{
    b[0] = (unsigned char)(v >> 24);
    b[1] = (unsigned char)(v >> 16);
    b[2] = (unsigned char)(v >> 8);
    b[3] = (unsigned char)v;
}

uint64_t vnet_csum_add(uint64_t sum, const void *buf, size_t n)
{
    const unsigned char *b = buf;
    while (n >= 32) { /* four 8-byte loads a turn; 2^32 turns cannot carry out */
        uint64_t v[4];
        memcpy(v, b, 32);
        sum += (v[0] & 0xffffffff) + (v[0] >> 32) + (v[1] & 0xffffffff) +
               (v[1] >> 32) + (v[2] & 0xffffffff) + (v[2] >> 32) +
               (v[3] & 0xffffffff) + (v[3] >> 32);
        b += 32;
        n -= 32;
    }
    while (n >= 4) {
        uint32_t v;
        memcpy(&v, b, 4);
        sum += v;
        b += 4;
        n -= 4;
    }
    if (n >= 2) {
        uint16_t v;
        memcpy(&v, b, 2);
        sum += v;
        b += 2;
        n -= 2;
    }
    if (n) { /* odd byte: the first byte of a word padded with zero */
        uint16_t v = 0;
        memcpy(&v, b, 1);
        sum += v;
    }
    return sum;
}

uint16_t vnet_csum_fold(uint64_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)sum;
}

static void store_csum(unsigned char *field, uint64_t sum, int udp)
{
    uint16_t c = (uint16_t)~vnet_csum_fold(sum);
    if (udp && c == 0)
        c = 0xffff; /* zero means "no checksum" for UDP */
    memcpy(field, &c, 2);
}

void vnet_csum_complete(unsigned char *b, size_t n, unsigned start,
                        unsigned offset)
{
    if (start + offset + 2 > n)
        return;
    store_csum(b + start + offset, vnet_csum_add(0, b + start, n - start),
               offset == 6);
}

/* Sum of the pseudo-header of an L4 segment of `len` bytes; IPv6: dst is
 * where its destination is (24, or a routing header's final one). */
static uint64_t pseudo(const unsigned char *ip, unsigned proto, size_t len,
                       size_t dst)
{
    if (ip[0] >> 4 == 4) {
        unsigned char ph[4] = {0, (unsigned char)proto, (unsigned char)(len >> 8),
                               (unsigned char)len};
        return vnet_csum_add(vnet_csum_add(0, ip + 12, 8), ph, 4);
    }
    unsigned char ph[8] = {(unsigned char)(len >> 24), (unsigned char)(len >> 16),
                           (unsigned char)(len >> 8), (unsigned char)len,
                           0, 0, 0, (unsigned char)proto};
    return vnet_csum_add(vnet_csum_add(vnet_csum_add(0, ip + 8, 16),
                                       ip + dst, 16), ph, 8);
}

int vnet_l3off(const unsigned char *b, size_t n, int tap)
{
    size_t off = 0;
    unsigned type;
    if (tap) {
        if (n < 14)
            return -1;
        off = 12;
        type = get16(b + off);
        while (vnet_is_vlan_tpid(type) && off + 6 <= n) {
            off += 4;
            type = get16(b + off);
        }
        off += 2;
        if (type != 0x0800 && type != 0x86dd)
            return -1;
    }
    if (off >= n || (b[off] >> 4 != 4 && b[off] >> 4 != 6))
        return -1;
    return (int)off;
}

/* Header length (through L4) of a superpacket, or 0 if it makes no sense. */
static size_t gso_hlen(const vnet_packet *sp)
{
    size_t l4 = sp->csum_start;
    if ((sp->gso_type & ~VNET_GSO_ECN) == VNET_GSO_UDP_L4)
        return l4 + 8 <= sp->len ? l4 + 8 : 0;
    if (l4 + 20 > sp->len)
        return 0;
    size_t hl = l4 + (size_t)(sp->data[l4 + 12] >> 4) * 4;
    return hl <= sp->len && hl >= l4 + 20 ? hl : 0;
}

int vnet_gso_count(const vnet_packet *sp)
{
    size_t hl = gso_hlen(sp);
    if (sp->gso_type == 0 || sp->gso_size == 0 || hl == 0 || sp->len <= hl)
        return 1;
    size_t pay = sp->len - hl;
    return (int)((pay + sp->gso_size - 1) / sp->gso_size);
}

void vnet_gso_segment(const vnet_packet *sp, int tap, int i, vnet_packet *out)
{
    size_t hl = gso_hlen(sp), n = sp->len;
    int count = vnet_gso_count(sp);
    int l3 = vnet_l3off(sp->data, n, tap);
    out->pi_flags = sp->pi_flags;
    out->pi_proto = sp->pi_proto;
    out->vh_flags = out->gso_type = 0;
    out->hdr_len = out->gso_size = out->csum_start = out->csum_offset = 0;
    if (count == 1 || l3 < 0 || hl == 0) { /* not splittable: pass it on */
        memcpy(out->data, sp->data, n);
        out->len = n;
        if (sp->vh_flags & VNET_NEEDS_CSUM)
            vnet_csum_complete(out->data, n, sp->csum_start, sp->csum_offset);
        return;
    }
    size_t off = (size_t)i * sp->gso_size;
    size_t plen = n - hl - off < sp->gso_size ? n - hl - off : sp->gso_size;
    unsigned char *o = out->data, *ip = o + l3, *l4 = o + sp->csum_start;
    int udp = (sp->gso_type & ~VNET_GSO_ECN) == VNET_GSO_UDP_L4;
    memcpy(o, sp->data, hl);
    memcpy(o + hl, sp->data + hl + off, plen);
    out->len = hl + plen;
    if (ip[0] >> 4 == 4) {
        size_t ihl = (size_t)(ip[0] & 15) * 4;
        put16(ip + 2, (unsigned)(out->len - (size_t)l3));
        put16(ip + 4, (get16(ip + 4) + (unsigned)i) & 0xffff);
        ip[10] = ip[11] = 0;
        store_csum(ip + 10, vnet_csum_add(0, ip, ihl), 0);
    } else {
        put16(ip + 4, (unsigned)(out->len - (size_t)l3 - 40));
    }
    size_t l4len = out->len - sp->csum_start;
    if (udp) {
        put16(l4 + 4, (unsigned)l4len);
        l4[6] = l4[7] = 0;
    } else {
        put32(l4 + 4, get32(l4 + 4) + (uint32_t)off);
        if (i != count - 1) l4[13] &= (unsigned char)~(TCP_FIN | TCP_PSH);
        if (i != 0) l4[13] &= (unsigned char)~TCP_CWR;
        l4[16] = l4[17] = 0;
    }
    /* extension headers (a superpacket, not every packet): a routing
     * header may name another destination for the pseudo-header */
    size_t dst = ip[0] >> 4 == 6 && sp->csum_start > (size_t)l3 + 40
               ? vnet_ip6_pseudo_dst(ip, sp->csum_start - (size_t)l3) : 24;
    store_csum(l4 + (udp ? 6 : 16), pseudo(ip, udp ? 17 : 6, l4len, dst) +
               vnet_csum_add(0, l4, l4len), udp);
}

/* ---- GRO on write ------------------------------------------------------ */

struct vnet_gro {
    size_t len;        /* bytes held; 0 when empty */
    int count;         /* segments merged */
    int l3, l4, hl;
    uint32_t next_seq;
    size_t mss;        /* payload of the first segment */
    int closed;        /* a short or PSH segment ended it */
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

/* A TCP segment we can merge: plain IPv4 (no options, no fragment) or
 * IPv6 without extension headers, ACK set, no SYN/FIN/RST/URG/ECN, data.
 * Fills l3, l4, hl; returns the payload length or 0. */
static size_t mergeable(const unsigned char *b, size_t n, int tap, int *l3,
                        int *l4, int *hl)
{
    int o = vnet_l3off(b, n, tap);
    if (o < 0)
        return 0;
    const unsigned char *ip = b + o;
    size_t t;
    if (ip[0] >> 4 == 4) {
        if ((size_t)o + 20 > n || ip[0] != 0x45 || ip[9] != 6 ||
            (get16(ip + 6) & 0x3fff) != 0 || get16(ip + 2) != n - (size_t)o)
            return 0;
        t = (size_t)o + 20;
    } else {
        if ((size_t)o + 40 > n || ip[6] != 6 || get16(ip + 4) != n - (size_t)o - 40)
            return 0;
        t = (size_t)o + 40;
    }
    if (t + 20 > n)
        return 0;
    size_t h = t + (size_t)(b[t + 12] >> 4) * 4;
    unsigned fl = b[t + 13];
    if (h > n || h < t + 20 || !(fl & TCP_ACK) ||
        (fl & (TCP_SYN | TCP_FIN | TCP_RST | TCP_URG | TCP_ECE | TCP_CWR)))
        return 0;
    *l3 = o;
    *l4 = (int)t;
    *hl = (int)h;
    return n - h;
}

/* Does segment b continue what g holds? Same headers but for IP length,
 * id and checksum, TCP sequence, checksum and PSH. */
static int continues(const struct vnet_gro *g, const unsigned char *b,
                     int l3, int l4, int hl)
{
    const unsigned char *a = g->buf;
    if (l3 != g->l3 || l4 != g->l4 || hl != g->hl ||
        memcmp(a, b, (size_t)l3) != 0)
        return 0;
    const unsigned char *x = a + l3, *y = b + l3;
    if (x[0] >> 4 == 4) {
        if (x[1] != y[1] || x[6] != y[6] || x[8] != y[8] ||
            memcmp(x + 12, y + 12, 8) != 0)
            return 0;
    } else if (memcmp(x, y, 4) != 0 || memcmp(x + 6, y + 6, 34) != 0) {
        return 0;
    }
    x = a + l4;
    y = b + l4;
    return memcmp(x, y, 4) == 0 && get32(y + 4) == g->next_seq &&
           memcmp(x + 8, y + 8, 5) == 0 &&
           (x[13] & ~TCP_PSH) == (y[13] & ~TCP_PSH) &&
           memcmp(x + 14, y + 14, 2) == 0 && memcmp(x + 18, y + 18, 2) == 0 &&
           memcmp(x + 20, y + 20, (size_t)(hl - l4 - 20)) == 0;
}

int vnet_gro_add(vnet_dev *d, const unsigned char *b, size_t n)
{
    struct vnet_gro *g = d->gro;
    int l3, l4, hl;
    size_t pay = mergeable(b, n, d->kind == VNET_DEV_TAP, &l3, &l4, &hl);
    if (pay == 0) {
        vnet_gro_flush(d);
        return 0;
    }
    if (g->len && (g->closed || pay > g->mss ||
                   g->len + pay - (size_t)g->l3 > GRO_MAX ||
                   !continues(g, b, l3, l4, hl)))
        vnet_gro_flush(d);
    if (g->len == 0) {
        memcpy(g->buf, b, n);
        g->len = n;
        g->count = 1;
        g->l3 = l3;
        g->l4 = l4;
        g->hl = hl;
        g->mss = pay;
        g->next_seq = get32(b + l4 + 4) + (uint32_t)pay;
        g->closed = (b[l4 + 13] & TCP_PSH) != 0;
        return 1;
    }
    memcpy(g->buf + g->len, b + hl, pay);
    g->len += pay;
    g->count++;
    g->next_seq += (uint32_t)pay;
    if (pay < g->mss)
        g->closed = 1;
    if (b[l4 + 13] & TCP_PSH) {
        g->buf[l4 + 13] |= TCP_PSH;
        g->closed = 1;
    }
    return 1;
}

int vnet_gro_flush(vnet_dev *d)
{
    struct vnet_gro *g = d->gro;
    if (g == NULL || g->len == 0)
        return 0;
    vnet_vhdr vh = {0, 0, 0, 0, 0, 0};
    unsigned char *ip = g->buf + g->l3, *l4 = g->buf + g->l4;
    if (g->count > 1) {
        size_t l4len = g->len - (size_t)g->l4;
        int v4 = ip[0] >> 4 == 4;
        if (v4) {
            put16(ip + 2, (unsigned)(g->len - (size_t)g->l3));
            ip[10] = ip[11] = 0;
            store_csum(ip + 10, vnet_csum_add(0, ip, 20), 0);
        } else {
            put16(ip + 4, (unsigned)(g->len - (size_t)g->l3 - 40));
        }
        /* partial checksum: the pseudo-header sum, not complemented */
        /* (mergeable: no extension headers) */
        uint16_t ph = vnet_csum_fold(pseudo(ip, 6, l4len, 24));
        memcpy(l4 + 16, &ph, 2);
        vh.flags = VNET_NEEDS_CSUM;
        vh.gso_type = v4 ? VNET_GSO_TCPV4 : VNET_GSO_TCPV6;
        vh.hdr_len = (uint16_t)g->hl;
        vh.gso_size = (uint16_t)g->mss;
        vh.csum_start = (uint16_t)g->l4;
        vh.csum_offset = 16;
    }
    long w = vnet_dev_write_gso(d, g->buf, g->len, &vh);
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
static unsigned char split_buf[65536 + 256];

long vnet_dev_write_gso(vnet_dev *d, const unsigned char *b, size_t n,
                        const vnet_vhdr *vh)
{
    if (d->vnet_hdr && (vh->gso_type == 0 || d->gso_write))
        return vnet_dev_writev(d, vh, b, n, -1, -1);
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
