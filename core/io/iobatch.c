/*
 * iobatch.c - batched packet I/O for the loop: many reads and writes of
 * TUN/TAP fds in one system call, through io_uring.
 *
 * A plain forwarder pays read(2) and write(2) per packet, and on a
 * paravirtualised guest a system call costs microseconds. Here a drain
 * reads up to SLOTS packets of a device with one io_uring_enter, and
 * dev:write() during a dispatch round puts the packet (behind its pi and
 * virtio_net_hdr headers) into an arena and queues a write, which leaves
 * with the next read batch or when the round ends: one system call moves
 * both directions' packets.
 *
 * The ring is used synchronously: every read and write carries RWF_NOWAIT,
 * so it completes (or fails with EAGAIN) during the io_uring_enter that
 * submits it, and reap() waits for any that did not before it returns.
 * Nothing is in flight between calls, so buffers are ours again at once,
 * and a device that closes has no operation pending on its fd.
 *
 * The ring knows the devices: a device's fd and its read buffers (its
 * packet and read-ahead slots, headers in front) are registered with its
 * first batched read and unregistered at its close, and the write arena
 * with the ring. Operations then name them by index (IOSQE_FIXED_FILE,
 * READ_FIXED, WRITE_FIXED): per packet the kernel neither looks the fd up
 * nor checks user memory, which was 210 ns of a 64-byte datagram's 1,590
 * (bench/RESULTS.md). A kernel that refuses it gets plain operations.
 *
 * One ring per process, made on first use: it holds no state of a Lua
 * state between calls (the writes it queues belong to devices, which flush
 * them at close), vnet runs one thread, and its fd is close-on-exec.
 * Where io_uring is missing or refused (old kernel, seccomp, the
 * kernel.io_uring_disabled sysctl, VNET_NO_URING=1 in the environment) it
 * is never made and devices use read(2) and write(2) as before; a kernel
 * that refuses RWF_NOWAIT on a device turns batching off for that device.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include <liburing.h>
#include <linux/fs.h>

#include "io/loop.h" /* vnet_iob_done, the drain's */

#define SQ_DEPTH 256           /* queued writes plus one read batch */
#define ARENA (512 * 1024)     /* bytes of queued writes, headers included */
#define SLOTS 32               /* packets read ahead per device and call */
#define HDR 16                 /* room for [tun_pi 4][virtio_net_hdr 10] */
#if VNET_HEADROOM < HDR
#error "a registered read puts the headers in rx's headroom"
#endif
#define READ_TAG 1u            /* low bit of user_data: a read slot */
#define FIXED 64               /* devices with a registered fd and buffers */

struct vnet_iob {              /* a device's read batch */
    int count, next;           /* slots the last refill filled; next out */
    int short_read;            /* the last refill came back short */
    int want;                  /* reads to ask for: what came last time */
    size_t room;               /* bytes of each slot (the rx capacity) */
    unsigned char *own;        /* rx's own data: slot 0 (headers: headroom) */
    unsigned char *buf;        /* slots 1..SLOTS-1 of HDR + room bytes each */
    unsigned gen;              /* the ring fix was made for (R.gen) */
    int fix;                   /* its registered file and buffers, or -1 */
    struct {
        long res;              /* bytes read (headers too) or -errno */
        unsigned char hdr[HDR];
        struct iovec iov[2];
    } slot[SLOTS];
};

static struct {
    int state;                 /* 0 not tried, 1 ready, -1 unavailable */
    int err;                   /* why unavailable (errno), 0 if disabled */
    int hold;                  /* queue writes (the loop is dispatching) */
    unsigned gen;              /* counts the rings made: a fix is per ring */
    int fixed;                 /* registered files and buffers work */
    vnet_dev *fixer[FIXED];    /* whose fd is registered at each index */
    unsigned queued;           /* SQEs prepared and not yet submitted */
    int borrowed;              /* queued writes from read slots (forward) */
    uint64_t calls, ops;       /* io_uring_enter calls, operations they took */
    struct io_uring ring;
    unsigned char *arena;
    size_t used;
    struct {                   /* the queued writes, by user_data >> 1 */
        vnet_dev *dev;
        const unsigned char *buf;
        unsigned len;
        int slot;              /* buf is a read slot (forward): reused once
                                * the submission is done */
    } w[SQ_DEPTH];
} R;

