/*
 * tc.c - vnet.tc.core: traffic control (qdiscs, classes, filters) through
 * libnl-route's rtnl_qdisc, rtnl_class, rtnl_cls and rtnl_act objects.
 *
 * libnl builds the requests and parses the dumps (nl_msg_parse turns a
 * reply into a qdisc/class/classifier object); nl.c sends them, so errors
 * keep errno and the kernel's extended-ack text ("Specified qdisc kind is
 * unknown."). lua/vnet/tc.lua checks options and converts units: here
 * times are microseconds, rates bytes per second, sizes bytes and
 * probabilities the kernel's 32-bit fractions (0xffffffff = 100%).
 *
 * libnl 3.7 has no setter for netem's rate: TCA_NETEM_RATE(64) is appended
 * to the request's TCA_OPTIONS (libnl puts it last), and read back from
 * the reply's options by hand.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <linux/tc_act/tc_mirred.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/route/act/mirred.h>
#include <netlink/route/action.h>
#include <netlink/route/class.h>
#include <netlink/route/classifier.h>
#include <netlink/route/cls/u32.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/qdisc/fifo.h>
#include <netlink/route/qdisc/htb.h>
#include <netlink/route/qdisc/netem.h>
#include <netlink/route/qdisc/tbf.h>
#include <netlink/route/tc.h>

#include "netlink/nl.h"

/* ---- reading options from the Lua spec table (checked by tc.lua) ------ */

static int has(lua_State *L, int idx, const char *k, lua_Integer *v)
{
    int t = lua_getfield(L, idx, k);
    int ok = t == LUA_TNUMBER && lua_isinteger(L, -1);
    if (ok) *v = lua_tointeger(L, -1);
    lua_pop(L, 1);
    return ok;
}

static lua_Integer get(lua_State *L, int idx, const char *k, lua_Integer d)
{
    lua_Integer v;
    return has(L, idx, k, &v) ? v : d;
}

static void setint(lua_State *L, const char *k, lua_Integer v)
{
    lua_pushinteger(L, v);
    lua_setfield(L, -2, k);
}

static void setstr(lua_State *L, const char *k, const char *v)
{
    lua_pushstring(L, v);
    lua_setfield(L, -2, k);
}

/* ---- netem's rate, which libnl lacks ---------------------------------- */

static int append_netem_rate(struct nl_msg *msg, uint64_t rate)
{
    struct nlmsghdr *h = nlmsg_hdr(msg);
    struct nlattr *opts = nlmsg_find_attr(h, sizeof(struct tcmsg), TCA_OPTIONS);
    if (opts == NULL)
        return -EINVAL;
    /* TCA_OPTIONS must be the last attribute for it to grow in place.
     * libnl's netem builder grows nlmsg_len a second time by the size of
     * the attributes it put after the tc_netem_qopt (TCA_NETEM_CORRUPT,
     * _CORR, _REORDER): zeros past TCA_OPTIONS that the kernel skips. Drop
     * them, so that the rate goes inside TCA_OPTIONS. */
    char *oend = (char *)opts + NLA_ALIGN(opts->nla_len);
    char *end = (char *)h + h->nlmsg_len;
    if (oend > end)
        return -EINVAL;
    for (char *p = oend; p < end; p++)
        if (*p != 0)
            return -EINVAL;
    h->nlmsg_len = (uint32_t)(oend - (char *)h);
    struct tc_netem_rate r = {.rate = rate > UINT32_MAX ? UINT32_MAX
                                                        : (uint32_t)rate};
    size_t before = h->nlmsg_len;
    if (nla_put(msg, TCA_NETEM_RATE, sizeof r, &r) < 0 ||
        (rate > UINT32_MAX && nla_put_u64(msg, TCA_NETEM_RATE64, rate) < 0))
        return -ENOMEM;
    h = nlmsg_hdr(msg); /* nla_put may have moved the buffer */
    opts = nlmsg_find_attr(h, sizeof(struct tcmsg), TCA_OPTIONS);
    opts->nla_len = (uint16_t)(NLA_ALIGN(opts->nla_len) + h->nlmsg_len - before);
    return 0;
}

