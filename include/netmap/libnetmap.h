/*
 * netring's <libnetmap.h>: netmap's libnetmap API, implemented by libnetring-netmap.
 *
 * A port is described by a struct nmport_d and opened from a port specification,
 *
 *   netmap:eth0-1/T@2          ring pair 1 of eth0, tx only, memory region 2
 *   vale0:p{3@conf:extmem=/hugepages/f,offset:initial=64
 *
 * either in one call (nmport_open) or in steps that each have an undo: nmport_new, nmport_parse,
 * nmport_register, nmport_mmap (nmport_prepare = new + parse, nmport_open_desc = register + mmap).
 * Between the steps a program may change d->reg, add options to d->hdr, or call nmport_extmem and
 * nmport_offset. The port's rings are then reached through d->nifp with net/netmap_user.h.
 *
 * Errors go to the context's error callback (struct nmctx); the functions return -1 or NULL with
 * errno set. Layouts and names are netmap's, so programs built for libnetmap build unchanged.
 */
#pragma once
#define LIBNETMAP_H_ /* netmap's include guard */

#include <net/netmap_user.h>

#include <stddef.h>
#include <stdint.h>

struct nmctx;
struct nmport_d;
struct nmem_d;
struct nmport_cleanup_d; /* the library's undo list; opaque to programs */

/* An open (or half-open) port. Programs read all of it; between the steps they may edit hdr
 * and reg, which the next step sends. */
struct nmport_d {
    struct nmreq_header hdr;         /* port name and options; nr_body points at reg */
    struct nmreq_register reg;       /* the registration, as asked and then as granted */
    struct nmem_d *mem;              /* the mapped memory region (shared with other ports using it) */
    struct nmctx *ctx;               /* where errors, allocations and locking go */
    int register_done;               /* nmport_register() succeeded */
    int mmap_done;                   /* nmport_mmap() succeeded */
    struct nmreq_opt_extmem *extmem; /* the EXTMEM option, if nmport_extmem() added one */
    int fd;                          /* control descriptor, -1 before registration */
    struct netmap_if *nifp;          /* the interface block, once mapped */
    uint16_t first_tx_ring;          /* bound rings, inclusive ranges */
    uint16_t last_tx_ring;
    uint16_t first_rx_ring;
    uint16_t last_rx_ring;
    uint16_t cur_tx_ring; /* where nmport_inject() tries first */
    uint16_t cur_rx_ring;
    struct nmport_cleanup_d *clist; /* undo actions of the steps taken */
};

