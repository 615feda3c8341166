/*
 * netring shared-memory layout: the one header that owns it.
 *
 * A region is one memfd mapped by the daemon and by every client of one trust domain.
 * Everything inside is found by offsets and indices, never pointers:
 *
 *   nr_region_header | metadata arena (if blocks, rings, sync blocks) | buffers
 *
 * The if/ring/slot structures keep the field names, types and order of netmap's public ABI
 * (API 14), so the same offset arithmetic finds rings and buffers: ring i of an if block is at
 * (char *)nifp + nifp->ring_ofs[i]; buffer k of a ring is at (char *)ring + ring->buf_ofs +
 * k * ring->nr_buf_size. netring adds, after ring_ofs[], one nr_ring_ext per ring that locates the
 * ring's sync block (and, for pipes, the partner ring), see below.
 *
 * Writers are marked as netmap marks them: (u) the application, (k) the "kernel" side, which is the
 * daemon for daemon-served ports and the peer's libnetring for pipes. (c) constant after setup.
 * Neither side trusts what the other wrote: every index read from here is range-checked before use.
 *
 * Usable from C (C11) and C++.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/time.h>

#ifdef __cplusplus
#define NR_STATIC_ASSERT(cond, msg) static_assert(cond, msg)
#else
#define NR_STATIC_ASSERT(cond, msg) _Static_assert(cond, msg)
#endif

#define NR_REGION_MAGIC 0x3147524eu /* "NRG1" little-endian */
#define NR_LAYOUT_VERSION 1u
#define NR_API_VERSION 14u /* the netmap API whose if/ring/slot layout we keep */
#define NR_IFNAMSIZ 16
#define NR_CACHE_ALIGN 128 /* netmap's NM_CACHE_ALIGN: the ring's sem[] starts on it */
#define NR_RESERVED_BUFFERS 2u /* buffers 0 and 1 are never allocated, as in netmap */
#define NR_DUMMY_BUFFER 1u     /* a repaired slot points here: harmless to read or write */

/* ---- netmap-compatible slot (16 bytes) ---- */
#ifndef NS_BUF_CHANGED /* <net/netmap.h> defines the same values */
#define NS_BUF_CHANGED 0x0001u /* (u) buf_idx changed by the application */
#define NS_REPORT 0x0002u
#define NS_FORWARD 0x0004u
#define NS_NO_LEARN 0x0008u
#define NS_INDIRECT 0x0010u
#define NS_MOREFRAG 0x0020u
#endif

struct nr_slot {
    uint32_t buf_idx; /* (u/k) buffer index in the region */
    uint16_t len;     /* (u/k) bytes of packet data */
    uint16_t flags;   /* NS_* */
    uint64_t ptr;     /* low bits (& ring->offset_mask): data offset inside the buffer */
};

/* ---- netmap-compatible ring (256-byte header, then the slots) ---- */
#define NR_RING_DIR_TX 0u
#define NR_RING_DIR_RX 1u
#ifndef NR_TIMESTAMP
#define NR_TIMESTAMP 0x0002u
#endif
#ifndef NR_FORWARD
#define NR_FORWARD 0x0004u
#endif

struct nr_ring {
    int64_t buf_ofs;      /* (c) from this ring to buffer 0 */
    uint32_t num_slots;   /* (c) */
    uint32_t nr_buf_size; /* (c) */
    uint16_t ringid;      /* (c) index among the registration's rings of this direction */
    uint16_t dir;         /* (c) NR_RING_DIR_* */
    uint32_t head;        /* (u) first slot owned by the application */
    uint32_t cur;         /* (u) wake-up point */
    uint32_t tail;        /* (k) first slot owned by the kernel side */
    uint32_t flags;       /* (u) NR_TIMESTAMP, NR_FORWARD */
    struct timeval ts;    /* (k) time of the last sync */
    uint64_t offset_mask; /* (c) bits of slot.ptr holding a data offset */
    uint64_t buf_align;   /* (c) alignment for data offsets */
    uint8_t sem[128] __attribute__((aligned(NR_CACHE_ALIGN))); /* opaque, unused by netring */
    struct nr_slot slot[]; /* num_slots of them */
};

