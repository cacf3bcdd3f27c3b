/*
 * cfwd.c - the baseline the vnet forwarder is measured against: what most
 * hand-written TUN tools do. One packet per read(2) and per write(2),
 * poll(2) for readiness, no offloads.
 *
 *   cfwd NS_A NS_B      opens TUN "fa" in /run/netns/NS_A and "fb" in
 *                       /run/netns/NS_B, prints "ready", and forwards
 *                       between them until SIGTERM/SIGINT.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
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

static volatile sig_atomic_t done;

static void on_signal(int sig)
{
    (void)sig;
    done = 1;
}

static int tun_in(const char *ns, const char *name)
{
    char path[256];
    snprintf(path, sizeof path, "/run/netns/%s", ns);
    int home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    int nsfd = open(path, O_RDONLY | O_CLOEXEC);
    if (home < 0 || nsfd < 0 || setns(nsfd, CLONE_NEWNET) < 0) {
        perror(path);
        exit(1);
    }
    int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
    strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
    if (fd < 0 || ioctl(fd, TUNSETIFF, &ifr) < 0) {
        perror(name);
        exit(1);
    }
    if (setns(home, CLONE_NEWNET) < 0) {
        perror("setns home");
        exit(1);
    }
    close(home);
    close(nsfd);
    return fd;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: cfwd NS_A NS_B\n");
        return 2;
    }
    int fd[2] = {tun_in(argv[1], "fa"), tun_in(argv[2], "fb")};
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    printf("ready\n");
    fflush(stdout);
    static unsigned char buf[65536];
    struct pollfd pfd[2] = {{fd[0], POLLIN, 0}, {fd[1], POLLIN, 0}};
    while (!done) {
        if (poll(pfd, 2, 500) < 0) {
            if (errno == EINTR) continue;
            perror("poll");
            return 1;
        }
        for (int i = 0; i < 2; i++) {
            if (!(pfd[i].revents & POLLIN))
                continue;
            for (;;) { /* drain: one packet per syscall */
                ssize_t n = read(fd[i], buf, sizeof buf);
                if (n <= 0)
                    break;
                if (write(fd[1 - i], buf, (size_t)n) < 0 && errno != EAGAIN)
                    perror("write");
            }
        }
    }
    return 0;
}