/* VNET_URING_FIXED=0 (a bench knob): no registered files and buffers. */
static int nofix(void)
{
    const char *m = getenv("VNET_URING_FIXED");
    return m && strcmp(m, "0") == 0;
}

static int ready(void)
{
    if (R.state)
        return R.state > 0;
    R.state = -1;
    const char *no = getenv("VNET_NO_URING");
    if (no && *no && strcmp(no, "0") != 0)
        return 0;
    R.arena = malloc(ARENA);
    if (R.arena == NULL) {
        R.err = ENOMEM;
        return 0;
    }
    /* SUBMIT_ALL (5.18): one refused operation does not hold back the
     * rest. (SINGLE_ISSUER | DEFER_TASKRUN saved nothing measurable here,
     * and with DEFER_TASKRUN a task waiting for a packet missed it.) */
    int r = io_uring_queue_init(SQ_DEPTH, &R.ring, IORING_SETUP_SUBMIT_ALL);
    if (r == -EINVAL)
        r = io_uring_queue_init(SQ_DEPTH, &R.ring, 0);
    if (r < 0) {
        R.err = -r;
        free(R.arena);
        R.arena = NULL;
        return 0;
    }
    R.gen++;
    memset(R.fixer, 0, sizeof R.fixer);
    /* Registered fds and buffers (5.19 for the sparse tables): no fdget
     * per operation, and the kernel copies to and from pages it pinned
     * once instead of checking user memory per packet. Buffer 0 is the
     * arena; device k has file k and buffers 1+2k (rx) and 2+2k (slots). */
    struct iovec arena = {R.arena, ARENA};
    R.fixed = !nofix() &&
              io_uring_register_files_sparse(&R.ring, FIXED) == 0 &&
              io_uring_register_buffers_sparse(&R.ring, 1 + 2 * FIXED) == 0 &&
              io_uring_register_buffers_update_tag(&R.ring, 0, &arena, NULL,
                                                   1) == 1;
    R.state = 1;
    return 1;
}

/* Register d's fd and read buffers for this ring if there is room:
 * b->fix is then its index, else -1 (plain fds and buffers). */
static void fix(vnet_dev *d, struct vnet_iob *b)
{
    if (b->gen == R.gen)
        return;
    b->gen = R.gen;
    b->fix = -1;
    if (!R.fixed)
        return;
    int k = 0;
    while (k < FIXED && R.fixer[k])
        k++;
    if (k == FIXED)
        return;
    struct iovec iov[2] = {{b->own - HDR, HDR + b->room},
                           {b->buf, (SLOTS - 1) * (HDR + b->room)}};
    if (io_uring_register_files_update(&R.ring, (unsigned)k, &d->fd, 1) != 1)
        return;
    if (io_uring_register_buffers_update_tag(&R.ring, 1 + 2 * (unsigned)k,
                                             iov, NULL, 2) != 2) {
        int none = -1;
        io_uring_register_files_update(&R.ring, (unsigned)k, &none, 1);
        return;
    }
    R.fixer[k] = d;
    b->fix = k;
}

/* Undo fix() (before the fd closes or the buffers go). */
static void unfix(struct vnet_iob *b)
{
    if (b->gen != R.gen || b->fix < 0 || R.state <= 0) {
        b->fix = -1;
        return;
    }
    int none = -1;
    struct iovec iov[2] = {{NULL, 0}, {NULL, 0}};
    io_uring_register_files_update(&R.ring, (unsigned)b->fix, &none, 1);
    io_uring_register_buffers_update_tag(&R.ring, 1 + 2 * (unsigned)b->fix,
                                         iov, NULL, 2);
    R.fixer[b->fix] = NULL;
    b->fix = -1;
}

void vnet_iob_counts(uint64_t *calls, uint64_t *ops, int *fixed)
{
    *calls = R.calls;
    *ops = R.ops;
    *fixed = 0;
    for (int k = 0; R.state > 0 && k < FIXED; k++)
        *fixed += R.fixer[k] != NULL;
}

const char *vnet_iob_mode(int *err)
{
    int ok = ready();
    *err = R.err;
    return ok ? "io_uring" : "read/write";
}

