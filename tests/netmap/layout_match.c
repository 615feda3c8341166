/* netmap's if/ring/slot structs and netring's (include/netring/layout.h) are one layout: every
 * size, offset and shared constant must agree, since libnetring-netmap hands netring's rings to
 * netmap programs as they are. Built, not run.
 *
 * Both headers define NS_*, NR_TIMESTAMP, NR_FORWARD and NI_PRIV_MEM (netring's as unsigned,
 * netmap's as int, as netmap has them), so netring's values are saved and its macros undefined
 * before net/netmap.h comes in. */
#include <netring/layout.h>

enum {
    nr_ns_buf_changed = NS_BUF_CHANGED,
    nr_ns_report = NS_REPORT,
    nr_ns_forward = NS_FORWARD,
    nr_ns_no_learn = NS_NO_LEARN,
    nr_ns_indirect = NS_INDIRECT,
    nr_ns_morefrag = NS_MOREFRAG,
    nr_timestamp = NR_TIMESTAMP,
    nr_forward = NR_FORWARD,
    nr_priv_mem = NI_PRIV_MEM,
};
#undef NS_BUF_CHANGED
#undef NS_REPORT
#undef NS_FORWARD
#undef NS_NO_LEARN
#undef NS_INDIRECT
#undef NS_MOREFRAG
#undef NR_TIMESTAMP
#undef NR_FORWARD
#undef NI_PRIV_MEM

#include <net/netmap_user.h>

#define SAME_FIELD(nm, nr, f)                                                                                \
    NR_STATIC_ASSERT(offsetof(struct nm, f) == offsetof(struct nr, f) &&                                     \
                         sizeof(((struct nm *)0)->f) == sizeof(((struct nr *)0)->f),                         \
                     #nm "." #f " matches " #nr)

NR_STATIC_ASSERT(sizeof(struct netmap_slot) == sizeof(struct nr_slot), "slot size");
SAME_FIELD(netmap_slot, nr_slot, buf_idx);
SAME_FIELD(netmap_slot, nr_slot, len);
SAME_FIELD(netmap_slot, nr_slot, flags);
SAME_FIELD(netmap_slot, nr_slot, ptr);

NR_STATIC_ASSERT(sizeof(struct netmap_ring) == sizeof(struct nr_ring), "ring header size");
NR_STATIC_ASSERT(_Alignof(struct netmap_ring) == _Alignof(struct nr_ring), "ring alignment");
SAME_FIELD(netmap_ring, nr_ring, buf_ofs);
SAME_FIELD(netmap_ring, nr_ring, num_slots);
SAME_FIELD(netmap_ring, nr_ring, nr_buf_size);
SAME_FIELD(netmap_ring, nr_ring, ringid);
SAME_FIELD(netmap_ring, nr_ring, dir);
SAME_FIELD(netmap_ring, nr_ring, head);
SAME_FIELD(netmap_ring, nr_ring, cur);
SAME_FIELD(netmap_ring, nr_ring, tail);
SAME_FIELD(netmap_ring, nr_ring, flags);
SAME_FIELD(netmap_ring, nr_ring, ts);
SAME_FIELD(netmap_ring, nr_ring, offset_mask);
SAME_FIELD(netmap_ring, nr_ring, buf_align);
SAME_FIELD(netmap_ring, nr_ring, sem);
NR_STATIC_ASSERT(offsetof(struct netmap_ring, slot) == offsetof(struct nr_ring, slot), "ring.slot");

NR_STATIC_ASSERT(sizeof(struct netmap_if) == sizeof(struct nr_if), "if header size");
SAME_FIELD(netmap_if, nr_if, ni_name);
SAME_FIELD(netmap_if, nr_if, ni_version);
SAME_FIELD(netmap_if, nr_if, ni_flags);
SAME_FIELD(netmap_if, nr_if, ni_tx_rings);
SAME_FIELD(netmap_if, nr_if, ni_rx_rings);
SAME_FIELD(netmap_if, nr_if, ni_bufs_head);
SAME_FIELD(netmap_if, nr_if, ni_host_tx_rings);
SAME_FIELD(netmap_if, nr_if, ni_host_rx_rings);
SAME_FIELD(netmap_if, nr_if, ni_spare1);
NR_STATIC_ASSERT(offsetof(struct netmap_if, ring_ofs) == offsetof(struct nr_if, ring_ofs), "if.ring_ofs");
NR_STATIC_ASSERT(sizeof(((struct netmap_if *)0)->ring_ofs[0]) == sizeof(((struct nr_if *)0)->ring_ofs[0]),
                 "ring_ofs entries");

NR_STATIC_ASSERT(NS_BUF_CHANGED == nr_ns_buf_changed && NS_REPORT == nr_ns_report &&
                     NS_FORWARD == nr_ns_forward && NS_NO_LEARN == nr_ns_no_learn &&
                     NS_INDIRECT == nr_ns_indirect && NS_MOREFRAG == nr_ns_morefrag,
                 "slot flags");
NR_STATIC_ASSERT(NR_TIMESTAMP == nr_timestamp && NR_FORWARD == nr_forward, "ring flags");
NR_STATIC_ASSERT(NI_PRIV_MEM == nr_priv_mem, "if flags");
NR_STATIC_ASSERT(NETMAP_API == NR_API_VERSION, "API version");
NR_STATIC_ASSERT(NM_CACHE_ALIGN == NR_CACHE_ALIGN, "cache alignment");
NR_STATIC_ASSERT(sizeof(((struct netmap_if *)0)->ni_name) == NR_IFNAMSIZ, "name length");
