/*
 * tunfwd.h - what the C forwarders of bench/ share (cfwd.c, the contestant;
 * mfwd.c and ufwd.c, experiments for bench/profile.sh): opening a TUN in a
 * named namespace, the stop flag their SIGTERM/SIGINT handler sets, and
 * dying with a reason. Each program includes it once.
 */
#ifndef VNET_BENCH_TUNFWD_H
#define VNET_BENCH_TUNFWD_H
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
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

static void die(const char *what, int err)
{
    fprintf(stderr, "%s: %s\n", what, strerror(err));
    exit(1);
}

/* TUN `name` (IFF_TUN | IFF_NO_PI, non-blocking) made in /run/netns/ns;
 * the caller stays in its own namespace. */
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

/* Both TUNs of `prog NS_A NS_B` (fa in A, fb in B), the signals set. */
static void tun_pair(int argc, char **argv, const char *prog, int fd[2])
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s NS_A NS_B\n", prog);
        exit(2);
    }
    fd[0] = tun_in(argv[1], "fa");
    fd[1] = tun_in(argv[2], "fb");
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
}

/* "ready" on stdout: the bench starts the traffic when it reads it. */
static void say_ready(void)
{
    printf("ready\n");
    fflush(stdout);
}
#endif
