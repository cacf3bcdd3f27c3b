/*
 * cfwd.c - the baseline the vnet forwarder is measured against: what most
 * hand-written TUN tools do. One packet per read(2) and per write(2),
 * poll(2) for readiness, no offloads.
 *
 *   cfwd NS_A NS_B      opens TUN "fa" in /run/netns/NS_A and "fb" in
 *                       /run/netns/NS_B, prints "ready", and forwards
 *                       between them until SIGTERM/SIGINT.
 */
#include "tunfwd.h"

#include <poll.h>

int main(int argc, char **argv)
{
    int fd[2];
    tun_pair(argc, argv, "cfwd", fd);
    say_ready();
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
