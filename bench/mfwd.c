/*
 * mfwd.c - an experiment for bench/profile.sh, not a contestant of
 * `make bench`: the forwarder of cfwd.c written with io_uring's multishot
 * reads (IORING_OP_READ_MULTISHOT, Linux 6.7) from rings of provided
 * buffers, and batched writes. It answers one question (bench/analysis.md,
 * tenth pass): would vnet's loop spend less kernel time a packet if each
 * TUN had one standing read instead of one read SQE a packet?
 *
 *   mfwd NS_A NS_B   opens TUN "fa" in /run/netns/NS_A and "fb" in
 *                    /run/netns/NS_B, prints "ready", and forwards until
 *                    SIGTERM/SIGINT.
 *
 * Each direction has a ring of NBUF provided buffers of BSZ bytes (group =
 * direction). A completed read names the buffer it filled; the write of
 * that buffer to the other TUN goes out with the next submit and gives it
 * back to its ring when it completes. Files and the buffer memory are
 * registered, as vnet's are, so writes are WRITE_FIXED; reads into
 * provided buffers cannot be READ_FIXED.
 */
#include "tunfwd.h"

#include <liburing.h>

#define OP_READ_MULTISHOT 49 /* enum io_uring_op in Linux 6.7's uapi */
#define NBUF 256             /* buffers a direction (a power of 2) */
#define BSZ 2048             /* bytes a buffer: an MTU-1500 packet */
#define WRITE_TAG (1ULL << 32)

static struct io_uring ring;
static struct io_uring_buf_ring *br[2];
static unsigned char *bufs[2];

static struct io_uring_sqe *sqe(void)
{
    struct io_uring_sqe *s = io_uring_get_sqe(&ring);
    if (s == NULL) { /* full: what is queued goes now */
        io_uring_submit(&ring);
        s = io_uring_get_sqe(&ring);
    }
    return s;
}

/* The standing read of direction d (registered file d, buffer group d). */
static void arm(int d)
{
    struct io_uring_sqe *s = sqe();
    io_uring_prep_rw(OP_READ_MULTISHOT, s, d, NULL, 0, 0);
    s->flags |= IOSQE_BUFFER_SELECT | IOSQE_FIXED_FILE;
    s->buf_group = (unsigned short)d;
    io_uring_sqe_set_data64(s, (unsigned long long)d);
}

static void give_back(int d, unsigned bid)
{
    io_uring_buf_ring_add(br[d], bufs[d] + (size_t)bid * BSZ, BSZ,
                          (unsigned short)bid, io_uring_buf_ring_mask(NBUF), 0);
    io_uring_buf_ring_advance(br[d], 1);
}

int main(int argc, char **argv)
{
    int fd[2];
    tun_pair(argc, argv, "mfwd", fd);
    int r = io_uring_queue_init(1024, &ring, 0);
    if (r < 0)
        die("io_uring_queue_init", -r);
    struct iovec iov[2];
    for (int d = 0; d < 2; d++) {
        if (posix_memalign((void **)&br[d], 4096, NBUF * sizeof(struct io_uring_buf)) ||
            (bufs[d] = malloc((size_t)NBUF * BSZ)) == NULL)
            die("buffers", ENOMEM);
        io_uring_buf_ring_init(br[d]);
        struct io_uring_buf_reg reg = {.ring_addr = (unsigned long)br[d],
                                       .ring_entries = NBUF,
                                       .bgid = (unsigned short)d};
        if ((r = io_uring_register_buf_ring(&ring, &reg, 0)) != 0)
            die("io_uring_register_buf_ring", -r);
        for (unsigned i = 0; i < NBUF; i++)
            give_back(d, i);
        iov[d] = (struct iovec){bufs[d], (size_t)NBUF * BSZ};
    }
    if ((r = io_uring_register_files(&ring, fd, 2)) != 0)
        die("io_uring_register_files", -r);
    if ((r = io_uring_register_buffers(&ring, iov, 2)) != 0)
        die("io_uring_register_buffers", -r);
    arm(0);
    arm(1);
    say_ready();
    while (!done) {
        r = io_uring_submit_and_wait(&ring, 1);
        if (r < 0 && r != -EINTR && r != -EAGAIN && r != -EBUSY)
            die("io_uring_submit_and_wait", -r);
        struct io_uring_cqe *cqe;
        unsigned head, n = 0;
        io_uring_for_each_cqe(&ring, head, cqe) {
            unsigned long long u = cqe->user_data;
            n++;
            if (u & WRITE_TAG) { /* a write done: its buffer goes home */
                give_back((int)((u >> 16) & 1), (unsigned)(u & 0xffff));
                continue;
            }
            int d = (int)u;
            if (cqe->res > 0 && (cqe->flags & IORING_CQE_F_BUFFER)) {
                unsigned bid = cqe->flags >> IORING_CQE_BUFFER_SHIFT;
                struct io_uring_sqe *s = sqe();
                io_uring_prep_write_fixed(s, 1 - d, bufs[d] + (size_t)bid * BSZ,
                                          (unsigned)cqe->res, 0, d);
                s->flags |= IOSQE_FIXED_FILE;
                io_uring_sqe_set_data64(s, WRITE_TAG | ((unsigned long long)d << 16) | bid);
            } else if (cqe->res == -EINVAL || cqe->res == -EBADFD) {
                die("multishot read (Linux 6.7 or later)", -cqe->res);
            }
            /* ended (out of buffers, or an error): stand again */
            if (!(cqe->flags & IORING_CQE_F_MORE))
                arm(d);
        }
        io_uring_cq_advance(&ring, n);
    }
    return 0;
}
