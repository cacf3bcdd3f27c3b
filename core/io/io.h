/*
 * io.h - the io layer (core/io/): packet devices (TUN/TAP, macvtap, packet
 * sockets), their offload write path, captures and capture files, kernel
 * filters, ICMP sockets, and the event loop that drives them. What the
 * host and the other io files use; io/loop.h is the loop's own. Uses
 * packet and util.
 */
#ifndef VNET_IO_H
#define VNET_IO_H

#include <linux/if_tun.h>

#include "packet/packet.h"

/* TUNSETOFFLOAD's UDP segmentation bits (Linux 6.2), for older headers */
#ifndef TUN_F_USO4
#define TUN_F_USO4 0x20
#define TUN_F_USO6 0x40
#endif

/* ---- packet devices (dev.c) ------------------------------------------ */

#define VNET_DEV_T "vnet.dev"

struct vnet_vhdr;
struct vnet_gro;
struct vnet_iob;
struct timespec;

enum { VNET_DEV_TUN = 1, VNET_DEV_TAP = 2, VNET_DEV_PSOCK = 3 };

typedef struct vnet_dev {
    const void *tag;     /* the class's tag (vnet_testudata) */
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
    struct vnet_gro *gro;/* write coalescer (offload, coalesce) */
    uint64_t tx_dropped; /* deferred or batched writes the kernel refused */
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
    uint64_t handler_drops; /* packets its handler's verdict dropped (false) */
    struct vnet_ring *ring; /* copies of the last packets read (ring.c) */
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
    int tx_errno;        /* the last write the kernel refused (0: none
                          * since dev:last_error() read it) */
} vnet_dev;

/* Push a new closed device (fd -1) with its receive packet; the caller
 * then fills fd and the rest. */
vnet_dev *vnet_dev_new(lua_State *L, int kind, size_t mtu_room);
vnet_dev *vnet_dev_check(lua_State *L, int idx);   /* raises when closed */
vnet_dev *vnet_dev_arg(lua_State *L, int idx);     /* a closed one too */
vnet_dev *vnet_dev_test(lua_State *L, int idx);    /* NULL if not a dev */
/* Read one packet into dev->rx: >0 length, 0 nothing waiting, <0 -errno. */
long vnet_dev_recv(vnet_dev *d);
/* The next packet for Lua: a segment of the current superpacket, or a new
 * read. Returns the user value holding it (1 rx, 3 seg), 0 when nothing
 * waits, or -errno. */
int vnet_dev_next(vnet_dev *d);
/* vnet_dev_next for the loop's drain, which may take budget packets more:
 * up to that many are read ahead in one call (iobatch.c). */
int vnet_dev_next_ahead(vnet_dev *d, int budget);
/* One write: [pi][virtio_net_hdr][b]; the pi header (if the device has
 * one) from pi_flags/pi_proto, -1 for defaults. Bytes of b or -errno. */
long vnet_dev_writev(vnet_dev *d, const struct vnet_vhdr *vh,
                     const unsigned char *b, size_t n, int pi_flags,
                     int pi_proto);
/* dev:write's body (dev.c): packet p, or the bytes b, n when p is NULL,
 * to the open device d (coalesced on an offload device). Bytes or -errno. */
long vnet_dev_put(lua_State *L, vnet_dev *d, vnet_packet *p,
                  const unsigned char *b, size_t n);
/* p goes to d as one plain write of its bytes: no superpacket, no partial
 * checksum, no coalescer on d (vnet_dev_put's fast path, and the only
 * packets vnet_iob_forward may write). */
static inline int vnet_dev_plain_write(const vnet_dev *d, const vnet_packet *p)
{
    return p->gso_type == 0 && !(p->vh_flags & VNET_NEEDS_CSUM) && !d->gro;
}

/* ---- batched device I/O through io_uring (iobatch.c) ----------------- */

#define VNET_IOB_PASS (-0x7fffffffL - 1) /* not batched: read(2) it */
/* "io_uring", or "read/write" with *err the errno that refused the ring
 * (0: turned off). Makes the ring on first use. */
const char *vnet_iob_mode(int *err);
/* io_uring_enter calls made so far, the reads and writes they took, and
 * the devices whose fd and buffers are registered with the ring. */
void vnet_iob_counts(uint64_t *calls, uint64_t *ops, int *fixed);
/* What a device's loop reads and writes go through. */
const char *vnet_iob_dev_mode(const vnet_dev *d);
/* Turn batching off (0) or try it again (1); returns whether it is on. */
int vnet_iob_enable(int on);
/* vnet_dev_recv's batch: a packet read ahead, or up to dev->batch read in
 * one call; dev->rx's data then points at it, in place. Its length with *hdr pointing at its
 * headers ([pi][virtio_net_hdr], as the device has them; the caller fills
 * the fields), 0 with *hdr NULL when none waits, -errno, or VNET_IOB_PASS
 * (read(2) it). */
long vnet_iob_recv(vnet_dev *d, const unsigned char **hdr);
/* Queue a write of `len` bytes to d while the loop dispatches: where to
 * put them (fill them before the next vnet_iob_ call; they leave by the
 * end of the round), or NULL: write them yourself. */
unsigned char *vnet_iob_claim(vnet_dev *d, size_t len);
/* The drain's verdict write (drain.c) of `from`'s packet [b, b + n), read
 * ahead into its registered slots, to `to` (a vnet_dev_plain_write):
 * queued from where it lies, no copy. 1 queued, 0 not here (write it
 * through vnet_dev_put). */
