/*
 * nl.c - the rtnetlink socket every vnet module shares, and the exchange.
 *
 * libnl builds the messages; this file owns the socket and the exchange, so
 * that an error keeps its errno and the kernel's extended-ack text (libnl
 * 3.7 maps errors onto its own NLE_* codes and drops the text). Replies are
 * read here with plain recv() and walked with NLMSG_OK, so a dump, a get
 * with one answer and a request with only an ack go through one loop.
 *
 * A netlink socket belongs to the network namespace it was opened in, so the
 * cached socket is reopened whenever the calling thread has moved to
 * another namespace (netns:run, setns; vnet_netns_self() knows which).
 *
 * A dump the kernel marks interrupted (NLM_F_DUMP_INTR: the table changed
 * while it was being walked) is thrown away and asked for again, up to
 * VNET_NL_DUMP_TRIES times, so callers never see half a table.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <linux/netlink.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>

#include "netlink/nl.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

/* The socket of the namespace (sock_dev, sock_ino) the thread was in at
 * its last request. Per thread, not per Lua state: a socket speaks for the
 * namespace it was opened in, and the namespace belongs to the thread
 * (nsid.c); every request is synchronous (sent, then read up to its ack),
 * so the Lua states on one thread can share it, and no Lua-visible state
 * lives in it. */
static _Thread_local struct nl_sock *sock;
static _Thread_local dev_t sock_dev;
static _Thread_local ino_t sock_ino;
/* test hook: pretend the next N dumps were interrupted (process-wide: a
 * knob the specs turn, nothing a script keeps) */
static int inject_intr;

struct nl_sock *vnet_nl_sock(int *err)
{
    dev_t dev;
    ino_t ino;
    int r = vnet_netns_self(&dev, &ino);
    if (r < 0) {
        *err = -r;
        return NULL;
    }
    if (sock && ino == sock_ino && dev == sock_dev)
        return sock;
    if (sock) {
        nl_socket_free(sock);
        sock = NULL;
    }
    struct nl_sock *s = nl_socket_alloc();
    if (s == NULL) {
        *err = ENOMEM;
        return NULL;
    }
    if (nl_connect(s, NETLINK_ROUTE) < 0) {
        *err = errno ? errno : EPROTONOSUPPORT;
        nl_socket_free(s);
        return NULL;
    }
    int one = 1;
    setsockopt(nl_socket_get_fd(s), SOL_NETLINK, NETLINK_EXT_ACK, &one,
               sizeof one);
    setsockopt(nl_socket_get_fd(s), SOL_NETLINK, NETLINK_CAP_ACK, &one,
               sizeof one);
    sock = s;
    sock_ino = ino;
    sock_dev = dev;
    return sock;
}

void vnet_nl_forget(unsigned long dev, unsigned long ino)
{
    if (sock && sock_dev == dev && sock_ino == ino) {
        nl_socket_free(sock);
        sock = NULL;
    }
}

/* Copy NLMSGERR_ATTR_MSG out of the TLVs that follow `off` bytes of payload
 * of an error, ack or done message. */
static void extack_tlvs(struct nlmsghdr *h, size_t off, char *ext, size_t n)
{
    if (!(h->nlmsg_flags & NLM_F_ACK_TLVS) || ext == NULL || n == 0)
        return;
    size_t total = h->nlmsg_len - NLMSG_HDRLEN;
    if (off >= total)
        return;
    struct nlattr *a = (struct nlattr *)((char *)NLMSG_DATA(h) + off);
    int rem = (int)(total - off);
    for (; nla_ok(a, rem); a = nla_next(a, &rem)) {
        if (nla_type(a) == NLMSGERR_ATTR_MSG && nla_len(a) > 0) {
            size_t len = strnlen(nla_data(a), (size_t)nla_len(a));
            if (len >= n) len = n - 1;
            memcpy(ext, nla_data(a), len);
            ext[len] = '\0';
            /* the kernel's sentences often end in '.'; ours add ')' */
            if (len > 0 && ext[len - 1] == '.')
                ext[len - 1] = '\0';
        }
    }
}

static void extack_err(struct nlmsghdr *h, char *ext, size_t n)
{
    struct nlmsgerr *e = NLMSG_DATA(h);
    size_t off = sizeof *e;
    if (!(h->nlmsg_flags & NLM_F_CAPPED))
        off += NLMSG_ALIGN(e->msg.nlmsg_len - NLMSG_HDRLEN);
    extack_tlvs(h, off, ext, n);
}