/* ---- netmap-compatible interface block ---- */
#ifndef NI_PRIV_MEM
#define NI_PRIV_MEM 0x1u
#endif

struct nr_if {
    char ni_name[NR_IFNAMSIZ]; /* (c) */
    uint32_t ni_version;       /* (c) NR_API_VERSION */
    uint32_t ni_flags;         /* (c) */
    uint32_t ni_tx_rings;      /* (c) NIC (or pipe) tx rings */
    uint32_t ni_rx_rings;      /* (c) */
    uint32_t ni_bufs_head;     /* (u) head of the extra-buffer list: each buffer's first 4 bytes
                                  hold the next index, 0 ends the list */
    uint32_t ni_host_tx_rings; /* (c) */
    uint32_t ni_host_rx_rings; /* (c) */
    uint32_t ni_spare1[3];
    int64_t ring_ofs[]; /* (c) tx rings (NIC then host), then rx rings; from this block */
};

/* ---- netring extension: per-ring sync block (in the role of netmap's CSB) ----
 * Three groups of fields on their own 128-byte pairs of cache lines, so the producer's and the
 * consumer's stores never share a line (Zen's adjacent-line prefetch works on 128-byte pairs).
 * Ordering: the application stores cur before head (release on head); the kernel side stores
 * hwcur before hwtail (release on hwtail). need_kick flags are written rarely and read every
 * sync, so their line stays shared in both caches. */
#define NR_SYNC_OK 0u
#define NR_SYNC_RESET 1u     /* (k) the ring was reset after invalid indices or slots */
#define NR_SYNC_PEER_GONE 2u /* (k) the pipe peer or the port went away */

struct nr_sync_app { /* (u) published by txsync/rxsync */
    uint32_t head;
    uint32_t cur;
    uint32_t pad[14];
};

struct nr_sync_flags {       /* rarely written */
    uint32_t appl_need_kick; /* (u) "I sleep in poll(): write my notify eventfd" */
    uint32_t kern_need_kick; /* (k) "I sleep: write my kick eventfd" */
    uint32_t status;         /* (k) NR_SYNC_*; set by the side that detected the condition */
    uint32_t monitors;       /* (d) pipe tx rings: monitors watching this ring pair (0: none) */
    uint32_t mon_table_ofs;  /* (d) pipe tx rings: the pair's nr_mon_table, from the region start */
    uint32_t pad[11];
};

struct nr_sync_kern { /* (k) */
    uint32_t hwcur;
    uint32_t hwtail;
    uint32_t pad[14];
    /* counters, (k), read by tools through STATS; informational only */
    uint64_t packets;
    uint64_t bytes;
    uint64_t drops;
    uint64_t kicks;  /* eventfd writes issued to the other side */
    uint64_t errors; /* invalid indices or slots seen */
    uint64_t pad2[3];
};

struct nr_sync {
    struct nr_sync_app app __attribute__((aligned(128)));
    struct nr_sync_flags flags __attribute__((aligned(128)));
    struct nr_sync_kern kern __attribute__((aligned(128)));
};

/* After ring_ofs[total] in an if block: an nr_if_ext, then one nr_ring_ext per ring, same order. */
#define NR_IF_EXT_MAGIC 0x5458454eu /* "NEXT" */
#define NR_PORT_KIND_PIPE 1u        /* the clients move packets themselves (zero copy) */
#define NR_PORT_KIND_DAEMON 2u      /* a daemon worker serves the rings */
#define NR_PORT_KIND_MONITOR 3u     /* rx rings only, each a copy of one ring of another port */
#define NR_IF_POLLED 0x1u /* no eventfd announces new frames (monitors of pipes): poll the rings */

struct nr_if_ext {
    uint32_t magic;       /* (c) NR_IF_EXT_MAGIC */
    uint32_t port_kind;   /* (c) NR_PORT_KIND_* */
    uint32_t total_rings; /* (c) entries in ring_ofs[] and in the nr_ring_ext array */
    uint32_t flags;       /* (c) NR_IF_* */
};

