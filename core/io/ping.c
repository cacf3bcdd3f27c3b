/*
 * ping.c - vnet.ping.core: many ICMP echoes at once, for topo:pingall.
 *
 * One raw ICMP socket per source namespace (opened inside it: a socket
 * stays in the namespace it was made in), a window of echoes out at once
 * from all of them, the replies gathered with one poll() over all
 * sockets, and the silent ones asked again. Mininet pings one pair at a
 * time, a ping process each.
 *
 * The echo id is the job number, so a reply finds its job directly; the
 * socket it came in on and its source address must match the job's too.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "io/io.h"

#define MAX_JOBS 65535 /* the echo id is 16 bits */
#define MAX_FDS 4096

/* open() -> fd | nil, msg, errno: a raw ICMP socket in this namespace */
static int p_open(lua_State *L)
{
    int fd = socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMP);
    if (fd < 0)
        return vnet_pusherr(L, "ping.open", "icmp", errno,
                            errno == EPERM ? "raw sockets need CAP_NET_RAW" : NULL);
    lua_pushinteger(L, fd);
    return 1;
}

static int p_close(lua_State *L)
{
    close((int)luaL_checkinteger(L, 1));
    return 0;
}

struct job {
    int fd;
    struct in_addr dst;
    double sent;  /* ms, last send */
    double rtt;   /* ms, < 0 while unanswered */
    lua_Integer tries; /* echoes sent; -1 once given up */
};

static uint16_t csum(const void *b, size_t n)
{
    return (uint16_t)~vnet_csum_fold(vnet_csum_add(0, b, n));
}

static void send_echo(struct job *j, int id, int seq)
{
    unsigned char pkt[sizeof(struct icmphdr) + 8];
    struct icmphdr *h = (struct icmphdr *)pkt;
    memset(pkt, 0, sizeof pkt);
    h->type = ICMP_ECHO;
    h->un.echo.id = htons((uint16_t)id);
    h->un.echo.sequence = htons((uint16_t)seq);
    memcpy(pkt + sizeof *h, "vnetping", 8);
    h->checksum = csum(pkt, sizeof pkt);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr = j->dst};
    j->sent = vnet_now() * 1e3;
    /* a full queue or an unreachable net: the next round tries again */
    (void)sendto(j->fd, pkt, sizeof pkt, MSG_DONTWAIT, (struct sockaddr *)&sa, sizeof sa);
}

/* Read what fd holds; mark the jobs answered. Returns how many were. */
static int drain(int fd, struct job *jobs, int n)
{
    unsigned char buf[2048];
    int got = 0;
    for (;;) {
        struct sockaddr_in from;
        socklen_t fl = sizeof from;
        ssize_t r = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl);
        if (r < 0)
            break;
        if (r < (ssize_t)sizeof(struct iphdr))
            continue;
        struct iphdr *ip = (struct iphdr *)buf;
        size_t ihl = (size_t)ip->ihl * 4;
        if (ihl < sizeof *ip || (size_t)r < ihl + sizeof(struct icmphdr))
            continue;
        struct icmphdr *h = (struct icmphdr *)(buf + ihl);
        if (h->type != ICMP_ECHOREPLY)
            continue;
        int id = ntohs(h->un.echo.id);
        if (id < 1 || id > n)
            continue;
        struct job *j = &jobs[id - 1];
        if (j->fd != fd || j->rtt >= 0 || j->tries <= 0 ||
            from.sin_addr.s_addr != j->dst.s_addr)
            continue;
        j->rtt = vnet_now() * 1e3 - j->sent;
        got++;
    }
    return got;
}

/* sweep({ {fd, "dst"}, ... }, wait_s, tries, window) -> { rtt_ms | false, ... }
 * At most `window` echoes are out at a time (a burst of thousands, each
 * needing ARP, floods the bridge's ports past the kernel's backlog and is
 * lost); one not answered in wait_s is asked again, up to tries times. */