/* One send and its replies. Returns 0 or -errno; *intr is set when the
 * kernel flagged the dump as interrupted. */
static int exchange(struct nl_msg *msg, vnet_nl_each each, void *arg,
                    char *ext, size_t n, int *intr)
{
    int err = 0;
    struct nl_sock *s = vnet_nl_sock(&err);
    if (s == NULL)
        return -err;
    struct nlmsghdr *req = nlmsg_hdr(msg);
    int dump = (req->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP;
    if (!dump)
        req->nlmsg_flags |= NLM_F_ACK;
    req->nlmsg_seq = NL_AUTO_SEQ;
    if (nl_send_auto(s, msg) < 0)
        return -(errno ? errno : EIO);
    unsigned seq = req->nlmsg_seq;
    int fd = nl_socket_get_fd(s);
    size_t cap = 0;
    char *buf = NULL;
    int done = 0, r = 0;
    while (!done) {
        ssize_t len = recv(fd, NULL, 0, MSG_PEEK | MSG_TRUNC);
        if (len < 0) {
            if (errno == EINTR) continue;
            r = -errno;
            break;
        }
        if ((size_t)len > cap) {
            char *nb = realloc(buf, (size_t)len);
            if (nb == NULL) { r = -ENOMEM; break; }
            buf = nb;
            cap = (size_t)len;
        }
        len = recv(fd, buf, cap, 0);
        if (len < 0) {
            if (errno == EINTR) continue;
            r = -errno;
            break;
        }
        int rem = (int)len;
        for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, rem);
             h = NLMSG_NEXT(h, rem)) {
            if (h->nlmsg_seq != seq)
                continue; /* left over from an earlier exchange */
            if (h->nlmsg_flags & NLM_F_DUMP_INTR)
                *intr = 1;
            if (h->nlmsg_type == NLMSG_ERROR) {
                struct nlmsgerr *e = NLMSG_DATA(h);
                if (e->error < 0 && r == 0)
                    r = e->error;
                extack_err(h, ext, n);
                done = 1;
            } else if (h->nlmsg_type == NLMSG_DONE) {
                int *code = NLMSG_DATA(h);
                if (h->nlmsg_len >= NLMSG_LENGTH(sizeof(int)) && *code < 0 &&
                    r == 0)
                    r = *code;
                extack_tlvs(h, sizeof(int), ext, n);
                done = 1;
            } else if (h->nlmsg_type >= NLMSG_MIN_TYPE && each && r == 0) {
                r = each(h, arg); /* a get's answer comes before its ack */
            }
        }
    }
    free(buf);
    return r;
}

