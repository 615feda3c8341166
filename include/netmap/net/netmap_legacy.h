/*
 * netring's <net/netmap_legacy.h>: the control interface netmap had before NIOCCTRL.
 *
 * Old programs (and netmap_user.h's nm_open()) register a port with ioctl(fd, NIOCREGIF, &req)
 * on a struct nmreq, ask for its geometry with NIOCGINFO, and drive VALE switches through nr_cmd.
 * net/netmap.h includes this file; programs need not include it themselves. The ioctl numbers
 * encode sizeof(struct nmreq), so the struct keeps netmap's layout exactly.
 */
#pragma once
#define _NET_NETMAP_LEGACY_H_ /* netmap's include guard */

#include <stdint.h>
#include <sys/ioctl.h>
#ifndef IFNAMSIZ /* <linux/if.h> may already be in: it clashes with <net/if.h> */
#include <net/if.h>
#endif

/* The name arrays are IFNAMSIZ long. In strict ISO C mode glibc's <net/if.h> defines only POSIX's
 * IF_NAMESIZE (the same 16), so the headers size them with this private name. */
#ifdef IFNAMSIZ
#define NETRING_NM_IFNAMSIZ IFNAMSIZ
#else
#define NETRING_NM_IFNAMSIZ IF_NAMESIZE
#endif

struct nmreq {
    char nr_name[NETRING_NM_IFNAMSIZ]; /* (u) port name without the "netmap:" prefix */
    uint32_t nr_version;               /* (u) NETMAP_API */
    uint32_t nr_offset;                /* (k) the netmap_if's offset in the mapping */
    uint32_t nr_memsize;               /* (k) bytes to mmap() */
    uint32_t nr_tx_slots;              /* (u/k) */
    uint32_t nr_rx_slots;              /* (u/k) */
    uint16_t nr_tx_rings;              /* (u/k) */
    uint16_t nr_rx_rings;              /* (u/k) */
    uint16_t nr_ringid;                /* (u) ring index in the low bits, NETMAP_* flags in the high ones */
#define NETMAP_HW_RING    0x4000       /* old selector: one hardware ring */
#define NETMAP_SW_RING    0x2000       /* old selector: the host rings */
#define NETMAP_RING_MASK  0x0fff       /* the ring index inside nr_ringid */
#define NETMAP_NO_TX_POLL 0x1000       /* poll() does not sync the tx rings */
#define NETMAP_DO_RX_POLL 0x8000       /* poll() also syncs rx rings that already hold packets */
    uint16_t nr_cmd;                   /* (u) 0 to register, else one of these */
#define NETMAP_BDG_ATTACH      1       /* attach the port to a VALE switch */
#define NETMAP_BDG_DETACH      2       /* detach it */
#define NETMAP_BDG_REGOPS      3       /* install a switch's lookup function (kernel modules) */
#define NETMAP_BDG_LIST        4       /* walk the switches' ports */
#define NETMAP_BDG_VNET_HDR    5       /* set the virtio-net header length */
#define NETMAP_BDG_NEWIF       6       /* create a persistent VALE port */
#define NETMAP_BDG_DELIF       7       /* delete it */
#define NETMAP_PT_HOST_CREATE  8       /* start passthrough threads */
#define NETMAP_PT_HOST_DELETE  9       /* stop them */
#define NETMAP_BDG_POLLING_ON  10      /* start polling threads */
#define NETMAP_BDG_POLLING_OFF 11      /* stop them */
#define NETMAP_VNET_HDR_GET    12      /* read the virtio-net header length */
    uint16_t nr_arg1;                  /* (u/k) per command; NETMAP_BDG_HOST when attaching */
#define NETMAP_BDG_HOST 1              /* also attach the NIC's host rings */
    uint16_t nr_arg2;                  /* (u/k) memory region id */
    uint32_t nr_arg3;                  /* (u/k) extra buffers asked for (and granted) on NIOCREGIF */
    uint32_t nr_flags;                 /* (u) NR_REG_* mode in the low bits, NR_* flags above */
#define NR_REG_MASK 0xf                /* the NR_REG_* mode inside nr_flags */
    uint32_t spare2[1];
};

/* Opaque request for a module that extends a VALE switch (NIOCCONFIG). */
#define NM_IFRDATA_LEN 256
struct nm_ifreq {
    char nifr_name[NETRING_NM_IFNAMSIZ];
    char data[NM_IFRDATA_LEN];
};

#define NIOCGINFO  _IOWR('i', 145, struct nmreq)    /* a port's geometry */
#define NIOCREGIF  _IOWR('i', 146, struct nmreq)    /* register, or run nr_cmd */
#define NIOCCONFIG _IOWR('i', 150, struct nm_ifreq) /* pass nm_ifreq to a switch module */