#ifdef __cplusplus
extern "C" {
#endif

/* ---- ports, in one call ---- */

/* new + parse + register + mmap. NULL on failure. */
struct nmport_d *nmport_open(const char *portspec);
/* Undoes whatever nmport_open() (or the steps) did, and frees d. */
void nmport_close(struct nmport_d *d);
/* Copies one packet into the next free slot of a bound tx ring, trying each from cur_tx_ring.
 * size, or 0 when every bound tx ring is full. Does not sync. */
int nmport_inject(struct nmport_d *d, const void *buf, size_t size);

/* ---- ports, step by step; each step has its undo ---- */

struct nmport_d *nmport_new(void); /* an empty descriptor; NULL on failure */
void nmport_delete(struct nmport_d *d);
/* Fills d->hdr and d->reg from portspec, options included. 0 or -1. */
int nmport_parse(struct nmport_d *d, const char *portspec);
void nmport_undo_parse(struct nmport_d *d);
/* Opens the control descriptor and sends NETMAP_REQ_REGISTER. 0 or -1. */
int nmport_register(struct nmport_d *d);
void nmport_undo_register(struct nmport_d *d);
/* Maps the port's memory (once per region per context) and sets nifp and the ring ranges. */
int nmport_mmap(struct nmport_d *d);
void nmport_undo_mmap(struct nmport_d *d);

struct nmport_d *nmport_prepare(const char *portspec); /* new + parse */
void nmport_undo_prepare(struct nmport_d *d);
int nmport_open_desc(struct nmport_d *d); /* register + mmap */
void nmport_undo_open_desc(struct nmport_d *d);

/* A new descriptor for the same port and memory, ready for nmport_register(). */
struct nmport_d *nmport_clone(struct nmport_d *d);

/* ---- options to set between parse and register ---- */

/* Build the port's memory inside [base, base + size), which the program owns. 0 or -1. */
int nmport_extmem(struct nmport_d *d, void *base, size_t size);
/* The same with a file mapped by the library (hugetlbfs, for instance). */
int nmport_extmem_from_file(struct nmport_d *d, const char *fname);
/* The EXTMEM option's pool geometry, to adjust before registering; NULL without nmport_extmem. */
struct nmreq_pools_info *nmport_extmem_getinfo(struct nmport_d *d);
/* Ask for data offsets in slot.ptr (NETMAP_REQ_OPT_OFFSETS). 0 or -1. */
int nmport_offset(struct nmport_d *d, uint64_t initial, uint64_t maxoff, uint64_t bits, uint64_t mingap);

/* Turn a port-specification option off or on by its prefix: "share", "extmem", "conf" and
 * "offset" (the last one starts off). enable: 0, or -1 with EOPNOTSUPP for an unknown prefix. */
void nmport_disable_option(const char *opt);
int nmport_enable_option(const char *opt);

/* ---- requests and their text form ---- */

/* Zeroes hdr and sets version, request type and body. */
void nmreq_header_init(struct nmreq_header *hdr, uint16_t reqtype, void *body);
/* Reads the port name from *ppspec into hdr->nr_name and advances *ppspec past it. 0 or -1. */
int nmreq_header_decode(const char **ppspec, struct nmreq_header *hdr, struct nmctx *ctx);
/* Reads the ring selection, flags and memory id that follow the name. 0 or -1. */
int nmreq_register_decode(const char **pmode, struct nmreq_register *reg, struct nmctx *ctx);

struct nmreq_opt_parser;
/* Parses "@prefix:key=value,..." options with the given parsers; token goes to the callbacks. */
int nmreq_options_decode(const char *opt, struct nmreq_opt_parser *parsers, void *token, struct nmctx *ctx);

/* An option parser: called once per option found, with the values of its keys. */
struct nmreq_parse_ctx;
typedef int (*nmreq_opt_parser_cb)(struct nmreq_parse_ctx *);

#define NMREQ_OPT_MAXKEYS 16 /* keys one option may have */

struct nmreq_opt_key {
    const char *key;                    /* the name before '=' */
    int id;                             /* its index in nmreq_parse_ctx.keys */
    unsigned int flags;                 /* NMREQ_OPTK_* */
#define NMREQ_OPTK_ALLOWEMPTY (1U << 0) /* "key" alone is accepted */
#define NMREQ_OPTK_MUSTSET    (1U << 1) /* the option is invalid without this key */
#define NMREQ_OPTK_DEFAULT    (1U << 2) /* a value without "key=" belongs to this key */
};

struct nmreq_opt_parser {
    const char *prefix;        /* the option's name, before ':' */
    nmreq_opt_parser_cb parse; /* called with the keys found */
    int default_key;           /* index of the NMREQ_OPTK_DEFAULT key, or -1 */
    int nr_keys;
    unsigned int flags;                 /* NMREQ_OPTF_* */
#define NMREQ_OPTF_DISABLED   (1U << 0) /* skipped by nmreq_options_decode */
#define NMREQ_OPTF_ALLOWEMPTY (1U << 1) /* "prefix" with no keys is accepted */
    struct nmreq_opt_parser *next;
    struct nmreq_opt_key keys[NMREQ_OPT_MAXKEYS];
} __attribute__((aligned(16)));

/* What a parser callback receives. */
struct nmreq_parse_ctx {
    struct nmctx *ctx;
    void *token;                         /* nmreq_options_decode()'s token */
    const char *keys[NMREQ_OPT_MAXKEYS]; /* each key's value, NULL when absent */
};

/* The memory id of the port named at *portname (asked with NETMAP_REQ_PORT_INFO_GET), advancing
 * *portname past the name; -1 with errno on failure. */
int32_t nmreq_get_mem_id(const char **portname, struct nmctx *ctx);

/* The option list of a request header (nr_options, chained through nro_next). */
void nmreq_push_option(struct nmreq_header *hdr, struct nmreq_option *opt);
void nmreq_remove_option(struct nmreq_header *hdr, struct nmreq_option *opt);
struct nmreq_option *nmreq_find_option(struct nmreq_header *hdr, uint32_t reqtype); /* NULL if none */
/* netring's addition, not in netmap's library: the registration's mode and ring as the portspec
 * suffix that selects them ("-2", "^", "*", ...), into buf; NULL (errno ENOSPC, EINVAL) on failure. */
const char *nmreq_ringid_to_str(const struct nmreq_register *reg, char *buf, size_t size);
void nmreq_free_options(struct nmreq_header *hdr); /* frees every option on the list */
const char *nmreq_option_name(uint32_t reqtype);   /* "extmem", ..., "unknown" */

#define nmreq_foreach_option(h_, o_)                                                                         \
    for ((o_) = (struct nmreq_option *)((uintptr_t)((h_)->nr_options)); (o_) != NULL;                        \
         (o_) = (struct nmreq_option *)((uintptr_t)((o_)->nro_next)))

/* ---- contexts: where the library reports errors, allocates and locks ---- */

typedef void (*nmctx_error_cb)(struct nmctx *, const char *);
typedef void *(*nmctx_malloc_cb)(struct nmctx *, size_t);
typedef void (*nmctx_free_cb)(struct nmctx *, void *);
typedef void (*nmctx_lock_cb)(struct nmctx *, int); /* 1 to lock, 0 to unlock */

struct nmctx {
    int verbose; /* report errors through error() */
    nmctx_error_cb error;
    nmctx_malloc_cb malloc;
    nmctx_free_cb free;
    nmctx_lock_cb lock;
    struct nmem_d *mem_descs; /* memory regions mapped through this context */
};

struct nmctx *nmctx_get(void);                      /* the default context */
struct nmctx *nmctx_set_default(struct nmctx *ctx); /* returns the previous one */

/* One mapped memory region, shared by the ports of a context that use it. */
struct nmem_d {
    uint16_t mem_id;
    int refcount;
    void *mem;
    size_t size;
    int is_extmem; /* the program's memory (EXTMEM): not unmapped by the library */
    struct nmem_d *next;
    struct nmem_d *prev;
};

/* libnetmap's default context is thread-safe: its library constructor installs one that locks a
 * mutex. netmap's header references this variable so a static link pulls that constructor in. */
extern int nmctx_threadsafe;
void nmctx_set_threadsafe(void); /* installs the locking context as the default */

void nmctx_ferror(struct nmctx *ctx, const char *fmt, ...); /* printf-like, to ctx->error */
void *nmctx_malloc(struct nmctx *ctx, size_t size);
void nmctx_free(struct nmctx *ctx, void *p);
void nmctx_lock(struct nmctx *ctx);
void nmctx_unlock(struct nmctx *ctx);

#ifdef __cplusplus
}
#endif
