/*
 * netring's <net/netmap.h>: netmap's shared ABI, API version 14, for programs written for netmap.
 *
 * A netmap program opens a control file descriptor, registers a port with ioctl(fd, NIOCCTRL, hdr)
 * (a struct nmreq_header whose nr_body points at a struct nmreq_register), mmap()s nr_memsize
 * bytes and finds its struct netmap_if at nr_offset in that mapping. From there every ring and
 * buffer is an offset (see net/netmap_user.h). libnetring-netmap serves those calls from netring's
 * shared memory, whose if/ring/slot blocks are the ones declared here (include/netring/layout.h).
 *
 * Names, types, field order and constant values are netmap's, because compiled programs depend on
 * them; tests/netmap holds the checks. Fields are marked as netmap marks them: (u) written by the
 * application, (k) by the kernel side (for netring: the daemon or the pipe peer), (c) constant once
 * the port is registered.
 *
 * Linux only. The header includes what it needs, so it compiles on its own in C and in C++.
 */
#pragma once
#define _NET_NETMAP_H_ /* netmap's include guard; some programs test it */

#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/time.h>
#include <sys/types.h>

/* nmreq, NIOCREGIF and the other pre-NIOCCTRL names; netmap declares them from here too. */
#include "netmap_legacy.h"

#define NETMAP_API     14 /* the version this header describes */
#define NETMAP_MIN_API 14 /* oldest nr_version a netmap kernel accepts */
#define NETMAP_MAX_API 15 /* newest nr_version a netmap kernel accepts */

#define NM_CACHE_ALIGN 128 /* the ring's sem[] starts on such a boundary */

/* ---- slots ---- */

/* One packet buffer (or one fragment of a packet). */
struct netmap_slot {
    uint32_t buf_idx; /* (u/k) buffer index in the shared memory */
    uint16_t len;     /* (u/k) bytes of data */
    uint16_t flags;   /* (u/k) NS_* below */
    uint64_t ptr;     /* (u) low bits (ring->offset_mask): data offset in the buffer */
};

#ifndef NS_BUF_CHANGED /* <netring/layout.h> has the same value */
#define NS_BUF_CHANGED 0x0001 /* (u) buf_idx was replaced: the kernel side must reload it */
#endif
#ifndef NS_REPORT /* <netring/layout.h> has the same value */
#define NS_REPORT      0x0002 /* (u) ask for a notification when this slot is sent */
#endif
#ifndef NS_FORWARD /* <netring/layout.h> has the same value */
#define NS_FORWARD     0x0004 /* (u) pass this rx slot on to the other side (with NR_FORWARD) */
#endif
#ifndef NS_NO_LEARN /* <netring/layout.h> has the same value */
#define NS_NO_LEARN    0x0008 /* (u) VALE: do not learn the source address */
#endif
#ifndef NS_INDIRECT /* <netring/layout.h> has the same value */
#define NS_INDIRECT    0x0010 /* (u) VALE tx: ptr is a user address, not an offset */
#endif
#ifndef NS_MOREFRAG /* <netring/layout.h> has the same value */
#define NS_MOREFRAG    0x0020 /* (u/k) the packet continues in the next slot */
#endif
#define NS_TXMON       0x0040 /* (k) monitor rings: this slot was seen on a tx ring */

/* VALE rx: the upper byte of flags carries the source port. */
#define NS_PORT_SHIFT    8
#define NS_PORT_MASK     (0xff << NS_PORT_SHIFT)
#define NS_RFRAGS(_slot) (((_slot)->flags >> 8) & 0xff) /* fragments still to come */

#define NETMAP_MAX_FRAGS 64 /* slots one packet may span */

/* ---- rings ----
 * The application owns slots [head, tail); it moves head to hand slots back and sets cur to the
 * slot where it wants to be woken up (cur >= head, both within the owned span). The kernel side
 * moves tail during a sync. A ring is a 256-byte header followed by num_slots slots. */
struct netmap_ring {
    const int64_t buf_ofs;      /* (c) from this ring to buffer 0, may be negative */
    const uint32_t num_slots;   /* (c) */
    const uint32_t nr_buf_size; /* (c) bytes per buffer */
    const uint16_t ringid;      /* (c) index among the port's rings of this direction */
    const uint16_t dir;         /* (c) 0 tx, 1 rx */

    uint32_t head; /* (u) first slot the application owns */
    uint32_t cur;  /* (u) wake-up point */
    uint32_t tail; /* (k) first slot the kernel side owns */