const char *vnet_iob_dev_mode(const vnet_dev *d)
{
    if (d->recv || d->iob_off || R.state < 0)
        return "read/write";
    return R.state > 0 ? "io_uring" : "read/write (until the loop drains)";
}

/* No more io_uring: the ring and arena go (if made), and devices use
 * read(2) and write(2); err says why (0: turned off, may be tried again). */
static void give_up(int err)
{
    if (R.state > 0) {
        io_uring_queue_exit(&R.ring);
        free(R.arena);
        R.arena = NULL;
    }
    R.state = -1;
    R.err = err;
}

int vnet_iob_enable(int on)
{
    if (!on) {
        vnet_iob_flush();
        give_up(0);
        return 0;
    }
    if (R.state < 0 && R.err == 0)
        R.state = 0; /* try again, unless it failed for a reason */
    return ready();
}

/* Submit what is queued and reap every completion: writes count into
 * their device, reads land in their slot. Returns once nothing is in
 * flight. */
static void reap(void)
{
    unsigned inflight = 0, want = R.queued;
    int broken = 0;
    while (inflight < want) { /* the kernel may take them in parts */
        int r = io_uring_submit(&R.ring);
        if (r == -EINTR)
            continue;
        if (r <= 0) { /* should not happen: give the ring up after this */
            broken = r < 0 ? -r : EIO;
            break;
        }
        inflight += (unsigned)r;
        R.calls++;
    }
    R.ops += inflight;
    R.queued = 0;
    R.borrowed = 0;
    while (inflight) {
        struct io_uring_cqe *cqe;
        unsigned head, n = 0;
        io_uring_for_each_cqe(&R.ring, head, cqe) {
            uintptr_t u = (uintptr_t)io_uring_cqe_get_data(cqe);
            if (u & READ_TAG) {
                *(long *)(u & ~(uintptr_t)READ_TAG) = cqe->res;
            } else {
                vnet_dev *d = R.w[u >> 1].dev;
                size_t pre = vnet_dev_prefix(d);
                long res = cqe->res;
                if (res == -EOPNOTSUPP) { /* no RWF_NOWAIT on this fd */
                    d->iob_off = 1; /* a slot may hold a new packet now */
                    res = R.w[u >> 1].slot ? -EOPNOTSUPP
                          : write(d->fd, R.w[u >> 1].buf, R.w[u >> 1].len);
                    if (res == -1)
                        res = -errno;
                }
                if (res >= 0) {
                    d->tx_packets++;
                    d->tx_bytes += (size_t)res > pre ? (size_t)res - pre : 0;
                } else { /* dev:last_error() tells why */
                    d->tx_dropped++;
                    d->tx_errno = (int)-res;
                }
            }
            n++;
        }
        io_uring_cq_advance(&R.ring, n);
        inflight -= n < inflight ? n : inflight;
        if (inflight) /* not done inline: wait, the buffers are in use */
            io_uring_wait_cqe_nr(&R.ring, &cqe, 1);
    }
    R.used = 0;
    if (broken) /* what it did not take is dropped; read(2)/write(2) now */
        give_up(broken);
}

void vnet_iob_flush(void)
{
    if (R.queued)
        reap();
}

void vnet_iob_hold(int on)
{
    R.hold = on;
    if (!on)
        vnet_iob_flush();
}

/* Queue the write of [at, at + len) to d: from registered buffer buf (-1:
 * none), by d's registered file if it has one. slot: at is a read slot
 * (vnet_iob_forward), not the arena. */
static inline void queue_write(struct io_uring_sqe *sqe, vnet_dev *d,
                               const unsigned char *at, size_t len, int buf,
                               int slot)
{
    struct vnet_iob *ib = d->iob;
    if (buf < 0) {
        io_uring_prep_write(sqe, d->fd, at, (unsigned)len, 0);
    } else if (ib && ib->gen == R.gen && ib->fix >= 0) {
        io_uring_prep_write_fixed(sqe, ib->fix, at, (unsigned)len, 0, buf);
        sqe->flags |= IOSQE_FIXED_FILE;
    } else {
        io_uring_prep_write_fixed(sqe, d->fd, at, (unsigned)len, 0, buf);
    }
    sqe->rw_flags = RWF_NOWAIT;
    R.w[R.queued].dev = d;
    R.w[R.queued].buf = at;
    R.w[R.queued].len = (unsigned)len;
    R.w[R.queued].slot = slot;
    io_uring_sqe_set_data64(sqe, (uint64_t)R.queued << 1);
    R.queued++;
}

