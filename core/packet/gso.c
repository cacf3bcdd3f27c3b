/*
 * gso.c - TUN/TAP offloads on bytes: split superpackets into segments
 * (GSO) and the checksums that and io/devwrite.c's coalescing (GRO) need.
 *
 * With IFF_VNET_HDR and TUNSETOFFLOAD the kernel hands us TCP (and UDP)
 * superpackets of up to 64 KiB with a virtio_net_hdr in front and the L4
 * checksum left partial. In "segments" mode a Lua callback sees each MSS
 * segment as an ordinary packet with correct headers and checksums (kept
 * partial until something reads its bytes), and the segments it writes to
 * an offload device are coalesced again (io/devwrite.c) before the write,
 * so the kernel again gets one superpacket instead of 44 writes.
 *
 * Checksums are summed in memory order (RFC 1071: the ones' complement sum
 * does not care about byte order as long as it is consistent), so no
 * byte swapping happens per word.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "packet/packet.h"

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACK 0x10
#define TCP_URG 0x20
#define TCP_ECE 0x40
#define TCP_CWR 0x80

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

void vnet_csum_store(unsigned char *field, uint64_t sum, int udp)
{
    uint16_t c = (uint16_t)~vnet_csum_fold(sum);
    if (udp && c == 0)
        c = 0xffff; /* zero means "no checksum" for UDP */
    memcpy(field, &c, 2);
}

void vnet_csum_store_partial(unsigned char *field, uint64_t sum)
{
    uint16_t c = vnet_csum_fold(sum);
    memcpy(field, &c, 2); /* sums are in memory order */
}

void vnet_csum_complete(unsigned char *b, size_t n, unsigned start,
                        unsigned offset)
{
    if (start + offset + 2 > n)
        return;
    vnet_csum_store(b + start + offset, vnet_csum_add(0, b + start, n - start),
               offset == 6);
}

uint64_t vnet_pseudo_csum(const unsigned char *ip, unsigned proto, size_t len,
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
        type = vnet_get16(b + off);
        while (vnet_is_vlan_tpid(type) && off + 6 <= n) {
            off += 4;
            type = vnet_get16(b + off);
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

/* Segment i of sp into out; lazy: its L4 checksum left partial (the
 * pseudo-header sum, VNET_NEEDS_CSUM) and out->lazy set, for the first
 * read of its bytes (vnet_packet_settle) or the kernel to finish. */
static void segment(const vnet_packet *sp, int tap, int i, vnet_packet *out,
                    int lazy)
{
    size_t hl = gso_hlen(sp), n = sp->len;
    int count = vnet_gso_count(sp);
    int l3 = vnet_l3off(sp->data, n, tap);
    out->pi_flags = sp->pi_flags;
    out->pi_proto = sp->pi_proto;
    out->vh_flags = out->gso_type = 0;
    out->hdr_len = out->gso_size = out->csum_start = out->csum_offset = 0;
    out->lazy = 0;
    if (count == 1 || l3 < 0 || hl == 0) { /* not splittable: pass it on */
        memcpy(out->data, sp->data, n);
        out->len = n;
        out->vh_flags = sp->vh_flags & VNET_DATA_VALID;
        if (!(sp->vh_flags & VNET_NEEDS_CSUM))
            return;
        if (lazy) {
            out->vh_flags = VNET_NEEDS_CSUM;
            out->csum_start = sp->csum_start;
            out->csum_offset = sp->csum_offset;
            out->lazy = 1;
            return;
        }
        vnet_csum_complete(out->data, n, sp->csum_start, sp->csum_offset);
        out->vh_flags = VNET_DATA_VALID;
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
        vnet_put16(ip + 2, (unsigned)(out->len - (size_t)l3));
        vnet_put16(ip + 4, (vnet_get16(ip + 4) + (unsigned)i) & 0xffff);
        ip[10] = ip[11] = 0;
        vnet_csum_store(ip + 10, vnet_csum_add(0, ip, ihl), 0);
    } else {
        vnet_put16(ip + 4, (unsigned)(out->len - (size_t)l3 - 40));
    }
    size_t l4len = out->len - sp->csum_start;
    if (udp) {
        vnet_put16(l4 + 4, (unsigned)l4len);
        l4[6] = l4[7] = 0;
    } else {
        vnet_put32(l4 + 4, vnet_get32(l4 + 4) + (uint32_t)off);
        if (i != count - 1) l4[13] &= (unsigned char)~(TCP_FIN | TCP_PSH);
        if (i != 0) l4[13] &= (unsigned char)~TCP_CWR;
        l4[16] = l4[17] = 0;
    }
    /* extension headers (a superpacket, not every packet): a routing
     * header may name another destination for the pseudo-header */
    size_t dst = ip[0] >> 4 == 6 && sp->csum_start > (size_t)l3 + 40
               ? vnet_ip6_pseudo_dst(ip, sp->csum_start - (size_t)l3) : 24;
    unsigned at = udp ? 6 : 16; /* the checksum field */
    uint64_t ph = vnet_pseudo_csum(ip, udp ? 17 : 6, l4len, dst);
    if (lazy) {
        vnet_csum_store_partial(l4 + at, ph);
        out->vh_flags = VNET_NEEDS_CSUM;
        out->csum_start = sp->csum_start;
        out->csum_offset = (uint16_t)at;
        out->lazy = 1;
        return;
    }
    vnet_csum_store(l4 + at, ph + vnet_csum_add(0, l4, l4len), udp);
    out->vh_flags = VNET_DATA_VALID; /* computed here */
}

void vnet_gso_segment(const vnet_packet *sp, int tap, int i, vnet_packet *out)
{
    segment(sp, tap, i, out, 0);
}

void vnet_gso_segment_lazy(const vnet_packet *sp, int tap, int i,
                           vnet_packet *out)
{
    segment(sp, tap, i, out, 1);
}