/* The rate in a netem reply's TCA_OPTIONS (a tc_netem_qopt, then attrs). */
static uint64_t read_netem_rate(struct nlmsghdr *h)
{
    struct nlattr *opts = nlmsg_find_attr(h, sizeof(struct tcmsg), TCA_OPTIONS);
    int skip = NLA_ALIGN(sizeof(struct tc_netem_qopt));
    if (opts == NULL || nla_len(opts) < skip)
        return 0;
    uint64_t rate = 0;
    struct nlattr *a;
    int rem;
    nla_for_each_attr(a, (struct nlattr *)((char *)nla_data(opts) + skip),
                      nla_len(opts) - skip, rem) {
        if (nla_type(a) == TCA_NETEM_RATE && nla_len(a) >= (int)sizeof(struct tc_netem_rate) && rate == 0)
            rate = ((struct tc_netem_rate *)nla_data(a))->rate;
        else if (nla_type(a) == TCA_NETEM_RATE64 && nla_len(a) >= 8)
            rate = nla_get_u64(a);
    }
    return rate;
}

/* ---- qdiscs ------------------------------------------------------------ */

static void fill_netem(lua_State *L, struct rtnl_qdisc *q)
{
    lua_Integer v;
    if (has(L, 3, "limit", &v)) rtnl_netem_set_limit(q, (int)v);
    if (has(L, 3, "delay", &v)) rtnl_netem_set_delay(q, (int)v);
    if (has(L, 3, "jitter", &v)) rtnl_netem_set_jitter(q, (int)v);
    if (has(L, 3, "delay_corr", &v)) rtnl_netem_set_delay_correlation(q, (int)v);
    if (has(L, 3, "loss", &v)) rtnl_netem_set_loss(q, (int)(uint32_t)v);
    if (has(L, 3, "loss_corr", &v)) rtnl_netem_set_loss_correlation(q, (int)(uint32_t)v);
    if (has(L, 3, "duplicate", &v)) rtnl_netem_set_duplicate(q, (int)(uint32_t)v);
    if (has(L, 3, "duplicate_corr", &v)) rtnl_netem_set_duplicate_correlation(q, (int)(uint32_t)v);
    if (has(L, 3, "reorder", &v)) rtnl_netem_set_reorder_probability(q, (int)(uint32_t)v);
    if (has(L, 3, "reorder_corr", &v)) rtnl_netem_set_reorder_correlation(q, (int)(uint32_t)v);
    if (has(L, 3, "gap", &v)) rtnl_netem_set_gap(q, (int)v);
    if (has(L, 3, "corrupt", &v)) rtnl_netem_set_corruption_probability(q, (int)(uint32_t)v);
    if (has(L, 3, "corrupt_corr", &v)) rtnl_netem_set_corruption_correlation(q, (int)(uint32_t)v);
}

static int fill_tbf(lua_State *L, struct rtnl_qdisc *q)
{
    lua_Integer v;
    rtnl_qdisc_tbf_set_rate(q, (int)get(L, 3, "rate", 0), (int)get(L, 3, "burst", 0), 0);
    if (has(L, 3, "peakrate", &v))
        rtnl_qdisc_tbf_set_peakrate(q, (int)v, (int)get(L, 3, "mtu", 2048), 0);
    if (has(L, 3, "limit", &v))
        rtnl_qdisc_tbf_set_limit(q, (int)v);
    else if (rtnl_qdisc_tbf_set_limit_by_latency(q, (int)get(L, 3, "latency", 50000)) < 0)
        return -EINVAL;
    return 0;
}

/* qdisc(cmd "add"|"replace"|"del", ifindex, spec, op, obj) -> true | nil, msg, errno
 * spec: kind, parent, handle and the kind's options (see tc.lua). */
