/*
 * vnet.h - declarations shared by the C core of vnet.
 *
 * Each core/<concept>.c opens one Lua module (vnet.<concept>.core); this
 * header holds the few types and helpers they share: the error convention,
 * the packet buffer and the packet device (TUN/TAP/macvtap fd).
 */
#ifndef VNET_H
#define VNET_H

#include <stddef.h>
#include <stdint.h>

#include <sys/types.h>
#include <lua.h>
#include <lauxlib.h>

#define VNET_VERSION "0.1.0"

/* ---- errors (util.c) ------------------------------------------------- */

/* Push nil, "<op> <obj>: strerror(err)[ (detail)]", err and return 3:
 * the system-failure convention of every vnet function (luaL_fileresult). */
int vnet_pusherr(lua_State *L, const char *op, const char *obj, int err,
                 const char *detail);

/* Misuse errors point at the user's line: the position of the first stack
 * frame outside vnet's own Lua modules (lua/vnet/NAME.lua) and C functions,
 * as luaL_where does one level up. vnet_where pushes "file:line: " (or "");
 * vnet_error raises the formatted message (lua_pushfstring's formats). */
void vnet_where(lua_State *L);
int vnet_error(lua_State *L, const char *fmt, ...);
/* nl.core's raise(msg) and where(), the Lua side of the above: sets them
 * in the table on top of the stack. */
void vnet_err_funcs(lua_State *L);

/* Range checks at the border: the integer at idx, or raise "op: what must
 * be an integer (got x)" / "op: what N out of range (lo to hi)". */
lua_Integer vnet_checkrange(lua_State *L, int idx, const char *op,
                            const char *what, lua_Integer lo, lua_Integer hi);
/* An ifindex: 1 to 2^31-1 (the kernel's int). */
int vnet_checkifindex(lua_State *L, int idx, const char *op);
/* A uid or gid: 0 to 2^32-2 ((uid_t)-1 means "no change" to the kernel). */
uint32_t vnet_checkid(lua_State *L, int idx, const char *op, const char *what);
/* A name or path that goes to a fixed buffer or the kernel: a string of 1
 * to maxlen bytes without NUL. */
const char *vnet_checkname(lua_State *L, int idx, size_t maxlen,
                           const char *op, const char *what);

/* The one address syntax (inaddr.c): "a.b.c.d" or an IPv6 address, with
 * an optional "/len" (decimal, up to 32 or 128, nothing after it). Fills
 * family (AF_INET/AF_INET6), out (4 or 16 bytes) and plen (-1 without
 * "/len"); 0, or -1 for anything else (NUL bytes too). */
int vnet_parse_cidr(const char *s, size_t len, int *family,
                    unsigned char out[16], int *plen);

/* The same as a libnl address (with its prefix length: the address's own
 * length without "/len"); NULL when s is not one, is of another family
 * than family (AF_UNSPEC: any), or has a "/len" and prefix_ok is 0. */
struct nl_addr;
struct nl_addr *vnet_nl_parse(const char *s, size_t len, int family,
                              int prefix_ok);

/* The integer t[key] of the option table at idx, or dflt when it is nil;
 * raises "op obj: option 'key' N out of range (lo to hi)" (or not an
 * integer) otherwise. */
lua_Integer vnet_optfield(lua_State *L, int idx, const char *key,
                          const char *op, const char *obj, lua_Integer lo,
                          lua_Integer hi, lua_Integer dflt);

/* Push and return s (len bytes) for a message: NUL bytes shown as "\0". */
const char *vnet_shown(lua_State *L, const char *s, size_t len);

/* Message handler for lua_pcall: appends a traceback (lua.c's msghandler). */
int vnet_msghandler(lua_State *L);

/* The fd behind a Lua value: an integer, a Lua file handle, or any object
 * with a :fileno() method. Raises on anything else. */
int vnet_tofd(lua_State *L, int idx);

/* luaL_testudata without the registry lookup by name: the metatable is
 * compared by address with *mt, recorded when the class was made (and
 * re-recorded from the registry when another Lua state made it since). */
void *vnet_testudata(lua_State *L, int idx, const char *tname,
                     const void **mt);
void *vnet_checkudata(lua_State *L, int idx, const char *tname,
                      const void **mt);

/* Set or clear O_NONBLOCK/FD_CLOEXEC; returns 0 or -errno. */
int vnet_fd_nonblock(int fd);

