/*
 * describe.c - tostring(p): a tcpdump-style one-line summary of a packet,
 *
 *   IP 10.0.0.1.5000 > 10.0.0.2.53: UDP, length 12
 *   IP 10.0.0.1 > 10.0.0.2: ICMP echo request, id 7, seq 1, length 64
 *   IP6 fe80::1.80 > fe80::2.4711: Flags [S.], seq 1, ack 2, win 64240,
 *       length 0 (one line)
 *   ARP, Request who-has 10.0.0.2 tell 10.0.0.1, length 28
 *
 * and "vnet.packet: N bytes" for what it does not know, with the reason
 * when a header is malformed and the packet's link type was set (a guessed
 * one may be wrong: text is not a truncated IPv6 packet).
 */
#include <stdarg.h>
#include <stdio.h>

#include "packet/proto.h"

typedef struct out {
    char s[320];
    size_t n;
} out;

static void add(out *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void add(out *o, const char *fmt, ...)
{
    if (o->n >= sizeof o->s)
        return;
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(o->s + o->n, sizeof o->s - o->n, fmt, ap);
    va_end(ap);
    if (k > 0)
        o->n = o->n + (size_t)k < sizeof o->s ? o->n + (size_t)k
                                              : sizeof o->s - 1;
}

#define U16(b, o) ((unsigned)((b)[o] << 8 | (b)[(o) + 1]))
#define U32(b, o) ((unsigned long)U16(b, o) << 16 | U16(b, (o) + 2))

static const char *icmp_name(int type)
{
    switch (type) {
    case 0: return "echo reply";
    case 3: return "unreachable";
    case 4: return "source quench";
    case 5: return "redirect";
    case 8: return "echo request";
    case 11: return "time exceeded in-transit";
    case 12: return "parameter problem";
    case 13: return "time stamp request";
    case 14: return "time stamp reply";
    }
    return NULL;
}

static const char *icmp6_name(int type)
{
    switch (type) {
    case 1: return "destination unreachable";
    case 2: return "packet too big";
    case 3: return "time exceeded in-transit";
    case 4: return "parameter problem";
    case 128: return "echo request";
    case 129: return "echo reply";
    case 133: return "router solicitation";
    case 134: return "router advertisement";
    case 135: return "neighbor solicitation";
    case 136: return "neighbor advertisement";
    case 137: return "redirect";
    case 143: return "multicast listener report v2";
    }
    return NULL;
}

static void tcp_line(out *o, const unsigned char *b, const layers *ly)
{
    const unsigned char *t = b + ly->l4;
    static const struct { int bit; char c; } fl[] = {
        {0x01, 'F'}, {0x02, 'S'}, {0x04, 'R'}, {0x08, 'P'}, {0x10, '.'},
        {0x20, 'U'}, {0x40, 'E'}, {0x80, 'W'}
    };
    char f[12];
    size_t k = 0;
    for (size_t i = 0; i < sizeof fl / sizeof fl[0]; i++)
        if (t[13] & fl[i].bit)
            f[k++] = fl[i].c;
    f[k] = 0;
    size_t n = ly->l3end - ly->l4 - ly->l4hlen;
    unsigned long seq = U32(t, 4);
    add(o, "Flags [%s], seq %lu", k ? f : "none", seq);
    if (n)
        add(o, ":%lu", (seq + n) & 0xffffffffUL);
    if (t[13] & 0x10)
        add(o, ", ack %lu", U32(t, 8));
    add(o, ", win %u, length %zu", U16(t, 14), n);
}

static void l4_line(out *o, const unsigned char *b, const layers *ly)
{
    const unsigned char *t = b + ly->l4;
    size_t n = ly->l3end - ly->l4;
    const char *name;
    switch (ly->l4kind) {
    case V_UDP:
        add(o, "UDP, length %u", U16(t, 4) >= 8 ? U16(t, 4) - 8 : 0);
        break;
    case V_TCP:
        tcp_line(o, b, ly);
        break;
    case V_ICMP:
        name = icmp_name(t[0]);
        if (name) add(o, "ICMP %s", name);
        else add(o, "ICMP type %u, code %u", t[0], t[1]);
        if (t[0] == 0 || t[0] == 8)
            add(o, ", id %u, seq %u", U16(t, 4), U16(t, 6));
        add(o, ", length %zu", n);
        break;
    case V_ICMP6: {
        char a[48];
        name = icmp6_name(t[0]);
        if (name) add(o, "ICMP6, %s", name);
        else add(o, "ICMP6, type %u, code %u", t[0], t[1]);
        if (t[0] == 128 || t[0] == 129)
            add(o, ", id %u, seq %u", U16(t, 4), U16(t, 6));
        else if ((t[0] == 135 || t[0] == 136) && n >= 24) {
            vnet_fmt_ip6(a, t + 8);
            add(o, t[0] == 135 ? ", who has %s" : ", tgt is %s", a);
        }
        add(o, ", length %zu", n);
        break;
    }
    }
}

static void ip_line(out *o, const unsigned char *b, size_t len, int link,
                    layers *ly)
{
    char s[48], d[48];
    int v4 = ly->l3kind == V_IPV4;
    const unsigned char *h = b + ly->l3;
    if (v4) {
        vnet_fmt_ip4(s, h + 12);
        vnet_fmt_ip4(d, h + 16);
    } else {
        vnet_fmt_ip6(s, h + 8);
        vnet_fmt_ip6(d, h + 24);
    }
    add(o, "%s %s", v4 ? "IP" : "IP6", s);
    if (ly->l4kind == V_UDP || ly->l4kind == V_TCP)
        add(o, ".%u > %s.%u: ", U16(b, ly->l4), d, U16(b, ly->l4 + 2));
    else
        add(o, " > %s: ", d);
    if (ly->l4kind) {
        l4_line(o, b, ly);
        return;
    }
    size_t n = ly->l3end - ly->l3 - ly->l3hlen;
    if (ly->frag == 2) {
        add(o, "fragment of ip-proto-%d, length %zu", ly->proto, n);
        return;
    }
    int want = ly->proto == 17 ? V_UDP : ly->proto == 6 ? V_TCP
             : ly->proto == 1 && v4 ? V_ICMP
             : ly->proto == 58 && !v4 ? V_ICMP6 : 0;
    layers why;
    if (want && !vnet_parse(b, len, link, -1, want, &why))
        add(o, "[%s]", why.why);
    else
        add(o, "ip-proto-%d, length %zu", ly->proto, n);
}

static void arp_line(out *o, const unsigned char *b, size_t len,
                     const layers *ly)
{
    const unsigned char *a = b + ly->l3;
    char x[48], y[48];
    unsigned op = U16(a, 6);
    if (op == 1) {
        vnet_fmt_ip4(x, a + 24);
        vnet_fmt_ip4(y, a + 14);
        add(o, "ARP, Request who-has %s tell %s", x, y);
    } else if (op == 2) {
        vnet_fmt_ip4(x, a + 14);
        vnet_fmt_mac(y, a + 8);
        add(o, "ARP, Reply %s is-at %s", x, y);
    } else {
        add(o, "ARP, op %u", op);
    }
    add(o, ", length %zu", len - ly->l3);
}

int vnet_p_tostring(lua_State *L)
{
    vnet_packet *p = vnet_packet_check(L, 1);
    const unsigned char *b = p->data;
    int set = p->link;
    int link = set ? set : vnet_guess_link(b, p->len);
    out o = {.n = 0};
    o.s[0] = 0;
    layers ly;
    int ok = vnet_parse(b, p->len, link, -1, V_IP, &ly);
    if (ly.ntags) {
        if (U16(b, 14) & 0xfff)
            add(&o, "vlan %u, ", U16(b, 14) & 0xfff);
        else
            add(&o, "vlan 0 p %u, ", b[14] >> 5);
    }
    if (ok) {
        ip_line(&o, b, p->len, link, &ly);
    } else if (ly.l2len && ly.ethertype == 0x0806 &&
               vnet_parse(b, p->len, link, -1, V_ARP, &ly)) {
        arp_line(&o, b, p->len, &ly);
    } else if (set && (ly.ethertype == 0x0800 || ly.ethertype == 0x86dd ||
               ly.ethertype == 0x0806 || !ly.l2len)) {
        lua_pushfstring(L, "vnet.packet: %I bytes (%s)",
                        (lua_Integer)p->len, ly.why);
        return 1;
    } else if (set == LINK_ETH) {
        char d[20], s[20];
        vnet_fmt_mac(d, b);
        vnet_fmt_mac(s, b + 6);
        add(&o, "%s > %s, ethertype 0x%04x, length %zu", s, d, ly.ethertype,
            p->len);
    } else {
        lua_pushfstring(L, "vnet.packet: %I bytes", (lua_Integer)p->len);
        return 1;
    }
    lua_pushlstring(L, o.s, o.n);
    return 1;
}
