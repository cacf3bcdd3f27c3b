/*
 * nl.h - the netlink layer (core/netlink/): the rtnetlink socket and
 * exchange, attributes, links, addresses, routes, neighbours, events,
 * traffic control, network namespaces and commands run in them, and the
 * session's guardian. What the host uses. Uses only util.
 */
#ifndef VNET_NL_H
#define VNET_NL_H

#include "util/util.h"

/* ---- netlink (nl.c, nla.c) ------------------------------------------ */

struct nl_sock;
struct nl_msg;
struct nlmsghdr;
struct nlattr;

/* Socket for the calling thread's current network namespace (cached and
 * reopened when the namespace changed); NULL with *err = errno. */
struct nl_sock *vnet_nl_sock(int *err);

/* Drop the cached socket if it is the one of namespace (dev, ino), so that
 * it does not keep a namespace that is being let go alive. */
void vnet_nl_forget(unsigned long dev, unsigned long ino);

/* nsid.c: the calling thread's network namespace (cached; every setns or
 * unshare vnet makes calls vnet_netns_moved() first) */
int vnet_netns_self(dev_t *dev, ino_t *ino);
void vnet_netns_moved(void);

/* Called for each data message of a reply; return 0 or -errno. */
typedef int (*vnet_nl_each)(struct nlmsghdr *h, void *arg);

#define VNET_NL_DUMP_TRIES 10

/* Send msg (consumed) and read its replies up to the ack or NLMSG_DONE,
 * calling each() for every data message. A dump flagged NLM_F_DUMP_INTR
 * is asked for again (restart(arg) first, to drop what was collected), up
 * to VNET_NL_DUMP_TRIES times, then fails with -EINTR. Returns 0 or
 * -errno; on error the kernel's extended-ack text, if any, is in ext. */
int vnet_nl_exchange(struct nl_msg *msg, vnet_nl_each each,
                     void (*restart)(void *), void *arg, char *ext, size_t n);

/* The answers of a dump (or a get) as a Lua list: keep(h, arg) picks the
 * messages (NULL: all), push(L, h) turns one into a Lua value. */
typedef struct vnet_nl_list {
    int (*keep)(struct nlmsghdr *h, void *arg);
    void (*push)(lua_State *L, struct nlmsghdr *h);
    void *arg;
} vnet_nl_list;

/* Send msg (consumed) and collect the answers into a new table pushed on
 * the stack (an interrupted dump starts the table again). Returns 0, or
 * -errno with nothing pushed and the kernel's text in ext. */
int vnet_nl_collect(lua_State *L, struct nl_msg *msg, const vnet_nl_list *how,
                    char *ext, size_t n);

/* A dump of `type` (RTM_GETLINK, ...) with the fixed header hdr (len
 * bytes) as a Lua list (see vnet_nl_collect): pushes the table and returns
 * 1, or pushes nil, msg, errno for op on obj and returns 3. */
int vnet_nl_dump(lua_State *L, int type, const void *hdr, size_t len,
                 const vnet_nl_list *how, const char *op, const char *obj);

/* The optional address-family argument at idx: nil -> AF_UNSPEC,
 * "inet" -> AF_INET, "inet6" -> AF_INET6 (anything else raises, naming op). */
int vnet_nl_optfamily(lua_State *L, int idx, const char *op);

/* t[k] = the IPv4 or IPv6 address in a (4 or 16 bytes) as text, with
 * "/plen" when plen >= 0; nothing when a is NULL or of another size. */
void vnet_nl_setip(lua_State *L, const char *k, const struct nlattr *a,
                   int plen);

/* Push len bytes as "aa:bb:cc:..." (a link-layer address). */
void vnet_nl_pushmac(lua_State *L, const unsigned char *p, int len);

/* Send msg (consumed) and wait for its ack. Returns 0 or -errno; on error
 * the kernel's extended-ack text, if any, is copied into ext (size n). */
int vnet_nl_request(struct nl_msg *msg, char *ext, size_t n);

/* A batch of n requests (consumed): sent up to VNET_NL_BATCH at a time (as
 * many as the socket's receive buffer has room to answer) in one
 * send each, their replies read together. each(k, h, arg) sees every data
 * reply of request k (an NLM_F_ECHO answer); errs[k] gets 0 or -errno from
 * its ack. Sending stops after the chunk in which a request failed (the
 * kernel has run the rest of that chunk). Returns the index of the first
 * failed request with its extended-ack text in ext, n when all succeeded,
 * or -errno when the exchange itself failed; *seen: how many requests the
 * kernel ran (the others were freed unsent, errs[k] = 1). */
#define VNET_NL_BATCH 64
typedef int (*vnet_nl_batch_each)(int k, struct nlmsghdr *h, void *arg);
int vnet_nl_batch(struct nl_msg **msgs, int n, vnet_nl_batch_each each,
                  void *arg, int *errs, char *ext, size_t extn, int *seen);