/* Create metatable `tname` with the metamethods `meta` and a method table
 * built from `methods`, kept as metatable.methods so the Lua layer can add
 * methods. __index is the method table, or index_fn with the method table
 * as upvalue 1 when the type also has fields. Leaves the method table on
 * the stack. */
void vnet_newclass(lua_State *L, const char *tname, const luaL_Reg *meta,
                   const luaL_Reg *methods, lua_CFunction index_fn);

/* ---- packets (packet.c) ---------------------------------------------- */

#define VNET_PACKET_T "vnet.packet"
#define VNET_HEADROOM 64 /* room to push headers in front, owned packets */

typedef struct vnet_packet {
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
    unsigned char store[]; /* headroom + cap bytes, when allocated inline */
} vnet_packet;

/* A new packet userdata with room for `cap` bytes (len 0), on the stack. */
vnet_packet *vnet_packet_new(lua_State *L, size_t cap);
vnet_packet *vnet_packet_check(lua_State *L, int idx);
vnet_packet *vnet_packet_test(lua_State *L, int idx);
/* Bytes of a packet or a string argument. */
const unsigned char *vnet_checkbytes(lua_State *L, int idx, size_t *len);

/* ---- packet devices (dev.c) ------------------------------------------ */

#define VNET_DEV_T "vnet.dev"
#define VNET_DEV_CAPTURE 1 /* vnet_dev has the capture hook */
#define VNET_LINK_RAW 1    /* what a device's packets start with */
#define VNET_LINK_ETH 2
void vnet_packet_set_link(lua_State *L, int idx, int link); /* proto.c */

struct vnet_vhdr;
struct vnet_gro;
struct timespec;

enum { VNET_DEV_TUN = 1, VNET_DEV_TAP = 2, VNET_DEV_PSOCK = 3 };

typedef struct vnet_dev {
    int fd;              /* -1 once closed */
    int kind;            /* VNET_DEV_TUN or VNET_DEV_TAP */
    int pi;              /* 4-byte packet information header in use */
    int vnet_hdr;        /* IFF_VNET_HDR in use (header size below) */
    int vnet_hdr_sz;
    int persist;         /* TUNSETPERSIST was set by us */
    int ifindex;
    unsigned flags;      /* IFF_* used at open */
    char name[16];
    vnet_packet *rx;     /* the reused receive packet (uservalue 1) */
    vnet_packet *seg;    /* the reused segment packet (uservalue 3) */
    unsigned offload;    /* TUN_F_* the kernel accepted (offload = true) */
    int segments;        /* split superpackets for Lua, coalesce writes */
    int gso_write;       /* the kernel takes GSO writes (else we split) */
    int gso_write_err;   /* the errno that turned GSO writes off */
    int seg_next, seg_count; /* segments of rx left to hand out */
    int dirty;           /* the coalescer holds data: flush pending */
    struct vnet_gro *gro;/* write coalescer (segments mode) */
    uint64_t tx_dropped; /* deferred writes the kernel refused */
    /* pcap capture (pcap.c): every packet read (out 0) or written (out 1),
     * with the time the kernel stamped it (a packet socket's ring) or NULL
     * for now */
    void (*capture)(void *ctx, const unsigned char *b, size_t n, int out,
                    const struct timespec *ts);
    void *capture_ctx;
    void *watch;         /* the loop's on_packet watcher, if any */
    void (*unwatch)(lua_State *L, void *watch); /* called by close */
    uint64_t rx_packets, tx_packets;
    uint64_t rx_bytes, tx_bytes;
    /* the loop's on_packet dispatch: calls, errors, time (ns) */
    uint64_t handler_calls, handler_errors, handler_ns;
    struct vnet_ring *ring; /* copies of the last packets read (task.c) */
    /* a device that is not a TUN/TAP fd (psock.c: a packet socket with a
     * receive ring) brings its own receive, close and fields */
    long (*recv)(struct vnet_dev *d);     /* instead of read(2) */
    void (*release)(struct vnet_dev *d);  /* at close, before the fd goes */
    int (*index)(lua_State *L, struct vnet_dev *d, const char *k); /* 1: pushed */
    void *priv;
    /* batched reads (iobatch.c): what the loop's drain may read ahead in
     * one call (0 outside a drain), and the packets read ahead */
    int batch;
    int iob_off;         /* the kernel refused RWF_NOWAIT on this fd */
    struct vnet_iob *iob;
} vnet_dev;

/* Push a new closed device (fd -1) with its receive packet; the caller
 * then fills fd and the rest. */