int vnet_nl_exchange(struct nl_msg *msg, vnet_nl_each each,
                     void (*restart)(void *), void *arg, char *ext, size_t n)
{
    if (ext && n) ext[0] = '\0';
    int r = -EINTR;
    for (int tries = 0; tries < VNET_NL_DUMP_TRIES; tries++) {
        int intr = 0;
        if (tries > 0 && restart)
            restart(arg);
        r = exchange(msg, each, arg, ext, n, &intr);
        if (inject_intr > 0 && r == 0 &&
            (nlmsg_hdr(msg)->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP) {
            inject_intr--;
            intr = 1;
        }
        if (!intr || r < 0)
            break;
        r = -EINTR; /* try again from the start */
        if (ext && n)
            snprintf(ext, n, "the kernel interrupted the dump %d times "
                     "in a row; try again", VNET_NL_DUMP_TRIES);
    }
    nlmsg_free(msg);
    return r;
}

int vnet_nl_request(struct nl_msg *msg, char *ext, size_t n)
{
    return vnet_nl_exchange(msg, NULL, NULL, NULL, ext, n);
}

void vnet_nl_inject_intr(int n)
{
    inject_intr = n;
}

const char *vnet_nl_hint(int err)
{
    switch (err) {
    case EPERM:
    case EACCES:
        return "needs CAP_NET_ADMIN: run as root or with sudo, or explore in "
               "a private namespace with `vnet --sandbox`";
    default:
        return NULL;
    }
}

int vnet_nl_pusherr(lua_State *L, const char *op, const char *obj, int r,
                    const char *ext)
{
    int err = r < 0 ? -r : r;
    const char *detail = ext && *ext ? ext : vnet_nl_hint(err);
    return vnet_pusherr(L, op, obj, err, detail);
}

struct collected {
    lua_State *L;
    int tbl, n;
    const vnet_nl_list *how;
};

static int collect_one(struct nlmsghdr *h, void *arg)
{
    struct collected *c = arg;
    if (c->how->keep && !c->how->keep(h, c->how->arg))
        return 0;
    c->how->push(c->L, h);
    lua_rawseti(c->L, c->tbl, ++c->n);
    return 0;
}

static void collect_restart(void *arg)
{
    struct collected *c = arg;
    lua_newtable(c->L);
    lua_replace(c->L, c->tbl);
    c->n = 0;
}

int vnet_nl_collect(lua_State *L, struct nl_msg *msg, const vnet_nl_list *how,
                    char *ext, size_t n)
{
    lua_newtable(L);
    struct collected c = {L, lua_gettop(L), 0, how};
    int r = vnet_nl_exchange(msg, collect_one, collect_restart, &c, ext, n);
    if (r < 0)
        lua_pop(L, 1);
    return r;
}

int vnet_nl_dump(lua_State *L, int type, const void *hdr, size_t len,
                 const vnet_nl_list *how, const char *op, const char *obj)
{
    struct nl_msg *msg = nlmsg_alloc_simple(type, NLM_F_DUMP);
    if (msg == NULL || nlmsg_append(msg, (void *)hdr, len, NLMSG_ALIGNTO) < 0) {
        nlmsg_free(msg);
        return vnet_pusherr(L, op, obj, ENOMEM, NULL);
    }
    char ext[256] = "";
    int r = vnet_nl_collect(L, msg, how, ext, sizeof ext);
    if (r < 0)
        return vnet_nl_pusherr(L, op, obj, r, ext);
    return 1;
}

int vnet_nl_optfamily(lua_State *L, int idx, const char *op)
{
    static const char *const fams[] = {"inet", "inet6", NULL};
    if (lua_isnoneornil(L, idx))
        return AF_UNSPEC;
    const char *s = lua_tostring(L, idx);
    for (int i = 0; s && fams[i]; i++)
        if (strcmp(s, fams[i]) == 0)
            return i == 0 ? AF_INET : AF_INET6;
    return vnet_error(L, "%s: option 'family' must be inet or inet6 (got '%s')",
                      op, luaL_tolstring(L, idx, NULL));
}

void vnet_nl_setip(lua_State *L, const char *k, const struct nlattr *a,
                   int plen)
{
    char out[INET6_ADDRSTRLEN];
    int len = a ? nla_len(a) : 0;
    if ((len != 4 && len != 16) ||
        inet_ntop(len == 4 ? AF_INET : AF_INET6, nla_data(a), out,
                  sizeof out) == NULL)
        return;
    if (plen >= 0)
        lua_pushfstring(L, "%s/%d", out, plen);
    else
        lua_pushstring(L, out);
    lua_setfield(L, -2, k);
}

void vnet_nl_pushmac(lua_State *L, const unsigned char *p, int len)
{
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (int i = 0; i < len; i++) {
        char h[4];
        snprintf(h, sizeof h, i ? ":%02x" : "%02x", p[i]);
        luaL_addstring(&b, h);
    }
    luaL_pushresult(&b);
}

/* ---- batches: many requests in one send, their acks read together ---- */

/* process-wide, as the cached socket whose batches it numbers is */
static unsigned batch_seq;

/* Send msgs[from..to) in one sendmsg, then read until each has its ack. */
static int batch_chunk(struct nl_sock *s, struct nl_msg **msgs, int from,
                       int to, vnet_nl_batch_each each, void *arg, int *errs,
                       char *ext, size_t extn, int *first, char **buf,
                       size_t *cap)
{
    struct iovec iov[VNET_NL_BATCH];
    unsigned base = batch_seq;
    for (int k = from; k < to; k++) {
        struct nlmsghdr *h = nlmsg_hdr(msgs[k]);
        h->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
        h->nlmsg_seq = base + (unsigned)(k - from);
        h->nlmsg_pid = 0;
        iov[k - from].iov_base = h;
        iov[k - from].iov_len = NLMSG_ALIGN(h->nlmsg_len);
        errs[k] = 1; /* no ack yet */
    }
    batch_seq += (unsigned)(to - from);
    struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
    struct msghdr mh = {.msg_name = &kernel, .msg_namelen = sizeof kernel,
                        .msg_iov = iov, .msg_iovlen = (size_t)(to - from)};
    int fd = nl_socket_get_fd(s);
    while (sendmsg(fd, &mh, 0) < 0)
        if (errno != EINTR)
            return -errno;
    int left = to - from, next = from; /* next: the oldest request unacked */
    while (left > 0) {
        ssize_t len = recv(fd, NULL, 0, MSG_PEEK | MSG_TRUNC);
        if (len < 0) {
            if (errno == EINTR) continue;
            return -errno;
        }
        if ((size_t)len > *cap) {
            char *nb = realloc(*buf, (size_t)len);
            if (nb == NULL) return -ENOMEM;
            *buf = nb;
            *cap = (size_t)len;
        }
        len = recv(fd, *buf, *cap, 0);
        if (len < 0) {
            if (errno == EINTR) continue;
            return -errno;
        }
        int rem = (int)len;
        for (struct nlmsghdr *h = (struct nlmsghdr *)*buf; NLMSG_OK(h, rem);
             h = NLMSG_NEXT(h, rem)) {
            unsigned off = h->nlmsg_seq - base;
            int k = off < (unsigned)(to - from) ? from + (int)off : -1;
            if (h->nlmsg_type == NLMSG_ERROR) {
                if (k < 0 || errs[k] != 1)
                    continue; /* left over from an earlier exchange */
                struct nlmsgerr *e = NLMSG_DATA(h);
                errs[k] = e->error < 0 ? e->error : 0;
                if (errs[k] < 0 && (*first < 0 || k < *first)) {
                    *first = k;
                    if (ext && extn) ext[0] = '\0';
                    extack_err(h, ext, extn);
                }
                left--;
                while (next < to && errs[next] != 1)
                    next++;
            } else if (h->nlmsg_type >= NLMSG_MIN_TYPE && each) {
                /* an echo carries its request's seq; one without (an
                 * older kernel's) belongs to the oldest request unacked */
                if (k < 0 && h->nlmsg_seq == 0 && next < to)
                    k = next;
                if (k >= 0 && errs[k] == 1) {
                    int r = each(k, h, arg);
                    if (r < 0) return r;
                }
            }
        }
    }
    return 0;
}

int vnet_nl_batch(struct nl_msg **msgs, int n, vnet_nl_batch_each each,
                  void *arg, int *errs, char *ext, size_t extn, int *seen)
{
    int err = 0, first = -1, r = 0, k = 0;
    char *buf = NULL;
    size_t cap = 0;
    if (ext && extn) ext[0] = '\0';
    *seen = 0;
    struct nl_sock *s = vnet_nl_sock(&err);
    if (s == NULL)
        r = -err;
    if (batch_seq == 0)
        batch_seq = 0x40000000u; /* apart from libnl's own sequence */
    int per = 1; /* requests to a send */
    if (s) {
        /* the replies of a whole chunk (echoes of several KiB of skb each)
         * queue before the first is read: make room (FORCE needs
         * CAP_NET_ADMIN in the machine's namespace; else rmem_max caps
         * it, as in a user namespace) and send no more to a chunk than
         * the room takes at 16 KiB a reply, so that none is dropped */
        int want = VNET_NL_BATCH * 32768, fd = nl_socket_get_fd(s), got = 0;
        socklen_t len = sizeof got;
        if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &want, sizeof want) < 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &want, sizeof want);
        if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &got, &len) == 0)
            per = got / 16384;
        per = per < 1 ? 1 : per > VNET_NL_BATCH ? VNET_NL_BATCH : per;
    }
    for (; r == 0 && k < n && first < 0; k += per) {
        int to = k + per < n ? k + per : n;
        r = batch_chunk(s, msgs, k, to, each, arg, errs, ext, extn, &first,
                        &buf, &cap);
        *seen = to;
    }
    free(buf);
    for (int i = 0; i < n; i++) {
        if (i >= *seen) errs[i] = 1;
        nlmsg_free(msgs[i]);
        msgs[i] = NULL;
    }
    if (r < 0)
        return r;
    return first >= 0 ? first : n;
}