static int t_qdisc(lua_State *L)
{
    static const char *const cmds[] = {"add", "replace", "del", NULL};
    int cmd = luaL_checkoption(L, 1, NULL, cmds);
    int ifindex = vnet_checkifindex(L, 2, "tc");
    luaL_checktype(L, 3, LUA_TTABLE);
    const char *op = luaL_checkstring(L, 4), *obj = luaL_checkstring(L, 5);
    lua_getfield(L, 3, "kind");
    const char *kind = lua_tostring(L, -1);
    lua_pop(L, 1); /* the spec table keeps the string alive */
    struct rtnl_qdisc *q = rtnl_qdisc_alloc();
    struct nl_msg *msg = NULL;
    char ext[256] = "";
    int r = -ENOMEM;
    if (q) {
        rtnl_tc_set_ifindex(TC_CAST(q), ifindex);
        rtnl_tc_set_parent(TC_CAST(q), (uint32_t)get(L, 3, "parent", TC_H_ROOT));
        lua_Integer h;
        if (has(L, 3, "handle", &h)) rtnl_tc_set_handle(TC_CAST(q), (uint32_t)h);
        r = 0;
        if (kind && (r = rtnl_tc_set_kind(TC_CAST(q), kind)) < 0)
            r = -ENOENT;
        if (r == 0 && cmd != 2 && kind) {
            if (strcmp(kind, "netem") == 0) fill_netem(L, q);
            else if (strcmp(kind, "tbf") == 0) r = fill_tbf(L, q);
            else if (strcmp(kind, "htb") == 0)
                rtnl_htb_set_defcls(q, (uint32_t)get(L, 3, "default", 0));
            else if (strcmp(kind, "pfifo") == 0 || strcmp(kind, "bfifo") == 0)
                r = rtnl_qdisc_fifo_set_limit(q, (int)get(L, 3, "limit", 0)) < 0 ? -EINVAL : 0;
        }
        if (r == 0) {
            int flags = cmd == 0 ? NLM_F_CREATE | NLM_F_EXCL : NLM_F_CREATE | NLM_F_REPLACE;
            r = cmd == 2 ? rtnl_qdisc_build_delete_request(q, &msg)
                         : rtnl_qdisc_build_add_request(q, flags, &msg);
            r = r < 0 ? -EINVAL : 0;
        }
        lua_Integer rate;
        if (r == 0 && cmd != 2 && kind && strcmp(kind, "netem") == 0 &&
            has(L, 3, "rate", &rate) && rate > 0)
            r = append_netem_rate(msg, (uint64_t)rate);
        if (r < 0 && msg) {
            nlmsg_free(msg);
            msg = NULL;
        }
        rtnl_qdisc_put(q);
    }
    if (r == 0)
        r = vnet_nl_request(msg, ext, sizeof ext);
    if (r < 0)
        return vnet_nl_pusherr(L, op, obj, r, ext);
    lua_pushboolean(L, 1);
    return 1;
}

/* ---- classes (htb) ----------------------------------------------------- */

/* class(cmd, ifindex, spec, op, obj): spec kind "htb", parent, classid,
 * rate, ceil, burst, cburst, prio, quantum */
