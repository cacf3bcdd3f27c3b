/* undo.h - the session's undo records (private to core/netlink): parsed
 * and applied by undo.c, for the guardian and session.apply (session.c).
 * The record formats are described at the top of session.c. */
#ifndef VNET_NETLINK_UNDO_H
#define VNET_NETLINK_UNDO_H

#include <net/if.h>

typedef struct entry {
    char type;
    long id;
    unsigned long group, nsino, toino;
    int ifindex;
    char name[IFNAMSIZ];      /* L: its name; R, M: the name back ("": none) */
    char path[256], toref[256];
    long mtu, up, master, txqlen, table, metric;
    int family, prefixlen, flags, maclen, hasdst, hasvia;
    unsigned char addr[16], via[16], mac[32];
    char items[256];          /* P */
    int vid, vflags, vself;   /* V: the VLAN, BRIDGE_VLAN_INFO_*, on the bridge itself */
    char vcmd;                /* V: 'a' add it back, 'd' delete it */
} entry;

/* Parse one record (a line) into e: 1, or 0 when it is not one. */
int vnet_undo_parse(entry *e, const char *buf);
/* Undo e in the current namespace (tofd: where an M record's link goes
 * back to): 0 or -errno. */
int vnet_undo_apply(const entry *e, int tofd);
/* Delete link ifindex, or every link of group (ifindex 0): 0 or -errno. */
int vnet_undo_dellink(int ifindex, unsigned long group);

#endif