vnet_dev *vnet_dev_new(lua_State *L, int kind, size_t mtu_room);
vnet_dev *vnet_dev_check(lua_State *L, int idx);   /* raises when closed */
vnet_dev *vnet_dev_test(lua_State *L, int idx);    /* NULL if not a dev */
/* Read one packet into dev->rx: >0 length, 0 nothing waiting, <0 -errno. */
long vnet_dev_recv(vnet_dev *d);
/* The next packet for Lua: a segment of the current superpacket, or a new
 * read. Returns the user value holding it (1 rx, 3 seg), 0 when nothing
 * waits, or -errno. */
int vnet_dev_next(vnet_dev *d);
/* One write: [pi][virtio_net_hdr][b]; the pi header (if the device has
 * one) from pi_flags/pi_proto, -1 for defaults. Bytes of b or -errno. */
long vnet_dev_writev(vnet_dev *d, const struct vnet_vhdr *vh,
                     const unsigned char *b, size_t n, int pi_flags,
                     int pi_proto);

/* For iobatch.c: n bytes of packet are in dev->rx's data, their headers
 * ([pi][virtio_net_hdr], as the device has them) at hdr; fill the fields
 * and counters as a read does. Returns n. */
long vnet_dev_took(vnet_dev *d, const unsigned char *hdr, size_t n);

/* ---- batched device I/O through io_uring (iobatch.c) ----------------- */

#define VNET_IOB_PASS (-0x7fffffffL - 1) /* not batched: read(2) it */
/* "io_uring", or "read/write" with *err the errno that refused the ring
 * (0: turned off). Makes the ring on first use. */
const char *vnet_iob_mode(int *err);
/* io_uring_enter calls made so far, and the reads and writes they took. */
void vnet_iob_counts(uint64_t *calls, uint64_t *ops);
/* What a device's loop reads and writes go through. */
const char *vnet_iob_dev_mode(const vnet_dev *d);
/* Turn batching off (0) or try it again (1); returns whether it is on. */
int vnet_iob_enable(int on);
/* vnet_dev_recv's batch: a packet read ahead, or up to dev->batch read in
 * one call. As vnet_dev_recv, or VNET_IOB_PASS. */
long vnet_iob_recv(vnet_dev *d);
/* The drain of d ended: the next one reads afresh. */
void vnet_iob_done(vnet_dev *d);
/* Queue a write of [hdr pre bytes][b n bytes] while the loop dispatches:
 * 1 queued (it leaves by the end of the round), 0 write it yourself. */
int vnet_iob_write(vnet_dev *d, const unsigned char *hdr, size_t pre,
                   const unsigned char *b, size_t n);
/* Submit the queued writes and reap them (before any direct write). */
void vnet_iob_flush(void);
/* The loop's dispatch round begins (1) or ends (0, which flushes). */
void vnet_iob_hold(int on);
/* At a device's close: its queued writes leave, its read batch goes. */
void vnet_iob_release(vnet_dev *d);

/* ---- kernel filters (bpf.c) ------------------------------------------ */

struct sock_fprog;
/* Compile a tcpdump expression (NULL or "": every packet) for the pcap
 * link type dlt (DLT_EN10MB, DLT_RAW) into a classic BPF program, with a
 * direction test in front (0 both, 1 only received, 2 only sent: the
 * kernel's packet type). 0 and *out filled (vnet_bpf_free it), or -1 with
 * libpcap's message in err. */
int vnet_bpf_compile(const char *expr, int dlt, int dir, struct sock_fprog *out,
                     char *err, size_t n);
void vnet_bpf_free(struct sock_fprog *prog);

/* ---- offloads (gso.c) ------------------------------------------------ */

#define VNET_NEEDS_CSUM 1          /* VIRTIO_NET_HDR_F_NEEDS_CSUM */
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
uint16_t vnet_csum_fold(uint64_t sum); /* folded, not complemented */
/* Finish a partial L4 checksum (VNET_NEEDS_CSUM) in place. */
void vnet_csum_complete(unsigned char *b, size_t n, unsigned start,
                        unsigned offset);
/* Number of segments a superpacket splits into (1 if not GSO). */
int vnet_gso_count(const vnet_packet *sp);
/* Build segment i of superpacket sp into out (full checksums); tap: the
 * packet starts with an Ethernet header. */
void vnet_gso_segment(const vnet_packet *sp, int tap, int i, vnet_packet *out);
/* The VLAN tag types (802.1Q 0x8100, 802.1ad 0x88a8, QinQ 0x9100): one
 * list, in core/parse.c, for the parser, the builder and gso.c. */
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