static int t_class(lua_State *L)
{
    static const char *const cmds[] = {"add", "replace", "del", NULL};
    int cmd = luaL_checkoption(L, 1, NULL, cmds);
    int ifindex = vnet_checkifindex(L, 2, "tc");
    luaL_checktype(L, 3, LUA_TTABLE);
    const char *op = luaL_checkstring(L, 4), *obj = luaL_checkstring(L, 5);
    struct rtnl_class *c = rtnl_class_alloc();
    struct nl_msg *msg = NULL;
    char ext[256] = "";
    int r = -ENOMEM;
    if (c) {
        lua_Integer v;
        rtnl_tc_set_ifindex(TC_CAST(c), ifindex);
        rtnl_tc_set_parent(TC_CAST(c), (uint32_t)get(L, 3, "parent", TC_H_ROOT));
        rtnl_tc_set_handle(TC_CAST(c), (uint32_t)get(L, 3, "classid", 0));
        r = rtnl_tc_set_kind(TC_CAST(c), "htb") < 0 ? -ENOENT : 0;
        if (r == 0 && cmd != 2) {
            uint64_t rate = (uint64_t)get(L, 3, "rate", 0);
            rtnl_htb_set_rate64(c, rate);
            rtnl_htb_set_ceil64(c, (uint64_t)get(L, 3, "ceil", (lua_Integer)rate));
            if (has(L, 3, "burst", &v)) rtnl_htb_set_rbuffer(c, (uint32_t)v);
            if (has(L, 3, "cburst", &v)) rtnl_htb_set_cbuffer(c, (uint32_t)v);
            if (has(L, 3, "prio", &v)) rtnl_htb_set_prio(c, (uint32_t)v);
            if (has(L, 3, "quantum", &v)) rtnl_htb_set_quantum(c, (uint32_t)v);
        }
        if (r == 0) {
            int flags = cmd == 0 ? NLM_F_CREATE | NLM_F_EXCL : NLM_F_CREATE | NLM_F_REPLACE;
            r = cmd == 2 ? rtnl_class_build_delete_request(c, &msg)
                         : rtnl_class_build_add_request(c, flags, &msg);
            r = r < 0 ? -EINVAL : 0;
        }
        rtnl_class_put(c);
    }
    if (r == 0)
        r = vnet_nl_request(msg, ext, sizeof ext);
    if (r < 0)
        return vnet_nl_pusherr(L, op, obj, r, ext);
    lua_pushboolean(L, 1);
    return 1;
}

/* ---- filters: u32 match-all with a mirred action ----------------------- */

/* redirect(cmd "add"|"del", ifindex, spec, op, obj): spec parent, prio,
 * to (ifindex of the target), mirror (true: mirror instead of redirect) */
static int t_redirect(lua_State *L)
{
    static const char *const cmds[] = {"add", "del", NULL};
    int cmd = luaL_checkoption(L, 1, NULL, cmds);
    int ifindex = vnet_checkifindex(L, 2, "tc");
    luaL_checktype(L, 3, LUA_TTABLE);
    const char *op = luaL_checkstring(L, 4), *obj = luaL_checkstring(L, 5);
    struct rtnl_cls *c = rtnl_cls_alloc();
    struct rtnl_act *a = cmd == 0 ? rtnl_act_alloc() : NULL;
    struct nl_msg *msg = NULL;
    char ext[256] = "";
    int r = -ENOMEM;
    if (c && (cmd == 1 || a)) {
        rtnl_tc_set_ifindex(TC_CAST(c), ifindex);
        rtnl_tc_set_parent(TC_CAST(c), (uint32_t)get(L, 3, "parent", TC_H_MAJ(TC_H_INGRESS)));
        rtnl_cls_set_prio(c, (uint16_t)get(L, 3, "prio", 49152));
        rtnl_cls_set_protocol(c, ETH_P_ALL);
        r = rtnl_tc_set_kind(TC_CAST(c), "u32") < 0 ? -ENOENT : 0;
        if (r == 0 && cmd == 0) {
            lua_getfield(L, 3, "mirror");
            int mirror = lua_toboolean(L, -1);
            lua_pop(L, 1);
            rtnl_tc_set_kind(TC_CAST(a), "mirred");
            rtnl_mirred_set_action(a, mirror ? TCA_EGRESS_MIRROR : TCA_EGRESS_REDIR);
            rtnl_mirred_set_policy(a, mirror ? TC_ACT_PIPE : TC_ACT_STOLEN);
            rtnl_mirred_set_ifindex(a, (uint32_t)get(L, 3, "to", 0));
            /* match everything; terminal, or the match goes on to a
             * next table and the action never runs (as tc sets it) */
            if (rtnl_u32_add_key_uint32(c, 0, 0, 0, 0) < 0 ||
                rtnl_u32_set_cls_terminal(c) < 0 || rtnl_u32_add_action(c, a) < 0)
                r = -ENOMEM;
        }
        if (r == 0) {
            r = cmd == 1 ? rtnl_cls_build_delete_request(c, 0, &msg)
                         : rtnl_cls_build_add_request(c, NLM_F_CREATE | NLM_F_EXCL, &msg);
            r = r < 0 ? -EINVAL : 0;
        }
    }
    if (a) rtnl_act_put(a);
    if (c) rtnl_cls_put(c);
    if (r == 0)
        r = vnet_nl_request(msg, ext, sizeof ext);
    if (r < 0)
        return vnet_nl_pusherr(L, op, obj, r, ext);
    lua_pushboolean(L, 1);
    return 1;
}