struct nr_ring_ext {
    int64_t sync_ofs;         /* (c) this ring's nr_sync, from the if block */
    int64_t partner_ring_ofs; /* (c) pipes: the ring at the other end (tx <-> peer rx), else 0 */
    int64_t partner_sync_ofs; /* (c) pipes: that ring's nr_sync, else 0 */
};

/* ---- netring extension: monitor rings ----
 * A monitor ("netmap:PORT/r", "/t", "/rt") is a registration with rx rings only, in PORT's region.
 * Each ring receives a copy of every frame crossing one ring of PORT in one direction: for "/rt",
 * first one ring per tx ring of PORT, then one per rx ring. A copy starts at offset 0 of its
 * buffer (offset_mask is 0) and its slot's ptr holds the time the frame crossed the port, in
 * nanoseconds since the epoch (CLOCK_REALTIME). When a monitor ring is full, copies are dropped and
 * counted in its sync block's kern.drops; the monitored port never waits for a monitor.
 * Which ring a monitor ring copies is in its ring header's sem[] area (unused by netmap programs). */
#define NR_MON_SOURCE_MAGIC 0x4e4f4d4eu /* "NMON" */
#define NR_MON_SRC_TX 0x1u              /* copies of frames the port transmits */
#define NR_MON_SRC_HOST 0x2u            /* of the NIC's host rings */

struct nr_mon_source {
    uint32_t magic;  /* (c) NR_MON_SOURCE_MAGIC */
    uint32_t flags;  /* (c) NR_MON_SRC_*; without TX: frames the port receives */
    uint32_t ringid; /* (c) the ring of the monitored port, among the rings of its direction */
    uint32_t pad;
};

static inline const struct nr_mon_source *nr_ring_mon_source(const struct nr_ring *ring)
{
    const struct nr_mon_source *src = (const struct nr_mon_source *)(const void *)ring->sem;
    return src->magic == NR_MON_SOURCE_MAGIC ? src : (const struct nr_mon_source *)0;
}

/* The time a monitor ring's slot says its frame crossed the port, ns since the epoch. */
static inline uint64_t nr_mon_slot_ns(const struct nr_slot *slot)
{
    return slot->ptr;
}

/* Pipes move frames in their clients' own processes, so the process that sends also feeds the
 * monitors of the pair: the daemon lists them in one table per ring pair (A.tx i / B.rx i), named
 * by the tx ring's sync block (flags.mon_table_ofs), and counts them in flags.monitors. An unwatched
 * pipe pays one load of a line it reads anyway. (d) written by the daemon, (p) by the producer. */
#define NR_MON_MAX 8u
#define NR_MON_ENTRY_FREE 0u
#define NR_MON_ENTRY_ACTIVE 1u

struct nr_mon_entry {
    uint32_t state;     /* (d) NR_MON_ENTRY_*: set ACTIVE last, cleared first */
    uint32_t num_slots; /* (d) of the monitor ring */
    uint64_t ring_ofs;  /* (d) the monitor ring, from the region start */
    uint64_t sync_ofs;  /* (d) its sync block */
    uint32_t src;       /* (d) NR_MON_SRC_TX: a copy of the tx ring, else of the peer's rx ring */
    uint32_t pad;
};

struct nr_mon_table {
    uint32_t seq; /* (p) odd while the producer reads the table and copies */
    uint32_t pad[31];
    struct nr_mon_entry entry[NR_MON_MAX];
};

/* ---- region header, at offset 0 of the memfd ---- */
struct nr_region_header {
    uint32_t magic;          /* (c) NR_REGION_MAGIC */
    uint16_t layout_version; /* (c) NR_LAYOUT_VERSION */
    uint16_t header_size;    /* (c) sizeof(struct nr_region_header) */
    uint64_t region_size;    /* (c) bytes in the memfd */
    uint64_t meta_offset;    /* (c) start of the metadata arena */
    uint64_t meta_size;      /* (c) */
    uint64_t buffers_offset; /* (c) buffer 0; aligned to buf_size so buffers can be UMEM chunks */
    uint32_t buf_size;       /* (c) bytes per buffer, power of two */
    uint32_t num_buffers;    /* (c) including the two reserved ones */
    uint64_t pad[2];
};