    uint32_t flags; /* (u) NR_TIMESTAMP, NR_FORWARD */

    struct timeval ts; /* (k) time of the last rx sync */

    const uint64_t offset_mask; /* (c) slot.ptr bits that hold a data offset */
    const uint64_t buf_align;   /* (c) tx data offsets must be multiples of it */

    uint8_t sem[128] __attribute__((__aligned__(NM_CACHE_ALIGN))); /* kernel-private */

    struct netmap_slot slot[]; /* num_slots of them */
};

#ifndef NR_TIMESTAMP /* <netring/layout.h> has the same value */
#define NR_TIMESTAMP 0x0002 /* (u) refresh ts on every sync, not only on rx */
#endif
#ifndef NR_FORWARD /* <netring/layout.h> has the same value */
#define NR_FORWARD   0x0004 /* (u) honour NS_FORWARD in rx slots */
#endif

/* Nothing left to read (rx) or no free slot (tx). */
static inline int nm_ring_empty(const struct netmap_ring *ring) { return ring->head == ring->tail; }

/* ---- interface block: one per registration, found at nr_offset in the mapping ---- */
struct netmap_if {
    char ni_name[NETRING_NM_IFNAMSIZ]; /* (c) port name */
    const uint32_t ni_version;         /* (c) NETMAP_API of the kernel side */
    const uint32_t ni_flags;           /* (c) NI_PRIV_MEM */
#ifndef NI_PRIV_MEM /* <netring/layout.h> has the same value */
#define NI_PRIV_MEM 0x1                /* the port has memory of its own, not shared */
#endif
    const uint32_t ni_tx_rings;        /* (c) hardware (or pipe) tx rings */
    const uint32_t ni_rx_rings;        /* (c) hardware (or pipe) rx rings */
    /* (u) extra-buffer list: the first 4 bytes of each buffer hold the next index, 0 ends it */
    uint32_t ni_bufs_head;
    const uint32_t ni_host_tx_rings; /* (c) */
    const uint32_t ni_host_rx_rings; /* (c) */
    uint32_t ni_spare1[3];
    /* (c) offset of each ring from this block: hardware tx, host tx, hardware rx, host rx */
    const ssize_t ring_ofs[];
};

/* ---- control requests: ioctl(fd, NIOCCTRL, &hdr) ----
 * The header names the port and the request; nr_body points at the request's struct (below),
 * nr_options at a list of options chained through nro_next. Pointers travel as uint64_t so 32-bit
 * programs share the layout. On return nr_body is filled in and each option's nro_status tells
 * whether it was accepted (0) or why not (an errno value). */
#define NETMAP_REQ_MAXSIZE 4096 /* bound on a request body */

struct nmreq_option {
    uint64_t nro_next;    /* (u) next option, as a pointer; 0 ends the list */
    uint32_t nro_reqtype; /* (u) NETMAP_REQ_OPT_* */
    uint32_t nro_status;  /* (k) 0 or an errno value */
    uint64_t nro_size;    /* (u) bytes of the whole option struct */
};

struct nmreq_header {
    uint16_t nr_version;  /* (u) NETMAP_API */
    uint16_t nr_reqtype;  /* (u) NETMAP_REQ_* */
    uint32_t nr_reserved; /* must be 0 */
#define NETMAP_REQ_IFNAMSIZ 64
    char nr_name[NETMAP_REQ_IFNAMSIZ]; /* (u) port name, e.g. "netmap:eth0" without "netmap:" */
    uint64_t nr_options;               /* (u) first struct nmreq_option, as a pointer, or 0 */
    uint64_t nr_body;                  /* (u) request struct, as a pointer */
};

/* nr_reqtype values; the body each one takes is named on its line. */
enum {
    NETMAP_REQ_REGISTER = 1,              /* struct nmreq_register */
    NETMAP_REQ_PORT_INFO_GET = 2,         /* struct nmreq_port_info_get */
    NETMAP_REQ_VALE_ATTACH = 3,           /* struct nmreq_vale_attach */
    NETMAP_REQ_VALE_DETACH = 4,           /* struct nmreq_vale_detach */
    NETMAP_REQ_VALE_LIST = 5,             /* struct nmreq_vale_list */
    NETMAP_REQ_PORT_HDR_SET = 6,          /* struct nmreq_port_hdr */
    NETMAP_REQ_PORT_HDR_GET = 7,          /* struct nmreq_port_hdr */
    NETMAP_REQ_VALE_NEWIF = 8,            /* struct nmreq_vale_newif */
    NETMAP_REQ_VALE_DELIF = 9,            /* no body */
    NETMAP_REQ_VALE_POLLING_ENABLE = 10,  /* struct nmreq_vale_polling */
    NETMAP_REQ_VALE_POLLING_DISABLE = 11, /* struct nmreq_vale_polling */
    NETMAP_REQ_POOLS_INFO_GET = 12,       /* struct nmreq_pools_info */
    NETMAP_REQ_SYNC_KLOOP_START = 13,     /* struct nmreq_sync_kloop_start */
    NETMAP_REQ_SYNC_KLOOP_STOP = 14,      /* no body */
    NETMAP_REQ_CSB_ENABLE = 15,           /* no body; takes NETMAP_REQ_OPT_CSB */
};

