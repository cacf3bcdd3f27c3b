/*
 * udpflood.c - the small-packet load of the benchmark: a UDP sender and
 * receiver cheap enough per datagram that the forwarder between them, not
 * the load generator, sets the rate (iperf3 -u makes one sendto and two
 * clock reads per datagram and was the bottleneck on two cores).
 *
 *   udpflood send ADDR PORT SECONDS [LEN]
 *       sends LEN-byte (64) datagrams to ADDR:PORT as fast as it can,
 *       64 per sendmmsg(2), for SECONDS; prints "sent N"
 *   udpflood recv PORT SECONDS
 *       counts datagrams on PORT with recvmmsg(2), from the first one for
 *       SECONDS (or until none came for a second); prints
 *       "received N in T s: R pps"
 *   udpflood sink PORT SECONDS
 *       binds PORT with the smallest receive buffer and reads nothing for
 *       SECONDS: every datagram reaches the socket, which drops it (the
 *       kernel counts each in Udp InErrors/RcvbufErrors as it drops it),
 *       and no reader takes CPU time from a sender on the same CPU
 *
 * IPv4 only; the sender ignores ENOBUFS/EAGAIN (a full queue is the point).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int usage(void)
{
    fprintf(stderr, "usage: udpflood send ADDR PORT SECONDS [LEN]\n"
                    "       udpflood recv PORT SECONDS\n"
                    "       udpflood sink PORT SECONDS\n");
    return 2;
}

static int do_send(const char *addr, int port, double secs, size_t len)
{
    static char payload[65507];
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (len > sizeof payload || inet_pton(AF_INET, addr, &to.sin_addr) != 1)
        return usage();
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&to, sizeof to) < 0) {
        perror("udpflood: socket/connect");
        return 1;
    }
    memset(payload, 'x', len);
    struct iovec iov = {.iov_base = payload, .iov_len = len};
    struct mmsghdr msgs[BATCH];
    memset(msgs, 0, sizeof msgs);
    for (int i = 0; i < BATCH; i++) {
        msgs[i].msg_hdr.msg_iov = &iov;
        msgs[i].msg_hdr.msg_iovlen = 1;
    }
    unsigned long long sent = 0;
    double end = now() + secs;
    while (now() < end) {
        int n = sendmmsg(fd, msgs, BATCH, 0);
        if (n > 0)
            sent += (unsigned long long)n;
        else if (n < 0 && errno != ENOBUFS && errno != EAGAIN &&
                 errno != ECONNREFUSED && errno != EINTR) {
            perror("udpflood: sendmmsg");
            return 1;
        }
    }
    printf("sent %llu\n", sent);
    return 0;
}

static int do_recv(int port, double secs)
{
    struct sockaddr_in at = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    int big = 8 << 20;
    struct timeval tv = {.tv_sec = 1};
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof big) < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0 ||
        bind(fd, (struct sockaddr *)&at, sizeof at) < 0) {
        perror("udpflood: socket/bind");
        return 1;
    }
    printf("ready\n");
    fflush(stdout);
    static char bufs[BATCH][2048];
    struct iovec iov[BATCH];
    struct mmsghdr msgs[BATCH];
    memset(msgs, 0, sizeof msgs);
    for (int i = 0; i < BATCH; i++) {
        iov[i].iov_base = bufs[i];
        iov[i].iov_len = sizeof bufs[i];
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
    }
    unsigned long long got = 0;
    double first = 0, last = 0;
    for (int idle = 0; idle < 30;) { /* 30 s without the first datagram: give up */
        int n = recvmmsg(fd, msgs, BATCH, 0, NULL);
        if (n < 0) {
            if (errno != EAGAIN && errno != EINTR) {
                perror("udpflood: recvmmsg");
                return 1;
            }
            if (got)
                break; /* a second of silence: the sender is done */
            idle++;
            continue;
        }
        double t = now();
        if (!got)
            first = t;
        got += (unsigned long long)n;
        last = t;
        if (t - first >= secs)
            break;
    }
    double span = last - first;
    printf("received %llu in %.3f s: %.0f pps\n", got, span, span > 0 ? (double)got / span : 0.0);
    return got ? 0 : 1;
}

static int do_sink(int port, double secs)
{
    struct sockaddr_in at = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    int small = 0; /* the kernel rounds it up to its minimum */
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small) < 0 ||
        bind(fd, (struct sockaddr *)&at, sizeof at) < 0) {
        perror("udpflood: socket/bind");
        return 1;
    }
    printf("ready\n");
    fflush(stdout);
    struct timespec ts = {(time_t)secs, (long)((secs - (double)(time_t)secs) * 1e9)};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 5 && strcmp(argv[1], "send") == 0)
        return do_send(argv[2], atoi(argv[3]), atof(argv[4]),
                       argc > 5 ? (size_t)atoi(argv[5]) : 64);
    if (argc == 4 && strcmp(argv[1], "recv") == 0)
        return do_recv(atoi(argv[2]), atof(argv[3]));
    if (argc == 4 && strcmp(argv[1], "sink") == 0)
        return do_sink(atoi(argv[2]), atof(argv[3]));
    return usage();
}