NR_STATIC_ASSERT(sizeof(struct nr_slot) == 16, "netmap_slot is 16 bytes");
NR_STATIC_ASSERT(offsetof(struct nr_slot, len) == 4, "slot.len");
NR_STATIC_ASSERT(offsetof(struct nr_slot, flags) == 6, "slot.flags");
NR_STATIC_ASSERT(offsetof(struct nr_slot, ptr) == 8, "slot.ptr");

NR_STATIC_ASSERT(offsetof(struct nr_ring, num_slots) == 8, "ring.num_slots");
NR_STATIC_ASSERT(offsetof(struct nr_ring, nr_buf_size) == 12, "ring.nr_buf_size");
NR_STATIC_ASSERT(offsetof(struct nr_ring, ringid) == 16, "ring.ringid");
NR_STATIC_ASSERT(offsetof(struct nr_ring, dir) == 18, "ring.dir");
NR_STATIC_ASSERT(offsetof(struct nr_ring, head) == 20, "ring.head");
NR_STATIC_ASSERT(offsetof(struct nr_ring, cur) == 24, "ring.cur");
NR_STATIC_ASSERT(offsetof(struct nr_ring, tail) == 28, "ring.tail");
NR_STATIC_ASSERT(offsetof(struct nr_ring, flags) == 32, "ring.flags");
NR_STATIC_ASSERT(offsetof(struct nr_ring, ts) == 40, "ring.ts");
NR_STATIC_ASSERT(offsetof(struct nr_ring, offset_mask) == 56, "ring.offset_mask");
NR_STATIC_ASSERT(offsetof(struct nr_ring, buf_align) == 64, "ring.buf_align");
NR_STATIC_ASSERT(offsetof(struct nr_ring, sem) == 128, "ring.sem");
NR_STATIC_ASSERT(offsetof(struct nr_ring, slot) == 256, "ring.slot");
NR_STATIC_ASSERT(sizeof(struct nr_ring) == 256, "ring header is 256 bytes");

NR_STATIC_ASSERT(offsetof(struct nr_if, ni_version) == 16, "if.ni_version");
NR_STATIC_ASSERT(offsetof(struct nr_if, ni_tx_rings) == 24, "if.ni_tx_rings");
NR_STATIC_ASSERT(offsetof(struct nr_if, ni_bufs_head) == 32, "if.ni_bufs_head");
NR_STATIC_ASSERT(offsetof(struct nr_if, ni_host_rx_rings) == 40, "if.ni_host_rx_rings");
NR_STATIC_ASSERT(offsetof(struct nr_if, ring_ofs) == 56, "if.ring_ofs");
NR_STATIC_ASSERT(sizeof(struct nr_if) == 56, "if header is 56 bytes");

NR_STATIC_ASSERT(sizeof(struct nr_sync_app) == 64, "sync app line");
NR_STATIC_ASSERT(sizeof(struct nr_sync_flags) == 64, "sync flags line");
NR_STATIC_ASSERT(sizeof(struct nr_sync_kern) == 128, "sync kern lines");
NR_STATIC_ASSERT(offsetof(struct nr_sync, flags) == 128, "sync.flags");
NR_STATIC_ASSERT(offsetof(struct nr_sync, kern) == 256, "sync.kern");
NR_STATIC_ASSERT(sizeof(struct nr_sync) == 384, "sync block is 384 bytes");

NR_STATIC_ASSERT(sizeof(struct nr_if_ext) == 16, "if ext");
NR_STATIC_ASSERT(sizeof(struct nr_mon_source) <= sizeof(((struct nr_ring *)0)->sem), "source in sem[]");
NR_STATIC_ASSERT(sizeof(struct nr_mon_entry) == 32, "monitor entry");
NR_STATIC_ASSERT(offsetof(struct nr_mon_table, entry) == 128, "monitor table: seq on its own line");
NR_STATIC_ASSERT(offsetof(struct nr_sync_flags, monitors) == 12, "sync.flags.monitors");
NR_STATIC_ASSERT(sizeof(struct nr_ring_ext) == 24, "ring ext");
NR_STATIC_ASSERT(sizeof(struct nr_region_header) == 64, "region header is one cache line");