static int p_sweep(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    double wait_s = luaL_optnumber(L, 2, 1.0);
    lua_Integer tries = luaL_optinteger(L, 3, 3);
    lua_Integer window = luaL_optinteger(L, 4, 32);
    luaL_argcheck(L, wait_s > 0 && wait_s <= 60, 2, "wait must be 0 to 60 s");
    luaL_argcheck(L, tries >= 1 && tries <= 100, 3, "tries must be 1 to 100");
    luaL_argcheck(L, window >= 1 && window <= MAX_JOBS, 4, "window must be 1 to 65535");
    lua_Integer n = luaL_len(L, 1);
    luaL_argcheck(L, n <= MAX_JOBS, 1, "at most 65535 pings at once");
    struct job *jobs = lua_newuserdatauv(L, sizeof *jobs * (size_t)(n ? n : 1), 0);
    struct pollfd *pfds = lua_newuserdatauv(L, sizeof *pfds * MAX_FDS, 0);
    int nfds = 0;
    for (lua_Integer i = 0; i < n; i++) {
        lua_rawgeti(L, 1, i + 1);
        luaL_argcheck(L, lua_istable(L, -1), 1, "each job is { fd, \"dst\" }");
        lua_rawgeti(L, -1, 1);
        lua_rawgeti(L, -2, 2);
        int fd = (int)luaL_checkinteger(L, -2);
        const char *dst = luaL_checkstring(L, -1);
        if (inet_pton(AF_INET, dst, &jobs[i].dst) != 1)
            return luaL_error(L, "ping.sweep: '%s' is not an IPv4 address", dst);
        jobs[i].fd = fd;
        jobs[i].rtt = -1;
        jobs[i].tries = 0;
        lua_pop(L, 3);
        int k;
        for (k = 0; k < nfds && pfds[k].fd != fd; k++)
            ;
        if (k == nfds) {
            if (nfds == MAX_FDS)
                return luaL_error(L, "ping.sweep: at most %d sockets", MAX_FDS);
            pfds[nfds].fd = fd;
            pfds[nfds++].events = POLLIN;
        }
    }
    double wait_ms = wait_s * 1e3;
    lua_Integer next = 0, done = 0, inflight = 0;
    while (done < n) {
        double t = vnet_now() * 1e3, soonest = t + wait_ms;
        for (lua_Integer i = 0; i < next; i++) { /* the silent ones */
            struct job *j = &jobs[i];
            if (j->rtt >= 0 || j->tries < 0)
                continue;
            if (t - j->sent >= wait_ms) {
                if (j->tries >= tries) {
                    j->tries = -1; /* lost */
                    done++;
                    inflight--;
                    continue;
                }
                j->tries++;
                send_echo(j, (int)i + 1, (int)j->tries);
            }
            if (j->sent + wait_ms < soonest) soonest = j->sent + wait_ms;
        }
        while (inflight < window && next < n) {
            jobs[next].tries = 1;
            send_echo(&jobs[next], (int)next + 1, 1);
            next++;
            inflight++;
        }
        if (done >= n)
            break;
        int ms = (int)(soonest - vnet_now() * 1e3) + 1;
        if (poll(pfds, (nfds_t)nfds, ms < 0 ? 0 : ms) < 0 && errno != EINTR)
            return vnet_pusherr(L, "ping.sweep", "poll", errno, NULL);
        for (int k = 0; k < nfds; k++) {
            if (pfds[k].revents & POLLIN) {
                int got = drain(pfds[k].fd, jobs, (int)n);
                done += got;
                inflight -= got;
            }
        }
    }
    lua_createtable(L, (int)n, 0);
    for (lua_Integer i = 0; i < n; i++) {
        if (jobs[i].rtt >= 0) lua_pushnumber(L, jobs[i].rtt);
        else lua_pushboolean(L, 0);
        lua_rawseti(L, -2, i + 1);
    }
    return 1;
}

/* nap(s): sleep s seconds (at most 10), without a loop or a process */
static int p_nap(lua_State *L)
{
    double s = luaL_checknumber(L, 1);
    luaL_argcheck(L, s >= 0 && s <= 10, 1, "0 to 10 seconds");
    poll(NULL, 0, (int)(s * 1e3));
    return 0;
}

int luaopen_vnet_ping_core(lua_State *L)
{
    static const luaL_Reg funcs[] = {
        {"open", p_open}, {"close", p_close}, {"sweep", p_sweep}, {"nap", p_nap},
        {NULL, NULL}
    };
    luaL_newlib(L, funcs);
    return 1;
}
