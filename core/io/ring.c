/*
 * ring.c - the packet ring (dev:keep(n)): copies of the last n packets a
 * device read, each cut at snaplen bytes: one allocation when it is
 * switched on, a memcpy per packet while it is, nothing while it is off.
 * dev.c fills and frees it; task.c switches it on and reads it.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "io/io.h"

void vnet_ring_put(struct vnet_ring *r, const unsigned char *b, size_t n)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    size_t i = r->next;
    memcpy(r->buf + i * r->snap, b, n < r->snap ? n : r->snap);
    r->len[i] = n;
    r->when[i] = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
    r->next = (i + 1) % r->n;
    if (r->count < r->n)
        r->count++;
}

void vnet_ring_free(struct vnet_ring *r)
{
    if (r == NULL)
        return;
    free(r->len);
    free(r->when);
    free(r->buf);
    free(r);
}