/* ---- dumps --------------------------------------------------------------- */

static void parsed(struct nl_object *o, void *arg)
{
    nl_object_get(o);
    *(struct nl_object **)arg = o;
}

/* The libnl object of a reply message (NULL if libnl cannot parse it). */
static struct nl_object *parse(struct nlmsghdr *h)
{
    struct nl_object *o = NULL;
    struct nl_msg *m = nlmsg_convert(h);
    if (m == NULL)
        return NULL;
    nlmsg_set_proto(m, NETLINK_ROUTE);
    nl_msg_parse(m, parsed, &o);
    nlmsg_free(m);
    return o;
}

static void push_common(lua_State *L, struct nlmsghdr *h)
{
    struct tcmsg *t = NLMSG_DATA(h);
    struct nlattr *k = nlmsg_find_attr(h, sizeof *t, TCA_KIND);
    lua_createtable(L, 0, 12);
    setstr(L, "kind", k ? nla_get_string(k) : "?");
    setint(L, "ifindex", t->tcm_ifindex);
    setint(L, "handle", t->tcm_handle);
    setint(L, "parent", t->tcm_parent);
    setint(L, "info", t->tcm_info);
}

static void push_qdisc(lua_State *L, struct nlmsghdr *h)
{
    push_common(L, h);
    struct nl_object *o = parse(h);
    if (o == NULL)
        return;
    struct rtnl_qdisc *q = (struct rtnl_qdisc *)o;
    const char *kind = rtnl_tc_get_kind(TC_CAST(q));
    if (strcmp(kind, "netem") == 0) {
        setint(L, "limit", rtnl_netem_get_limit(q));
        setint(L, "delay", rtnl_netem_get_delay(q));
        setint(L, "jitter", rtnl_netem_get_jitter(q));
        setint(L, "delay_corr", (uint32_t)rtnl_netem_get_delay_correlation(q));
        setint(L, "loss", (uint32_t)rtnl_netem_get_loss(q));
        setint(L, "loss_corr", (uint32_t)rtnl_netem_get_loss_correlation(q));
        setint(L, "duplicate", (uint32_t)rtnl_netem_get_duplicate(q));
        setint(L, "duplicate_corr", (uint32_t)rtnl_netem_get_duplicate_correlation(q));
        setint(L, "reorder", (uint32_t)rtnl_netem_get_reorder_probability(q));
        setint(L, "reorder_corr", (uint32_t)rtnl_netem_get_reorder_correlation(q));
        setint(L, "gap", rtnl_netem_get_gap(q));
        setint(L, "corrupt", (uint32_t)rtnl_netem_get_corruption_probability(q));
        setint(L, "corrupt_corr", (uint32_t)rtnl_netem_get_corruption_correlation(q));
        setint(L, "rate", (lua_Integer)read_netem_rate(h));
    } else if (strcmp(kind, "tbf") == 0) {
        setint(L, "rate", rtnl_qdisc_tbf_get_rate(q));
        setint(L, "burst", rtnl_qdisc_tbf_get_rate_bucket(q));
        setint(L, "limit", rtnl_qdisc_tbf_get_limit(q));
        int peak = rtnl_qdisc_tbf_get_peakrate(q);
        if (peak > 0) setint(L, "peakrate", peak);
    } else if (strcmp(kind, "htb") == 0) {
        setint(L, "default", rtnl_htb_get_defcls(q));
    } else if (strcmp(kind, "pfifo") == 0 || strcmp(kind, "bfifo") == 0) {
        int limit = rtnl_qdisc_fifo_get_limit(q);
        if (limit >= 0) setint(L, "limit", limit);
    }
    nl_object_put(o);
}

