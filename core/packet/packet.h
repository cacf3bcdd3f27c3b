/*
 * packet.h - the packet layer (core/packet/): the packet buffer, where its
 * headers are, header views and their fields, checksums, and the offload
 * arithmetic (GSO segments) on bytes. What the layers above (io, the
 * fuzzer) use; packet/proto.h is the layer's own. Uses only util.
 */
#ifndef VNET_PACKET_H
#define VNET_PACKET_H

#include "util/util.h"

/* ---- packets (packet.c) ---------------------------------------------- */

#define VNET_PACKET_T "vnet.packet"
#define VNET_HEADROOM 64 /* room to push headers in front, owned packets */

typedef struct vnet_packet {
    const void *tag;     /* the class's tag (vnet_testudata) */
    unsigned char *data; /* first byte of the packet */
    size_t len;          /* bytes in the packet */
    size_t cap;          /* bytes available from data onwards */
    int pi_flags;        /* TUN packet-information header, -1 if none */
    int pi_proto;
    /* virtio_net_hdr of an offload device: a superpacket (gso_type != 0)
     * or a packet whose L4 checksum is partial (VNET_NEEDS_CSUM: the field
     * at csum_start + csum_offset holds only the pseudo-header sum) */
    uint8_t vh_flags, gso_type;
    uint16_t hdr_len, gso_size, csum_start, csum_offset;
    uint8_t link;        /* VNET_LINK_* below: what the bytes start with, set
                          * by p:linktype, build, pcap or the device that
                          * read it; VNET_LINK_AUTO: not known */
    uint8_t lazy;        /* read in segments mode with its L4 checksum
                          * partial: completed (vnet_packet_settle) before
                          * anything reads the bytes, and written on partial
                          * when nothing did */
    unsigned char store[]; /* headroom + cap bytes, when allocated inline */
} vnet_packet;

/* A packet's user values: one cached header view per kind (proto.h's
 * V_ETH .. V_TCP), at the kind's number. */
#define VNET_PACKET_VIEWS 8
/* A new packet userdata with room for `cap` bytes (len 0), on the stack. */
vnet_packet *vnet_packet_new(lua_State *L, size_t cap);
/* The same, for a packet handed to Lua again and again (a device's, a
 * capture's): it has a metatable of its own (vnet_own_metatable), so
 * `p:ipv4()` in a callback finds its method with a table hit. */
vnet_packet *vnet_packet_reused(lua_State *L, size_t cap);
/* A packet argument; check settles it (below), for what reads its bytes.
 * test does not: what only passes the packet on (dev:write) uses it. */
vnet_packet *vnet_packet_check(lua_State *L, int idx);
vnet_packet *vnet_packet_test(lua_State *L, int idx);
/* Complete the partial checksum a packet read in segments mode kept
 * (p->lazy), as Lua is promised finished checksums there: called by
 * whatever reads a packet's bytes, at no cost when there is none. */
void vnet_packet_finish(vnet_packet *p);
static inline vnet_packet *vnet_packet_settle(vnet_packet *p)
{
    if (p && p->lazy)
        vnet_packet_finish(p);
    return p;
}
/* Bytes of a packet or a string argument. */
const unsigned char *vnet_checkbytes(lua_State *L, int idx, size_t *len);

/* What a packet starts with: an IP (or ARP) header, or an Ethernet
 * header (proto.h's LINK_RAW and LINK_ETH). */
#define VNET_LINK_AUTO 0 /* not known: guessed from the bytes */
#define VNET_LINK_RAW 1
#define VNET_LINK_ETH 2
/* VNET_LINK_RAW or VNET_LINK_ETH for a packet whose link type nobody set. */
int vnet_guess_link(const unsigned char *b, size_t len);

/* ---- offload arithmetic (gso.c) ---------------------------------- */

#define VNET_NEEDS_CSUM 1          /* VIRTIO_NET_HDR_F_NEEDS_CSUM */
/* VIRTIO_NET_HDR_F_DATA_VALID: the L4 checksum is known right (the kernel
 * checked it, or vnet computed it: a segment, a finished packet). Writes
 * of raw bytes (set_u8 .. put, resize) drop it; it is never written out.
 * The write coalescer trusts it instead of checking the sum again. */