/* nro_reqtype values; the struct each one is named on its line. */
enum {
    NETMAP_REQ_OPT_EXTMEM = 1,              /* struct nmreq_opt_extmem, on REGISTER */
    NETMAP_REQ_OPT_SYNC_KLOOP_EVENTFDS = 2, /* struct nmreq_opt_sync_kloop_eventfds */
    NETMAP_REQ_OPT_CSB = 3,                 /* struct nmreq_opt_csb, on REGISTER or CSB_ENABLE */
    NETMAP_REQ_OPT_SYNC_KLOOP_MODE = 4,     /* struct nmreq_opt_sync_kloop_mode */
    NETMAP_REQ_OPT_OFFSETS = 5,             /* struct nmreq_opt_offsets, on REGISTER */
    NETMAP_REQ_OPT_MAX = 6,                 /* one past the last option */
};

/* ---- NETMAP_REQ_REGISTER: bind the descriptor to some rings of a port ---- */
struct nmreq_register {
    uint64_t nr_offset;            /* (k) the netmap_if's offset in the mapping */
    uint64_t nr_memsize;           /* (u/k) bytes to mmap() */
    uint32_t nr_tx_slots;          /* (u/k) slots per tx ring: asked, then granted */
    uint32_t nr_rx_slots;          /* (u/k) */
    uint16_t nr_tx_rings;          /* (u/k) */
    uint16_t nr_rx_rings;          /* (u/k) */
    uint16_t nr_host_tx_rings;     /* (u/k) */
    uint16_t nr_host_rx_rings;     /* (u/k) */
    uint16_t nr_mem_id;            /* (u/k) memory region; 0 lets the kernel side pick */
    uint16_t nr_ringid;            /* (u) the ring for NR_REG_ONE_NIC, NR_REG_ONE_SW and pipes */
    uint32_t nr_mode;              /* (u) NR_REG_* */
    uint32_t nr_extra_bufs;        /* (u/k) buffers asked for (and granted) on ni_bufs_head */
    uint64_t nr_flags;             /* (u) NR_* below */
#define NR_MONITOR_TX      0x100   /* monitor the tx rings of the named port */
#define NR_MONITOR_RX      0x200   /* monitor its rx rings */
#define NR_ZCOPY_MON       0x400   /* monitor by swapping buffers rather than copying */
#define NR_EXCLUSIVE       0x800   /* nobody else may bind these rings */
#define NR_RX_RINGS_ONLY   0x2000  /* bind the rx rings of the selection only */
#define NR_TX_RINGS_ONLY   0x4000  /* bind the tx rings of the selection only */
#define NR_ACCEPT_VNET_HDR 0x8000  /* the program handles virtio-net headers */
#define NR_DO_RX_POLL      0x10000 /* poll() also syncs rx rings that already hold packets */
#define NR_NO_TX_POLL      0x20000 /* poll() does not sync the tx rings */
};

/* nr_mode values: which rings a registration binds. */
enum {
    NR_REG_DEFAULT = 0,     /* old programs: take the mode from nr_ringid */
    NR_REG_ALL_NIC = 1,     /* every hardware ring */
    NR_REG_SW = 2,          /* the host rings only */
    NR_REG_NIC_SW = 3,      /* hardware and host rings */
    NR_REG_ONE_NIC = 4,     /* hardware ring pair nr_ringid */
    NR_REG_PIPE_MASTER = 5, /* master end of pipe nr_ringid (name suffix '{') */
    NR_REG_PIPE_SLAVE = 6,  /* slave end of pipe nr_ringid (name suffix '}') */
    NR_REG_NULL = 7,        /* no rings: only the memory */
    NR_REG_ONE_SW = 8,      /* host ring pair nr_ringid */
};