/* What to do about a netlink errno (EPERM: CAP_NET_ADMIN), or NULL. */
const char *vnet_nl_hint(int err);

/* vnet_pusherr for a netlink result r (-errno): the detail is the kernel's
 * extended-ack text, else vnet_nl_hint. Returns 3. */
int vnet_nl_pusherr(lua_State *L, const char *op, const char *obj, int r,
                    const char *ext);

/* Test hook: pretend the next n dumps came back interrupted. */
void vnet_nl_inject_intr(int n);

/* Write the item list at idx ({type, fmt, value}, ...; fmt u8 u16 u32 u64
 * s32 be16 be32 flag string bytes nest ifinfo) into msg. 0, or -1 with a
 * message in err. */
int vnet_nla_put_items(lua_State *L, int idx, struct nl_msg *msg, char *err,
                       size_t n);

/* Push the Lua table for an RTM_NEWLINK (link.c), RTM_NEWADDR (addr.c),
 * RTM_NEWROUTE (route.c) or RTM_NEWNEIGH (neigh.c) message. */
void vnet_link_push(lua_State *L, struct nlmsghdr *h);

/* link.c: a link spec table (at sp) -> RTM_NEWLINK. vnet_link_check raises
 * on a bad field; vnet_link_build then does not raise: 0 and *out (a
 * create when ifindex is 0, else a change), or -1 with the reason in err
 * (empty: out of memory). */
void vnet_link_check(lua_State *L, int sp, const char *op, const char *obj);
int vnet_link_build(lua_State *L, int sp, int ifindex, const char *op,
                    const char *obj, struct nl_msg **out, char *err, size_t n);

void vnet_addr_push(lua_State *L, struct nlmsghdr *h);
void vnet_route_push(lua_State *L, struct nlmsghdr *h);
void vnet_neigh_push(lua_State *L, struct nlmsghdr *h);

/* brvlan.c: vlan_change and vlan_list into the table on top (link.core). */
void vnet_brvlan_funcs(lua_State *L);

/* ---- the address syntax (inaddr.c) ------------------------------- */

/* The one address syntax (inaddr.c): "a.b.c.d" or an IPv6 address, with
 * an optional "/len" (decimal, up to 32 or 128, nothing after it). Fills
 * family (AF_INET/AF_INET6), out (4 or 16 bytes) and plen (-1 without
 * "/len"); 0, or -1 for anything else (NUL bytes too). */
int vnet_parse_cidr(const char *s, size_t len, int *family,
                    unsigned char out[16], int *plen);

/* The same as a libnl address (with its prefix length: the address's own
 * length without "/len"); NULL when s is not one, is of another family
 * than family (AF_UNSPEC: any), or has a "/len" and prefix_ok is 0. */
struct nl_addr;
struct nl_addr *vnet_nl_parse(const char *s, size_t len, int family,
                              int prefix_ok);

/* ---- namespaces (netns.c, exec.c) ------------------------------------ */

typedef struct vnet_netns {
    int fd;              /* -1 once closed */
} vnet_netns;

#define VNET_NETNS_T "vnet.netns"

/* The namespace at idx; raises when it is closed (inline: exec.c's methods
 * are netns.c's, and neither calls the other). */
static inline vnet_netns *vnet_netns_check(lua_State *L, int idx)
{
    vnet_netns *n = luaL_checkudata(L, idx, VNET_NETNS_T);
    if (n->fd < 0)
        vnet_error(L, "attempt to use a closed netns");
    return n;
}

/* exec(ns, argv, timeout, max_output) -> status, output | nil, msg, errno */
int vnet_netns_exec(lua_State *L);
/* ns:exec inside a task: start, read the output, reap (exec.c) */
int vnet_netns_exec_start(lua_State *L);
int vnet_netns_exec_read(lua_State *L);
int vnet_netns_exec_reap(lua_State *L);


/* ---- session (session.c) ------------------------------------------ */

/* > 0 while vnet.session must not be interrupted (between making
 * something and writing it in the journal): the host's signal hook waits.
 * Process-wide, as the signals it holds off are. */
extern volatile int vnet_session_held;

/* ---- module openers ---------------------------------------------- */

int luaopen_vnet_link_core(lua_State *L);
int luaopen_vnet_batch_core(lua_State *L);  /* linkbatch.c */
int luaopen_vnet_netns_core(lua_State *L);
int luaopen_vnet_nl_core(lua_State *L);
int luaopen_vnet_addr_core(lua_State *L);
int luaopen_vnet_route_core(lua_State *L);
int luaopen_vnet_neigh_core(lua_State *L);
int luaopen_vnet_watch_core(lua_State *L);
int luaopen_vnet_tc_core(lua_State *L);
int luaopen_vnet_session_core(lua_State *L);

#endif