int vnet_iob_forward(vnet_dev *from, vnet_dev *to, const unsigned char *b,
                     size_t n);
/* Submit the queued writes and reap them (before any direct write). */
void vnet_iob_flush(void);
/* A dispatch round begins (1) or ends (0, which flushes): from
 * vnet_dev_round. */
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

/* ---- the write path (devwrite.c) ----------------------------------- */

/* struct virtio_net_hdr as the kernel lays it out (host byte order) */
typedef struct vnet_wire_vhdr {
    uint8_t flags, gso_type;
    uint16_t hdr_len, gso_size, csum_start, csum_offset;
} vnet_wire_vhdr;

/* Bytes of header in front of every packet d reads and writes: its
 * struct tun_pi (4) and its virtio_net_hdr, when it has them. */
static inline size_t vnet_dev_prefix(const vnet_dev *d)
{
    return (d->pi ? 4u : 0u) + (d->vnet_hdr ? sizeof(vnet_wire_vhdr) : 0u);
}

/* A device whose coalescer holds data: flushed when the loop's dispatch
 * round ends (the list is per Lua state), or at once outside the loop.
 * forget takes a closing device off the list. */
void vnet_dev_defer_flush(lua_State *L, vnet_dev *d);
void vnet_dev_forget(lua_State *L, vnet_dev *d);
/* The loop: a dispatch round begins (1), or ends (0: flush the list). */
void vnet_dev_round(lua_State *L, int begin);

/* Coalescer (GRO on write) for an offload device (option coalesce): runs
 * of TCP segments and of UDP datagrams of one flow become superpackets. */
struct vnet_gro *vnet_gro_new(void);
void vnet_gro_free(struct vnet_gro *g);
/* Take a packet into the coalescer: 1 taken, 0 not coalescable (the
 * caller writes it itself, after a flush). May flush first. vh: the
 * packet's offload header (a partial checksum), NULL for none. */
int vnet_gro_add(vnet_dev *d, const unsigned char *b, size_t n,
                 const vnet_vhdr *vh);
/* Write what the coalescer holds; 0 or -errno. */
int vnet_gro_flush(vnet_dev *d);
/* Write a superpacket (or partial-checksum packet) with its header; splits
 * it when the device takes no GSO writes. Returns bytes or -errno. */
long vnet_dev_write_gso(vnet_dev *d, const unsigned char *b, size_t n,
                        const vnet_vhdr *vh);

/* ---- loop hooks (loop.c) --------------------------------------------- */

/* For the REPL: turn the loop until fd is readable (1), a signal
 * interrupted the wait (0), or a callback's error is left on the stack
 * (-1); after_turn (or NULL) runs after every round of events. */
int vnet_loop_wait_fd(lua_State *L, int fd, void (*after_turn)(void));

/* interrupt.c: break the callback running now with an error if it is still
 * running a moment later (Ctrl-C at the REPL; async-signal-safe); 1 if one
 * was running. vnet_loop_interrupted is set when the error is raised (the
 * dispatcher then drops that watcher); vnet_loop_unused_sigint when the
 * callback returned by itself, so the Ctrl-C is the prompt's.
 * vnet_loop_hold: while *vnet_loop_hold is nonzero the break waits (the
 * host points it at the session's "made, not yet journaled" count). */
int vnet_loop_interrupt(void);
/* A signal handler's word to vnet_loop_wait_fd (async-signal-safe): end
 * the wait, at once if it is blocked, else after this round. The REPL calls
 * it for a Ctrl-C that is the prompt's, and for SIGTERM/SIGHUP: a signal
 * that lands while the loop is between two callbacks interrupts no system
 * call, and under a steady stream of packets the wait would not end. */
void vnet_loop_wake(void);
extern volatile int vnet_loop_unused_sigint;
extern volatile int vnet_loop_interrupted;
extern volatile int *volatile vnet_loop_hold;
/* The packet ring (dev:keep, ring.c): a copy of every packet read; freed
 * by close. */
struct vnet_ring {
    size_t n, snap;      /* slots, bytes kept of each packet */
    size_t next, count;  /* slot written next, slots filled */
    size_t *len;         /* original length of each packet */
    double *when;        /* its arrival, on the monotonic clock */
    unsigned char *buf;  /* n * snap bytes */
};
void vnet_ring_put(struct vnet_ring *r, const unsigned char *b, size_t n);
void vnet_ring_free(struct vnet_ring *r);
int vnet_dev_open_methods(lua_State *L); /* pushes the method table */

/* ---- TUN/TAP (tun.c) ------------------------------------------------ */

/* tun.c: opens /dev/net/tun when this process may not (set by sandbox.c). */
extern int (*vnet_tun_opener)(int flags);

/* ---- module openers ---------------------------------------------- */

int luaopen_vnet_tun_core(lua_State *L);
int luaopen_vnet_loop_core(lua_State *L);
int luaopen_vnet_macvtap_core(lua_State *L);
int luaopen_vnet_pcap_core(lua_State *L);
int luaopen_vnet_ping_core(lua_State *L);
int luaopen_vnet_psock_core(lua_State *L);
int luaopen_vnet_bpf_core(lua_State *L);
int luaopen_vnet_pcapfile_core(lua_State *L);
int luaopen_vnet_pcapng_core(lua_State *L);

#endif