/* ---- ioctls on the control descriptor ---- */
#define NIOCCTRL   _IOWR('i', 151, struct nmreq_header) /* every NETMAP_REQ_* request */
#define NIOCTXSYNC _IO('i', 148)                        /* sync the bound tx rings */
#define NIOCRXSYNC _IO('i', 149)                        /* sync the bound rx rings */

/* ---- NETMAP_REQ_PORT_INFO_GET: a port's geometry, without binding it ---- */
struct nmreq_port_info_get {
    uint64_t nr_memsize;       /* (k) */
    uint32_t nr_tx_slots;      /* (k) */
    uint32_t nr_rx_slots;      /* (k) */
    uint16_t nr_tx_rings;      /* (k) */
    uint16_t nr_rx_rings;      /* (k) */
    uint16_t nr_host_tx_rings; /* (k) */
    uint16_t nr_host_rx_rings; /* (k) */
    uint16_t nr_mem_id;        /* (u/k) */
    uint16_t pad[3];
};

/* ---- VALE switches: port names "vale<switch>:<port>" ---- */
#define NM_BDG_NAME "vale"

/* NETMAP_REQ_VALE_ATTACH: connect the port named in the header to a switch. */
struct nmreq_vale_attach {
    struct nmreq_register reg; /* (u/k) as for NETMAP_REQ_REGISTER */
    uint32_t port_index;       /* (k) the port's index on the switch */
    uint32_t pad1;
};

/* NETMAP_REQ_VALE_DETACH */
struct nmreq_vale_detach {
    uint32_t port_index; /* (k) the index the port had */
    uint32_t pad1;
};

/* NETMAP_REQ_VALE_LIST: with an empty name, walk all ports of all switches. */
struct nmreq_vale_list {
    uint16_t nr_bridge_idx; /* (u/k) switch index, cursor of the walk */
    uint16_t pad1;
    uint32_t nr_port_idx; /* (u/k) port index, cursor of the walk */
};

/* NETMAP_REQ_PORT_HDR_SET and NETMAP_REQ_PORT_HDR_GET: virtio-net header length. */
struct nmreq_port_hdr {
    uint32_t nr_hdr_len; /* (u/k) 0, 10 or 12 */
    uint32_t pad1;
};

/* NETMAP_REQ_VALE_NEWIF: create a persistent VALE port. */
struct nmreq_vale_newif {
    uint32_t nr_tx_slots; /* (u/k) */
    uint32_t nr_rx_slots; /* (u/k) */
    uint16_t nr_tx_rings; /* (u/k) */
    uint16_t nr_rx_rings; /* (u/k) */
    uint16_t nr_mem_id;   /* (u/k) */
    uint16_t pad1;
};

/* NETMAP_REQ_VALE_POLLING_ENABLE / _DISABLE: kernel threads that poll a port's rings. */
struct nmreq_vale_polling {
    uint32_t nr_mode;                    /* (u) NETMAP_POLLING_MODE_* */
#define NETMAP_POLLING_MODE_SINGLE_CPU 1 /* one thread for all rings */
#define NETMAP_POLLING_MODE_MULTI_CPU  2 /* one thread per ring */
    uint32_t nr_first_cpu_id;            /* (u) */
    uint32_t nr_num_polling_cpus;        /* (u) */
    uint32_t pad1;
};

/* NETMAP_REQ_POOLS_INFO_GET: where the three pools of a memory region lie. */
struct nmreq_pools_info {
    uint64_t nr_memsize; /* (k) */
    uint16_t nr_mem_id;  /* (u/k) */
    uint16_t pad1[3];
    uint64_t nr_if_pool_offset;     /* (k) interface blocks */
    uint32_t nr_if_pool_objtotal;   /* (u/k) */
    uint32_t nr_if_pool_objsize;    /* (u/k) */
    uint64_t nr_ring_pool_offset;   /* (k) rings */
    uint32_t nr_ring_pool_objtotal; /* (u/k) */
    uint32_t nr_ring_pool_objsize;  /* (u/k) */
    uint64_t nr_buf_pool_offset;    /* (k) buffers */
    uint32_t nr_buf_pool_objtotal;  /* (u/k) */
    uint32_t nr_buf_pool_objsize;   /* (u/k) */
};

/* NETMAP_REQ_SYNC_KLOOP_START: a kernel loop syncs the rings of a CSB registration. */
struct nmreq_sync_kloop_start {
    uint32_t sleep_us; /* (u) pause between passes when there are no eventfds */
    uint32_t pad1;
};