static void push_class(lua_State *L, struct nlmsghdr *h)
{
    push_common(L, h);
    struct nl_object *o = parse(h);
    if (o == NULL)
        return;
    struct rtnl_class *c = (struct rtnl_class *)o;
    if (strcmp(rtnl_tc_get_kind(TC_CAST(c)), "htb") == 0) {
        uint64_t v = 0;
        if (rtnl_htb_get_rate64(c, &v) == 0) setint(L, "rate", (lua_Integer)v);
        if (rtnl_htb_get_ceil64(c, &v) == 0) setint(L, "ceil", (lua_Integer)v);
        setint(L, "burst", rtnl_htb_get_rbuffer(c));
        setint(L, "cburst", rtnl_htb_get_cbuffer(c));
        setint(L, "prio", rtnl_htb_get_prio(c));
    }
    nl_object_put(o);
}

static void push_filter(lua_State *L, struct nlmsghdr *h)
{
    push_common(L, h);
    struct tcmsg *t = NLMSG_DATA(h);
    setint(L, "prio", TC_H_MAJ(t->tcm_info) >> 16);
    setint(L, "protocol", ntohs((uint16_t)TC_H_MIN(t->tcm_info)));
    struct nl_object *o = parse(h);
    if (o == NULL)
        return;
    struct rtnl_cls *c = (struct rtnl_cls *)o;
    if (strcmp(rtnl_tc_get_kind(TC_CAST(c)), "u32") == 0) {
        struct rtnl_act *a = rtnl_u32_get_action(c); /* borrowed */
        if (a && strcmp(rtnl_tc_get_kind(TC_CAST(a)), "mirred") == 0) {
            int act = rtnl_mirred_get_action(a);
            setstr(L, "action", act == TCA_EGRESS_REDIR || act == TCA_INGRESS_REDIR
                                    ? "redirect" : "mirror");
            setint(L, "to", rtnl_mirred_get_ifindex(a));
        }
    }
    nl_object_put(o);
}

struct want { int type, ifindex; };

static int keep(struct nlmsghdr *h, void *arg)
{
    struct want *w = arg;
    struct tcmsg *t = NLMSG_DATA(h);
    if (h->nlmsg_type != w->type)
        return 0;
    /* filter dumps also carry the chain header entries with no handle */
    if (w->type == RTM_NEWTFILTER && t->tcm_handle == 0)
        return 0;
    return w->ifindex == 0 || t->tcm_ifindex == w->ifindex;
}

/* list("qdisc"|"class"|"filter", ifindex (0 = all, qdiscs only), parent,
 * op, obj) -> { {kind=, ifindex=, handle=, parent=, options...}, ... } */
static int t_list(lua_State *L)
{
    static const char *const what[] = {"qdisc", "class", "filter", NULL};
    static const int get_types[] = {RTM_GETQDISC, RTM_GETTCLASS, RTM_GETTFILTER};
    static const int new_types[] = {RTM_NEWQDISC, RTM_NEWTCLASS, RTM_NEWTFILTER};
    static void (*const push[])(lua_State *, struct nlmsghdr *) = {
        push_qdisc, push_class, push_filter};
    int w = luaL_checkoption(L, 1, NULL, what);
    int ifindex = lua_isnoneornil(L, 2) || lua_tointeger(L, 2) == 0 ? 0 : vnet_checkifindex(L, 2, "tc.list");
    struct tcmsg t = {.tcm_family = AF_UNSPEC, .tcm_ifindex = ifindex,
                      .tcm_parent = (uint32_t)luaL_optinteger(L, 3, 0)};
    const char *op = luaL_optstring(L, 4, "tc.list");
    const char *obj = luaL_optstring(L, 5, "");
    struct want want = {new_types[w], ifindex};
    vnet_nl_list how = {keep, push[w], &want};
    return vnet_nl_dump(L, get_types[w], &t, sizeof t, &how, op, obj);
}

int luaopen_vnet_tc_core(lua_State *L)
{
    static const luaL_Reg funcs[] = {
        {"qdisc", t_qdisc}, {"class", t_class}, {"redirect", t_redirect},
        {"list", t_list},
        {NULL, NULL}
    };
    luaL_newlib(L, funcs);
    return 1;
}
