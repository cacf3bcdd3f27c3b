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
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <linux/fs.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define SLOTS 32
#define BSZ 2048
#define READ_TAG 0x100u

static volatile sig_atomic_t done;
static struct io_uring ring;
static unsigned char *buf[2];  /* SLOTS buffers of BSZ a direction */
static long res[2][SLOTS];

static void on_signal(int sig)
{
    (void)sig;
    done = 1;
}

static void die(const char *what, int err)
{
    fprintf(stderr, "ufwd: %s: %s\n", what, strerror(err));
    exit(1);
}

static int tun_in(const char *ns, const char *name)
{
    char path[256];
    snprintf(path, sizeof path, "/run/netns/%s", ns);
    int home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    int nsfd = open(path, O_RDONLY | O_CLOEXEC);
    if (home < 0 || nsfd < 0 || setns(nsfd, CLONE_NEWNET) < 0)
        die(path, errno);
    int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
    strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
    if (fd < 0 || ioctl(fd, TUNSETIFF, &ifr) < 0)
        die(name, errno);
    if (setns(home, CLONE_NEWNET) < 0)
        die("setns home", errno);
    close(home);
    close(nsfd);
    return fd;
}

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
    int want = (int)io_uring_sq_ready(&ring), done_n = 0;
    io_uring_submit(&ring);
    while (done_n < want) {
        struct io_uring_cqe *cqe;
        unsigned head, n = 0;
        io_uring_for_each_cqe(&ring, head, cqe) {
            if (cqe->user_data & READ_TAG)
                res[d][cqe->user_data & 0xff] = cqe->res;
            n++;
        }
        io_uring_cq_advance(&ring, n);
        done_n += (int)n;
        if (done_n < want)
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
    if (argc != 3) {
        fprintf(stderr, "usage: ufwd NS_A NS_B\n");
        return 2;
    }
    int fd[2] = {tun_in(argv[1], "fa"), tun_in(argv[2], "fb")};
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
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    printf("ready\n");
    fflush(stdout);
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
