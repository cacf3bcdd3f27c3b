/*
 * ufwd.c - an experiment for bench/profile.sh, not a contestant of
 * `make bench`: the forwarder of cfwd.c with vnet's I/O and no Lua. It
 * answers one question (bench/analysis.md, tenth pass): how much of what
 * separates vnet's plain forwarder from the C loop is vnet's way of doing
 * I/O, and how much is the Lua callback?
 *
 *   ufwd NS_A NS_B   opens TUN "fa" in /run/netns/NS_A and "fb" in
 *                    /run/netns/NS_B, prints "ready", and forwards until
 *                    SIGTERM/SIGINT.
 *
 * As core/io/iobatch.c does: files and buffers registered with the ring; a
 * device's drain asks for up to SLOTS packets a call (READ_FIXED, each
 * with RWF_NOWAIT, so each completes or fails during the io_uring_enter
 * that submits it), as many as came last time and one more; each packet
 * read is written from its slot to the other TUN (WRITE_FIXED,
 * RWF_NOWAIT), and those writes leave with the next read batch, ahead of
 * it in the submission queue, so a slot is written out before it is read
 * into again. poll(2) says which TUN has packets, as epoll does for vnet.
 */
#include "tunfwd.h"

#include <liburing.h>
#include <linux/fs.h>
#include <poll.h>

#define SLOTS 32
#define BSZ 2048
#define READ_TAG 0x100u

static struct io_uring ring;
static unsigned char *buf[2];  /* SLOTS buffers of BSZ a direction */
static long res[2][SLOTS];

/* Submit what is queued (the writes of the last batch, then k reads of
 * direction d) and reap every completion. Returns the packets read. */
static int batch(int d, int k)
{
    for (int i = 0; i < k; i++) {
        struct io_uring_sqe *s = io_uring_get_sqe(&ring);
        io_uring_prep_read_fixed(s, d, buf[d] + (size_t)i * BSZ, BSZ, 0, d);
        s->flags |= IOSQE_FIXED_FILE;
        s->rw_flags = RWF_NOWAIT;
        io_uring_sqe_set_data64(s, READ_TAG | (unsigned)i);
        res[d][i] = -EAGAIN;
    }
    int queued = (int)io_uring_sq_ready(&ring), reaped = 0;
    io_uring_submit(&ring);
    while (reaped < queued) {
        struct io_uring_cqe *cqe;
        unsigned head, n = 0;
        io_uring_for_each_cqe(&ring, head, cqe) {
            if (cqe->user_data & READ_TAG)
                res[d][cqe->user_data & 0xff] = cqe->res;
            n++;
        }
        io_uring_cq_advance(&ring, n);
        reaped += (int)n;
        if (reaped < queued)
            io_uring_wait_cqe_nr(&ring, &cqe, 1);
    }
    int got = 0;
    for (int i = 0; i < k; i++) {
        if (res[d][i] <= 0)
            continue;
        got++;
        struct io_uring_sqe *s = io_uring_get_sqe(&ring); /* leaves next time */
        io_uring_prep_write_fixed(s, 1 - d, buf[d] + (size_t)i * BSZ,
                                  (unsigned)res[d][i], 0, d);
        s->flags |= IOSQE_FIXED_FILE;
        s->rw_flags = RWF_NOWAIT;
        io_uring_sqe_set_data64(s, 0);
    }
    return got;
}

int main(int argc, char **argv)
{
    int fd[2];
    tun_pair(argc, argv, "ufwd", fd);
    int r = io_uring_queue_init(4 * SLOTS, &ring, 0);
    if (r < 0)
        die("io_uring_queue_init", -r);
    struct iovec iov[2];
    for (int d = 0; d < 2; d++) {
        if ((buf[d] = malloc((size_t)SLOTS * BSZ)) == NULL)
            die("buffers", ENOMEM);
        iov[d] = (struct iovec){buf[d], (size_t)SLOTS * BSZ};
    }
    if ((r = io_uring_register_files(&ring, fd, 2)) != 0)
        die("io_uring_register_files", -r);
    if ((r = io_uring_register_buffers(&ring, iov, 2)) != 0)
        die("io_uring_register_buffers", -r);
    say_ready();
    struct pollfd pfd[2] = {{fd[0], POLLIN, 0}, {fd[1], POLLIN, 0}};
    int want[2] = {2, 2};
    while (!done) {
        if (poll(pfd, 2, 500) < 0) {
            if (errno == EINTR)
                continue;
            die("poll", errno);
        }
        for (int d = 0; d < 2; d++) {
            if (!(pfd[d].revents & POLLIN))
                continue;
            for (;;) { /* drain: what came last time and one more,
                        * doubling while every read finds a packet */
                int k = want[d] < 2 ? 2 : want[d];
                int got = batch(d, k);
                want[d] = got < k ? got + 1 : (2 * k < SLOTS ? 2 * k : SLOTS);
                if (got < k)
                    break;
            }
            batch(d, 0); /* the last writes leave now */
        }
    }
    return 0;
}