/* ---- CSB: ring indices exchanged through user memory (NETMAP_REQ_OPT_CSB) ----
 * One atok and one ktoa entry per bound ring, tx rings first. Each side writes only its own
 * entry, and the two sit on separate 64-byte lines. */
struct nm_csb_atok {         /* application to kernel */
    uint32_t head;           /* (u) */
    uint32_t cur;            /* (u) */
    uint32_t appl_need_kick; /* (u) the application sleeps: notify it */
    uint32_t sync_flags;     /* (u) flags for the kernel's sync of this ring */
    uint32_t pad[12];
};

struct nm_csb_ktoa {         /* kernel to application */
    uint32_t hwcur;          /* (k) */
    uint32_t hwtail;         /* (k) */
    uint32_t kern_need_kick; /* (k) the kernel loop sleeps: kick it */
    uint32_t pad[13];
};

/* Store-store and load-load fences for the CSB exchange. */
static inline void nm_stst_barrier(void) { __atomic_thread_fence(__ATOMIC_RELEASE); }

static inline void nm_ldld_barrier(void) { __atomic_thread_fence(__ATOMIC_ACQUIRE); }

/* Publishes the application's indices. head is stored last: the kernel loop reads head first,
 * so a head it sees never runs ahead of the cur and slots stored before it (pairs with the
 * kernel's head-then-cur loads). */
static inline void nm_sync_kloop_appl_write(struct nm_csb_atok *atok, uint32_t cur, uint32_t head)
{
    nm_stst_barrier(); /* slot contents before cur */
    atok->cur = cur;
    nm_stst_barrier(); /* cur before head */
    atok->head = head;
}

/* Reads the kernel's indices: hwtail first, because the kernel stores hwcur before hwtail
 * (pairs with that order); the slots up to hwtail are then safe to read. */
static inline void nm_sync_kloop_appl_read(struct nm_csb_ktoa *ktoa, uint32_t *hwtail, uint32_t *hwcur)
{
    *hwtail = ktoa->hwtail;
    nm_ldld_barrier(); /* hwtail before hwcur */
    *hwcur = ktoa->hwcur;
    nm_ldld_barrier(); /* indices before slot contents */
}

/* ---- options (struct nmreq_option first in each) ---- */

/* NETMAP_REQ_OPT_SYNC_KLOOP_EVENTFDS: one eventfd pair per bound ring, tx rings first. */
struct nmreq_opt_sync_kloop_eventfds {
    struct nmreq_option nro_opt;
    struct {
        int32_t ioeventfd; /* (u) the application kicks the loop through it, or -1 */
        int32_t irqfd;     /* (u) the loop notifies the application through it, or -1 */
    } eventfds[];
};

/* NETMAP_REQ_OPT_SYNC_KLOOP_MODE */
struct nmreq_opt_sync_kloop_mode {
    struct nmreq_option nro_opt;
#define NM_OPT_SYNC_KLOOP_DIRECT_TX (1 << 0) /* tx sync runs in the kicking thread */
#define NM_OPT_SYNC_KLOOP_DIRECT_RX (1 << 1) /* rx sync runs in the notifying thread */
    uint32_t mode;                           /* (u) */
};

/* NETMAP_REQ_OPT_EXTMEM: build the memory region inside memory the program mapped. */
struct nmreq_opt_extmem {
    struct nmreq_option nro_opt;
    uint64_t nro_usrptr;              /* (u) start of the program's memory, as a pointer */
    struct nmreq_pools_info nro_info; /* (u/k) pool geometry asked for, then granted */
};

/* NETMAP_REQ_OPT_CSB */
struct nmreq_opt_csb {
    struct nmreq_option nro_opt;
    uint64_t csb_atok; /* (u) array of struct nm_csb_atok, as a pointer */
    uint64_t csb_ktoa; /* (u) array of struct nm_csb_ktoa, as a pointer */
};

/* NETMAP_REQ_OPT_OFFSETS: let slot.ptr carry a data offset inside the buffer. */
struct nmreq_opt_offsets {
    struct nmreq_option nro_opt;
    uint64_t nro_max_offset;     /* (u) largest offset the program will use */
    uint64_t nro_initial_offset; /* (u) offset written in every slot at registration */
    uint32_t nro_offset_bits;    /* (u/k) low bits of ptr that hold the offset */
    uint32_t nro_tx_align;       /* (k) tx offsets must be multiples of it */
    uint64_t nro_min_gap;        /* (u) bytes the program needs past the data */
};