/* ---- netmap-style accessors (same arithmetic as NETMAP_TXRING / NETMAP_BUF) ---- */
static inline struct nr_ring *nr_txring(struct nr_if *nifp, uint32_t i)
{
    return (struct nr_ring *)((char *)nifp + nifp->ring_ofs[i]);
}

static inline struct nr_ring *nr_rxring(struct nr_if *nifp, uint32_t i)
{
    return (struct nr_ring *)((char *)nifp +
                              nifp->ring_ofs[i + nifp->ni_tx_rings + nifp->ni_host_tx_rings]);
}

static inline char *nr_buf(struct nr_ring *ring, uint32_t idx)
{
    return (char *)ring + ring->buf_ofs + (int64_t)idx * ring->nr_buf_size;
}

static inline char *nr_slot_data(struct nr_ring *ring, const struct nr_slot *slot)
{
    return nr_buf(ring, slot->buf_idx) + (slot->ptr & ring->offset_mask);
}

static inline uint32_t nr_ring_next(const struct nr_ring *ring, uint32_t i)
{
    return i + 1 == ring->num_slots ? 0 : i + 1;
}

/* Slots the application may use: tx free slots, or rx packets waiting. */
static inline uint32_t nr_ring_space(const struct nr_ring *ring)
{
    int64_t n = (int64_t)ring->tail - ring->cur;
    return (uint32_t)(n < 0 ? n + ring->num_slots : n);
}

static inline int nr_ring_empty(const struct nr_ring *ring)
{
    return ring->cur == ring->tail;
}

/* Slots from index `from` forward to index `to` (excluded) on a ring of num_slots, both indices
 * below num_slots: rx packets in [head, tail), tx slots free in [cur, tail). num_slots is a
 * parameter so a loop can pass the copy it read once. */
static inline uint32_t nr_ring_distance(uint32_t from, uint32_t to, uint32_t num_slots)
{
    return to >= from ? to - from : to + num_slots - from;
}

/* Brings the cache line at p in exclusive state, ready to be written: a tx loop calls it on a
 * buffer some slots ahead. __builtin_prefetch(p, 1) only emits PREFETCHW when the target enables
 * PRFCHW (x86-64 baseline does not), and a plain prefetch of a line the other core holds leaves it
 * shared: the store then pays a second transfer to upgrade it. PREFETCHW decodes as a NOP on CPUs
 * that lack it. Never faults, whatever p is. */
static inline void nr_prefetch_for_write(const void *p)
{
#if defined(__x86_64__)
    __asm__ __volatile__("prefetchw %0" : : "m"(*(const char *)p));
#else
    __builtin_prefetch(p, 1);
#endif
}

/* The body of a busy-wait loop on a ring (PAUSE on x86, YIELD on arm64): the sibling hyperthread
 * gets the core, and leaving the loop does not pay a memory-order mis-speculation. */
static inline void nr_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield" ::: "memory");
#endif
}

static inline uint32_t nr_total_rings(const struct nr_if *nifp)
{
    return nifp->ni_tx_rings + nifp->ni_host_tx_rings + nifp->ni_rx_rings + nifp->ni_host_rx_rings;
}

static inline struct nr_if_ext *nr_get_if_ext(struct nr_if *nifp)
{
    return (struct nr_if_ext *)((char *)nifp + sizeof(struct nr_if) +
                                nr_total_rings(nifp) * sizeof(int64_t));
}

static inline struct nr_ring_ext *nr_get_ring_ext(struct nr_if *nifp, uint32_t ring_pos)
{
    return (struct nr_ring_ext *)((char *)nr_get_if_ext(nifp) + sizeof(struct nr_if_ext)) + ring_pos;
}

/* Bytes an if block with `total` rings occupies, extension included. */
static inline size_t nr_if_block_size(uint32_t total)
{
    return sizeof(struct nr_if) + total * (sizeof(int64_t) + sizeof(struct nr_ring_ext)) +
           sizeof(struct nr_if_ext);
}

static inline size_t nr_ring_block_size(uint32_t num_slots)
{
    return sizeof(struct nr_ring) + (size_t)num_slots * sizeof(struct nr_slot);
}