#define VNET_DATA_VALID 2
#define VNET_GSO_TCPV4 1
#define VNET_GSO_UDP_L4 5
#define VNET_GSO_TCPV6 4
#define VNET_GSO_ECN 0x80

typedef struct vnet_vhdr {  /* struct virtio_net_hdr, host order */
    uint8_t flags, gso_type;
    uint16_t hdr_len, gso_size, csum_start, csum_offset;
} vnet_vhdr;

/* Internet checksum helpers: sum in memory order, fold, complement. */
uint64_t vnet_csum_add(uint64_t sum, const void *buf, size_t n);
static inline uint16_t vnet_csum_fold(uint64_t sum) /* not complemented */
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)sum;
}
/* Finish a partial L4 checksum (VNET_NEEDS_CSUM) in place. */
void vnet_csum_complete(unsigned char *b, size_t n, unsigned start,
                        unsigned offset);
/* The checksum for sum (folded, complemented) into the 2 bytes at field;
 * udp: a zero result is sent as 0xffff (zero means "none" for UDP). */
void vnet_csum_store(unsigned char *field, uint64_t sum, int udp);
/* A partial checksum into the 2 bytes at field: sum (the pseudo-header's)
 * folded, not complemented, as a checksum offload is handed it. */
void vnet_csum_store_partial(unsigned char *field, uint64_t sum);
/* Sum of the pseudo-header of an L4 segment of `len` bytes with protocol
 * proto behind the IP header at ip; IPv6: dst is where its destination is
 * (24, or a routing header's final one). */
uint64_t vnet_pseudo_csum(const unsigned char *ip, unsigned proto, size_t len,
                          size_t dst);
/* Big-endian fields. */
static inline unsigned vnet_get16(const unsigned char *b)
{
    return (unsigned)b[0] << 8 | b[1];
}

static inline uint32_t vnet_get32(const unsigned char *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static inline void vnet_put16(unsigned char *b, unsigned v)
{
    b[0] = (unsigned char)(v >> 8);
    b[1] = (unsigned char)v;
}

static inline void vnet_put32(unsigned char *b, uint32_t v)
{
    b[0] = (unsigned char)(v >> 24);
    b[1] = (unsigned char)(v >> 16);
    b[2] = (unsigned char)(v >> 8);
    b[3] = (unsigned char)v;
}

/* Number of segments a superpacket splits into (1 if not GSO). */
int vnet_gso_count(const vnet_packet *sp);
/* Build segment i of superpacket sp into out (full checksums); tap: the
 * packet starts with an Ethernet header. */
void vnet_gso_segment(const vnet_packet *sp, int tap, int i, vnet_packet *out);
/* The same with the segment's L4 checksum left partial and out->lazy set:
 * finished when something reads its bytes, else by the kernel (or merged
 * again, partial, by the write coalescer). */
void vnet_gso_segment_lazy(const vnet_packet *sp, int tap, int i,
                           vnet_packet *out);
/* The VLAN tag types (802.1Q 0x8100, 802.1ad 0x88a8, QinQ 0x9100): one
 * list, in parse.c, for the parser, the builder, gso.c and io/devwrite.c. */
#define VNET_NVLAN_TPIDS 3
extern const unsigned vnet_vlan_tpids[VNET_NVLAN_TPIDS];
int vnet_is_vlan_tpid(unsigned type);

/* Where, from an IPv6 header at ip with n bytes of headers after it up to
 * the transport, the destination its pseudo-header uses is: 24, or the
 * final one of a routing header with segments left (RFC 8200 8.1). */
size_t vnet_ip6_pseudo_dst(const unsigned char *ip, size_t n);

/* Offset of the IP header: 0 on a TUN, after Ethernet (and VLAN tags) on
 * a TAP; -1 when it is not IPv4/IPv6. */
int vnet_l3off(const unsigned char *b, size_t n, int tap);

/* ---- module openers ---------------------------------------------- */

int luaopen_vnet_packet_core(lua_State *L);
int luaopen_vnet_proto_core(lua_State *L);

#endif
