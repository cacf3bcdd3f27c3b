/*
 * nsid.c - which network namespace the calling thread is in, cached: the
 * netlink socket cache (nl.c) is keyed on it, and netns.c's current_id
 * answers with it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sys/stat.h>

#include "netlink/nl.h"

#define SELF "/proc/thread-self/ns/net"

/* The calling thread's namespace as stat(2) of SELF gives it, cached. It
 * changes only when vnet calls setns(2) or unshare(2), and each of them
 * (netns.c, sandbox.c) marks the cache stale first (moved()), so a
 * netlink request need not pay a procfs lookup to learn which namespace it
 * is in. Code outside vnet that moves the thread must call
 * vnet_netns_moved() too. Per thread, not per Lua state: the namespace belongs to the thread, and
 * every Lua state on the thread is in the same one. */
static _Thread_local struct {
    int valid;
    dev_t dev;
    ino_t ino;
} self;

void vnet_netns_moved(void)
{
    self.valid = 0;
}

int vnet_netns_self(dev_t *dev, ino_t *ino)
{
    if (!self.valid) {
        struct stat st;
        if (stat(SELF, &st) < 0)
            return -errno;
        self.dev = st.st_dev;
        self.ino = st.st_ino;
        self.valid = 1;
    }
    *dev = self.dev;
    *ino = self.ino;
    return 0;
}