/* Coalescer (GRO on write) for an offload device in segments mode. */
struct vnet_gro *vnet_gro_new(void);
void vnet_gro_free(struct vnet_gro *g);
/* Take a plain segment into the coalescer: 1 taken, 0 not coalescable
 * (the caller writes it itself, after a flush). May flush first. */
int vnet_gro_add(vnet_dev *d, const unsigned char *b, size_t n);
/* Write what the coalescer holds; 0 or -errno. */
int vnet_gro_flush(vnet_dev *d);
/* Write a superpacket (or partial-checksum packet) with its header; splits
 * it when the device takes no GSO writes. Returns bytes or -errno. */
long vnet_dev_write_gso(vnet_dev *d, const unsigned char *b, size_t n,
                        const vnet_vhdr *vh);

/* ---- loop hooks (loop.c) --------------------------------------------- */

/* Called by a device whose coalescer holds data: flushed when the current
 * dispatch round ends, or at once outside the loop. */
void vnet_loop_defer_flush(vnet_dev *d);
void vnet_loop_forget(vnet_dev *d);
/* For the REPL: turn the loop until fd is readable (1), a signal
 * interrupted the wait (0), or a callback's error is left on the stack
 * (-1); after_turn (or NULL) runs after every round of events. */
int vnet_loop_wait_fd(lua_State *L, int fd, void (*after_turn)(void));
/* The packet ring (dev:keep): a copy of every packet read; freed by close. */
struct vnet_ring;
void vnet_ring_put(struct vnet_ring *r, const unsigned char *b, size_t n);
void vnet_ring_free(struct vnet_ring *r);
int vnet_dev_open_methods(lua_State *L); /* pushes the method table */

/* ---- netlink (nl.c, nla.c) ------------------------------------------ */

struct nl_sock;
struct nl_msg;
struct nlmsghdr;
struct nlattr;

/* Socket for the calling thread's current network namespace (cached and
 * reopened when the namespace changed); NULL with *err = errno. */
struct nl_sock *vnet_nl_sock(int *err);

/* Drop the cached socket if it is the one of namespace (dev, ino), so that
 * it does not keep a namespace that is being let go alive. */
void vnet_nl_forget(unsigned long dev, unsigned long ino);

/* netns.c: the calling thread's network namespace (cached; every setns or
 * unshare vnet makes calls vnet_netns_moved() first) */
int vnet_netns_self(dev_t *dev, ino_t *ino);
void vnet_netns_moved(void);

/* Called for each data message of a reply; return 0 or -errno. */
typedef int (*vnet_nl_each)(struct nlmsghdr *h, void *arg);

#define VNET_NL_DUMP_TRIES 10

/* Send msg (consumed) and read its replies up to the ack or NLMSG_DONE,
 * calling each() for every data message. A dump flagged NLM_F_DUMP_INTR
 * is asked for again (restart(arg) first, to drop what was collected), up
 * to VNET_NL_DUMP_TRIES times, then fails with -EINTR. Returns 0 or
 * -errno; on error the kernel's extended-ack text, if any, is in ext. */
int vnet_nl_exchange(struct nl_msg *msg, vnet_nl_each each,
                     void (*restart)(void *), void *arg, char *ext, size_t n);

/* The answers of a dump (or a get) as a Lua list: keep(h, arg) picks the
 * messages (NULL: all), push(L, h) turns one into a Lua value. */
typedef struct vnet_nl_list {
    int (*keep)(struct nlmsghdr *h, void *arg);
    void (*push)(lua_State *L, struct nlmsghdr *h);
    void *arg;
} vnet_nl_list;

/* Send msg (consumed) and collect the answers into a new table pushed on
 * the stack (an interrupted dump starts the table again). Returns 0, or
 * -errno with nothing pushed and the kernel's text in ext. */
int vnet_nl_collect(lua_State *L, struct nl_msg *msg, const vnet_nl_list *how,
                    char *ext, size_t n);

/* A dump of `type` (RTM_GETLINK, ...) with the fixed header hdr (len
 * bytes) as a Lua list (see vnet_nl_collect): pushes the table and returns
 * 1, or pushes nil, msg, errno for op on obj and returns 3. */
int vnet_nl_dump(lua_State *L, int type, const void *hdr, size_t len,
                 const vnet_nl_list *how, const char *op, const char *obj);

/* The optional address-family argument at idx: nil -> AF_UNSPEC,
 * "inet" -> AF_INET, "inet6" -> AF_INET6 (anything else raises, naming op). */
