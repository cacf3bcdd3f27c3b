/*
 * nl.c - the rtnetlink socket every vnet module shares.
 *
 * libnl builds the messages; this file owns the socket and the exchange, so
 * that an error keeps its errno and the kernel's extended-ack text (libnl
 * 3.7 maps errors onto its own NLE_* codes and drops the text).
 *
 * A netlink socket belongs to the network namespace it was opened in, so the
 * cached socket is reopened whenever the calling thread has moved to
 * another namespace (netns:run, setns).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <linux/netlink.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>

#include "vnet.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

static struct nl_sock *sock;
static dev_t sock_dev;
static ino_t sock_ino;

struct nl_sock *vnet_nl_sock(int *err)
{
    struct stat st;
    if (stat("/proc/thread-self/ns/net", &st) < 0) {
        *err = errno;
        return NULL;
    }
    if (sock && st.st_ino == sock_ino && st.st_dev == sock_dev)
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
    sock_ino = st.st_ino;
    sock_dev = st.st_dev;
    return sock;
}

struct exchange {
    int done;
    int error;   /* 0 or -errno */
    char *ext;
    size_t n;
};

/* Copy NLMSGERR_ATTR_MSG out of an error/ack message, if present. */
static void extack(struct nlmsgerr *e, struct exchange *x)
{
    struct nlmsghdr *h = (struct nlmsghdr *)((char *)e - NLMSG_HDRLEN);
    if (!(h->nlmsg_flags & NLM_F_ACK_TLVS) || x->ext == NULL)
        return;
    size_t off = sizeof *e;
    if (!(h->nlmsg_flags & NLM_F_CAPPED))
        off += NLMSG_ALIGN(e->msg.nlmsg_len - NLMSG_HDRLEN);
    size_t total = h->nlmsg_len - NLMSG_HDRLEN;
    if (off >= total)
        return;
    struct nlattr *a = (struct nlattr *)((char *)e + off);
    int rem = (int)(total - off);
    for (; nla_ok(a, rem); a = nla_next(a, &rem)) {
        if (nla_type(a) == NLMSGERR_ATTR_MSG && nla_len(a) > 0) {
            size_t len = strnlen(nla_data(a), (size_t)nla_len(a));
            if (len >= x->n) len = x->n - 1;
            memcpy(x->ext, nla_data(a), len);
            x->ext[len] = '\0';
        }
    }
}

static int on_error(struct sockaddr_nl *who, struct nlmsgerr *e, void *arg)
{
    (void)who;
    struct exchange *x = arg;
    x->error = e->error;
    extack(e, x);
    x->done = 1;
    return NL_STOP;
}

static int on_ack(struct nl_msg *msg, void *arg)
{
    struct exchange *x = arg;
    extack(nlmsg_data(nlmsg_hdr(msg)), x); /* warnings ride on acks too */
    x->done = 1;
    return NL_STOP;
}

int vnet_nl_request(struct nl_msg *msg, char *ext, size_t n)
{
    int err = 0;
    struct exchange x = {0, 0, ext, n};
    if (ext && n) ext[0] = '\0';
    struct nl_sock *s = vnet_nl_sock(&err);
    if (s == NULL) {
        nlmsg_free(msg);
        return -err;
    }
    nlmsg_hdr(msg)->nlmsg_flags |= NLM_F_ACK;
    int r = nl_send_auto(s, msg);
    nlmsg_free(msg);
    if (r < 0)
        return -(errno ? errno : EIO);
    struct nl_cb *cb = nl_cb_alloc(NL_CB_DEFAULT);
    if (cb == NULL)
        return -ENOMEM;
    nl_cb_err(cb, NL_CB_CUSTOM, on_error, &x);
    nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, on_ack, &x);
    while (!x.done) {
        r = nl_recvmsgs(s, cb);
        if (r < 0 && !x.done) {
            x.error = -(errno ? errno : EIO);
            break;
        }
    }
    nl_cb_put(cb);
    return x.error;
}