/* A write to d may be queued now: the loop dispatches, the ring is up,
 * and d is a TUN/TAP that takes RWF_NOWAIT. */
static int queueable(const vnet_dev *d)
{
    return R.hold && R.state > 0 && d->kind != VNET_DEV_PSOCK && !d->iob_off;
}

unsigned char *vnet_iob_claim(vnet_dev *d, size_t len)
{
    if (!queueable(d) || len > ARENA / 4)
        return NULL;
    if (R.used + len > ARENA || R.queued >= SQ_DEPTH) /* SQ is SQ_DEPTH */
        reap();
    struct io_uring_sqe *sqe = R.state > 0 ? io_uring_get_sqe(&R.ring) : NULL;
    if (sqe == NULL)
        return NULL;
    unsigned char *at = R.arena + R.used;
    R.used += (len + 15) & ~(size_t)15;
    queue_write(sqe, d, at, len, R.fixed ? 0 : -1, 0); /* buffer 0: the arena */
    return at;
}

/* The write leaves from the read slot. Nothing lands in the slot before it
 * is done: a read batch is queued behind every queued write and submitted
 * at once (vnet_iob_recv), io_uring issues a submission's operations in
 * order, and with RWF_NOWAIT each is done or refused as it is issued (a
 * refusal is not retried from the slot: reap). Before a plain read(2),
 * which could land in the slot, the queue is flushed (pass below). */
int vnet_iob_forward(vnet_dev *from, vnet_dev *to, const unsigned char *b,
                     size_t n)
{
    struct vnet_iob *ib = from->iob;
    /* the capture hook sees what is written: writev_q calls it */
    if (!queueable(to) || ib == NULL || ib->gen != R.gen || ib->fix < 0 ||
        vnet_dev_prefix(to) || to->capture || R.queued >= SQ_DEPTH)
        return 0;
    unsigned idx = 1 + 2 * (unsigned)ib->fix; /* the registered buffer */
    if (b < ib->own || b + n > ib->own + ib->room) {
        idx++;
        if (b < ib->buf || b + n > ib->buf + (SLOTS - 1) * (HDR + ib->room))
            return 0; /* not in a slot (p:copy(), a string) */
    }
    struct io_uring_sqe *sqe = io_uring_get_sqe(&R.ring);
    if (sqe == NULL)
        return 0;
    queue_write(sqe, to, b, n, (int)idx, 1);
    R.borrowed = 1;
    return 1;
}

/* vnet_iob_recv's "read(2) it": first the writes from read slots leave */
static long pass(void)
{
    if (R.borrowed)
        reap();
    return VNET_IOB_PASS;
}

/* Where slot i's packet data goes; its headers, if any, go in front
 * (registered) or in slot[i].hdr (readv). */
static unsigned char *slot_data(struct vnet_iob *b, int i)
{
    return i == 0 ? b->own : b->buf + (size_t)(i - 1) * (HDR + b->room) + HDR;
}

/* Hand out the next slot that holds a packet: rx's data points at it, and
 * *hdr at its headers. No copy: a slot has rx's capacity, and rx is reused
 * for the next packet anyway. Its bytes stay where they are until a packet
 * lands there or the slots go (vnet_iob_release takes them home first), so
 * a read that finds nothing leaves rx as it was. Its length (*hdr set), 0
 * none left (*hdr NULL), <0 -errno. */
static long take(vnet_dev *d, struct vnet_iob *b, const unsigned char **hdr)
{
    size_t pre = vnet_dev_prefix(d);
    while (b->next < b->count) {
        int i = b->next++;
        long res = b->slot[i].res;
        if (res < 0) {
            if (res == -EAGAIN || b->next < b->count)
                continue; /* a later slot may hold one that came meanwhile */
            return res;
        }
        if ((size_t)res < pre)
            continue; /* a short read of the headers: nothing usable */
        unsigned char *at = slot_data(b, i);
        *hdr = b->fix >= 0 ? at - pre : b->slot[i].hdr;
        d->rx->data = at;
        return (long)((size_t)res - pre);
    }
    return 0;
}