int vnet_nl_optfamily(lua_State *L, int idx, const char *op);

/* t[k] = the IPv4 or IPv6 address in a (4 or 16 bytes) as text, with
 * "/plen" when plen >= 0; nothing when a is NULL or of another size. */
void vnet_nl_setip(lua_State *L, const char *k, const struct nlattr *a,
                   int plen);

/* Push len bytes as "aa:bb:cc:..." (a link-layer address). */
void vnet_nl_pushmac(lua_State *L, const unsigned char *p, int len);

/* Send msg (consumed) and wait for its ack. Returns 0 or -errno; on error
 * the kernel's extended-ack text, if any, is copied into ext (size n). */
int vnet_nl_request(struct nl_msg *msg, char *ext, size_t n);

/* What to do about a netlink errno (EPERM: CAP_NET_ADMIN), or NULL. */
const char *vnet_nl_hint(int err);

/* vnet_pusherr for a netlink result r (-errno): the detail is the kernel's
 * extended-ack text, else vnet_nl_hint. Returns 3. */
int vnet_nl_pusherr(lua_State *L, const char *op, const char *obj, int r,
                    const char *ext);

/* Test hook: pretend the next n dumps came back interrupted. */
void vnet_nl_inject_intr(int n);

/* Write the item list at idx ({type, fmt, value}, ...; fmt u8 u16 u32 u64
 * s32 be16 be32 flag string bytes nest ifinfo) into msg. 0, or -1 with a
 * message in err. */
int vnet_nla_put_items(lua_State *L, int idx, struct nl_msg *msg, char *err,
                       size_t n);

/* Push the Lua table for an RTM_NEWLINK (link.c), RTM_NEWADDR (addr.c),
 * RTM_NEWROUTE (route.c) or RTM_NEWNEIGH (neigh.c) message. */
void vnet_link_push(lua_State *L, struct nlmsghdr *h);
void vnet_addr_push(lua_State *L, struct nlmsghdr *h);
void vnet_route_push(lua_State *L, struct nlmsghdr *h);
void vnet_neigh_push(lua_State *L, struct nlmsghdr *h);

/* ---- namespaces (netns.c, exec.c) ------------------------------------ */

typedef struct vnet_netns {
    int fd;              /* -1 once closed */
} vnet_netns;

vnet_netns *vnet_netns_check(lua_State *L, int idx); /* raises when closed */

/* exec(ns, argv, timeout, max_output) -> status, output | nil, msg, errno */
int vnet_netns_exec(lua_State *L);
/* ns:exec inside a task: start, read the output, reap (exec.c) */
int vnet_netns_exec_start(lua_State *L);
int vnet_netns_exec_read(lua_State *L);
int vnet_netns_exec_reap(lua_State *L);

/* --netns NAME / --sandbox of the host (sandbox.c): move the process
 * before the script runs. 0, or -1 with a message in err. */
int vnet_netns_host_option(const char *name, int sandbox, char *err,
                           size_t n);

/* tun.c: opens /dev/net/tun when this process may not (set by sandbox.c). */
extern int (*vnet_tun_opener)(int flags);

/* ---- module openers -------------------------------------------------- */

int luaopen_vnet_packet_core(lua_State *L);
int luaopen_vnet_tun_core(lua_State *L);
int luaopen_vnet_loop_core(lua_State *L);
int luaopen_vnet_link_core(lua_State *L);
int luaopen_vnet_netns_core(lua_State *L);
int luaopen_vnet_nl_core(lua_State *L);
int luaopen_vnet_addr_core(lua_State *L);
int luaopen_vnet_route_core(lua_State *L);
int luaopen_vnet_neigh_core(lua_State *L);
int luaopen_vnet_watch_core(lua_State *L);
int luaopen_vnet_macvtap_core(lua_State *L);
int luaopen_vnet_proto_core(lua_State *L);
int luaopen_vnet_pcap_core(lua_State *L);
int luaopen_vnet_tc_core(lua_State *L);
int luaopen_vnet_ping_core(lua_State *L);
int luaopen_vnet_session_core(lua_State *L);
/* > 0 while vnet.session must not be interrupted (between making
 * something and writing it in the journal): the host's signal hook waits.
 * Process-wide, as the signals it holds off are. */
extern volatile int vnet_session_held;
int luaopen_vnet_psock_core(lua_State *L);
int luaopen_vnet_bpf_core(lua_State *L);
int luaopen_vnet_pcapfile_core(lua_State *L);
int luaopen_vnet_pcapng_core(lua_State *L);

#endif