long vnet_iob_recv(vnet_dev *d, const unsigned char **hdr)
{
    struct vnet_iob *b = d->iob;
    *hdr = NULL;
    if (b && b->next < b->count) {
        long r = take(d, b, hdr);
        if (*hdr || r != 0 || b->next < b->count)
            return r;
    }
    if (b && b->short_read) { /* this drain emptied the fd: epoll says when */
        b->short_read = 0;
        b->count = b->next = 0;
        return 0;
    }
    if (d->batch < 2 || d->recv || !ready())
        return pass();
    if (b == NULL) {
        b = calloc(1, sizeof *b);
        if (b == NULL)
            return pass();
        b->room = d->rx->cap;
        b->own = d->rx->data;
        b->fix = -1;
        b->buf = malloc((SLOTS - 1) * (HDR + b->room)); /* touched as packets land */
        if (b->buf == NULL) {
            free(b);
            return pass();
        }
        d->iob = b;
    }
    if (d->iob_off)
        return pass();
    /* Ask for what came last time and one more (a read that finds nothing
     * costs the kernel as much as one that finds a packet), doubling while
     * every read finds one. */
    int k = b->want < 2 ? 2 : b->want;
    if (k > d->batch)
        k = d->batch;
    if (io_uring_sq_space_left(&R.ring) < (unsigned)k)
        reap();
    if (R.state <= 0)
        return pass();
    fix(d, b);
    size_t pre = vnet_dev_prefix(d);
    for (int i = 0; i < k; i++) {
        struct io_uring_sqe *sqe = io_uring_get_sqe(&R.ring); /* room: above */
        int v = 0;
        unsigned char *at = slot_data(b, i);
        if (pre)
            b->slot[i].iov[v++] = (struct iovec){b->slot[i].hdr, pre};
        b->slot[i].iov[v++] = (struct iovec){at, b->room};
        b->slot[i].res = -EAGAIN;
        if (b->fix >= 0) { /* registered: no fdget, no user copy checks;
                            * the headers land just in front of the data */
            io_uring_prep_read_fixed(sqe, b->fix, at - pre,
                                     (unsigned)(pre + b->room), 0,
                                     1 + 2 * b->fix + (i > 0));
            sqe->flags |= IOSQE_FIXED_FILE;
        } else if (v == 1) /* no headers: a plain read, no iovec to import */
            io_uring_prep_read(sqe, d->fd, b->slot[i].iov[0].iov_base,
                               (unsigned)b->slot[i].iov[0].iov_len, 0);
        else
            io_uring_prep_readv(sqe, d->fd, b->slot[i].iov, (unsigned)v, 0);
        sqe->rw_flags = RWF_NOWAIT;
        io_uring_sqe_set_data(sqe, (void *)((uintptr_t)&b->slot[i].res |
                                            READ_TAG));
        R.queued++;
    }
    reap(); /* the queued writes leave in the same call */
    b->count = k;
    b->next = 0;
    long first = b->slot[0].res;
    if (first == -EOPNOTSUPP || first == -EINVAL) { /* no RWF_NOWAIT here */
        d->iob_off = 1;
        b->count = 0;
        return pass();
    }
    int got = 0;
    for (int i = 0; i < k; i++)
        got += b->slot[i].res >= 0;
    b->short_read = got < k;
    b->want = got < k ? got + 1 : (2 * k < SLOTS ? 2 * k : SLOTS);
    return take(d, b, hdr);
}

int vnet_iob_held(const vnet_dev *d)
{
    const struct vnet_iob *b = d->iob;
    return b ? b->count - b->next : 0;
}

void vnet_iob_done(vnet_dev *d)
{
    if (d->iob)
        d->iob->short_read = 0;
}

void vnet_iob_release(vnet_dev *d)
{
    vnet_iob_flush(); /* no write of d stays queued */
    if (d->iob) { /* rx's bytes go home from the slots about to go */
        vnet_packet *p = d->rx;
        if (p->data != d->iob->own) {
            memmove(d->iob->own, p->data, p->len);
            p->data = d->iob->own;
        }
        unfix(d->iob);
        free(d->iob->buf);
        free(d->iob);
        d->iob = NULL;
    }
}
