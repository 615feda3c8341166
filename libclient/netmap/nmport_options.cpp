// The options a portspec may carry after its mode, and their programmatic twins:
//
//   @share=PORT            use the memory region of PORT (looked up with NETMAP_REQ_PORT_INFO_GET)
//   @conf:KEY=N,...        ring and slot counts for a port this open creates (rings, host-rings,
//                          slots, tx-rings, rx-rings, host-tx-rings, host-rx-rings, tx-slots,
//                          rx-slots; "rings=N" alone may be written "@conf=N")
//   @offset=N / @offset:initial=N,bits=B
//                          data offsets in slot.ptr (disabled until nmport_enable_option("offset"),
//                          as in libnetmap: the application must be ready for offsets)
//   @extmem:...            refused with EOPNOTSUPP: netring ports live in the daemon's shared
//                          regions, which it allocates; it cannot adopt application memory.
//
// nmport_offset() adds a NETMAP_REQ_OPT_OFFSETS option that the fd layer answers at registration:
// netring rings always reserve the low log2(buf_size) bits of slot.ptr for an offset
// (ring->offset_mask), so offsets are available on every port.
#include "nm_private.hpp"

#include <cerrno>
#include <cinttypes>
#include <cstdlib>
#include <cstring>
#include <iterator>

// The nmport_d's undo stack; libnetmap.h declares the type without its members.
struct nmport_cleanup_d {
    nmport_cleanup_d *next;
    netring::nm::cleanup_fn fn;
    void *arg;
};

namespace netring::nm {
namespace {

int fail(int error)
{
    errno = error;
    return -1;
}

// ---- building the parser list ----

struct key_spec {
    const char *name;
    unsigned flags;
};

template <size_t N>
nmreq_opt_parser make_parser(const char *prefix, nmreq_opt_parser_cb parse, unsigned flags,
                             const key_spec (&keys)[N])
{
    static_assert(N <= NMREQ_OPT_MAXKEYS);
    nmreq_opt_parser p{};
    p.prefix = prefix;
    p.parse = parse;
    p.flags = flags;
    p.default_key = -1;
    p.nr_keys = static_cast<int>(N);
    for (size_t i = 0; i < N; i++) {
        p.keys[i] = {keys[i].name, static_cast<int>(i), keys[i].flags};
        if (keys[i].flags & NMREQ_OPTK_DEFAULT)
            p.default_key = static_cast<int>(i);
    }
    return p;
}

// Key ids are positions in the tables below.
enum share_key { share_port };
enum offset_key { offset_initial, offset_bits };
enum conf_key {
    conf_rings,
    conf_host_rings,
    conf_slots,
    conf_tx_rings,
    conf_rx_rings,
    conf_host_tx_rings,
    conf_host_rx_rings,
    conf_tx_slots,
    conf_rx_slots,
};

constexpr unsigned default_mandatory = NMREQ_OPTK_DEFAULT | NMREQ_OPTK_MUSTSET;
constexpr key_spec share_keys[] = {{"port", default_mandatory}};
constexpr key_spec offset_keys[] = {{"initial", default_mandatory}, {"bits", 0}};
constexpr key_spec extmem_keys[] = {{"file", default_mandatory},
                                    {"if_num", 0},
                                    {"if_size", 0},
                                    {"ring_num", 0},
                                    {"ring_size", 0},
                                    {"buf_num", 0},
                                    {"buf_size", 0}};
// "rings" is also the default key, so "@conf=4" means four tx and four rx rings.
constexpr key_spec conf_keys[] = {
    {"rings", NMREQ_OPTK_DEFAULT}, {"host_rings", 0},    {"slots", 0},    {"tx_rings", 0}, {"rx_rings", 0},
    {"host_tx_rings", 0},          {"host_rx_rings", 0}, {"tx_slots", 0}, {"rx_slots", 0}};

nmport_d *port_of(nmreq_parse_ctx *p) { return static_cast<nmport_d *>(p->token); }

// A decimal value of at most `max`; anything else is an error, not a silent 0.
bool read_count(nmreq_parse_ctx *p, const char *key, const char *text, uint64_t max, uint64_t *out)
{
    char *end;
    errno = 0;
    const unsigned long long v = std::strtoull(text, &end, 10);
    if (*text == '-' || *end != '\0' || errno == ERANGE || v > max) {
        nmctx_ferror(p->ctx, "'%s=%s': expected a number in [0, %" PRIu64 "]", key, text, max);
        errno = EINVAL;
        return false;
    }
    *out = v;
    return true;
}

int parse_share(nmreq_parse_ctx *p)
{
    nmport_d *d = port_of(p);
    const char *port = p->keys[share_port];
    const int32_t mem_id = nmreq_get_mem_id(&port, p->ctx);
    if (mem_id < 0)
        return -1;
    if (d->reg.nr_mem_id != 0 && d->reg.nr_mem_id != mem_id) {
        nmctx_ferror(p->ctx,
                     "share=%s: its memory region %" PRId32 " contradicts region %" PRIu16 ", chosen before",
                     p->keys[share_port], mem_id, d->reg.nr_mem_id);
        return fail(EINVAL);
    }
    d->reg.nr_mem_id = static_cast<uint16_t>(mem_id);
    return 0;
}

// Sets the fields of one conf key if the key was given.
template <typename... Field>
bool apply_conf(nmreq_parse_ctx *p, conf_key key, uint64_t max, Field *...fields)
{
    const char *text = p->keys[key];
    if (text == nullptr)
        return true;
    uint64_t v;
    if (!read_count(p, conf_keys[key].name, text, max, &v))
        return false;
    ((*fields = static_cast<Field>(v)), ...);
    return true;
}

// The general keys first, so that tx-rings, rx-slots... override rings, slots...
int parse_conf(nmreq_parse_ctx *p)
{
    nmreq_register &r = port_of(p)->reg;
    const bool ok = apply_conf(p, conf_rings, UINT16_MAX, &r.nr_tx_rings, &r.nr_rx_rings) &&
                    apply_conf(p, conf_host_rings, UINT16_MAX, &r.nr_host_tx_rings, &r.nr_host_rx_rings) &&
                    apply_conf(p, conf_slots, UINT32_MAX, &r.nr_tx_slots, &r.nr_rx_slots) &&
                    apply_conf(p, conf_tx_rings, UINT16_MAX, &r.nr_tx_rings) &&
                    apply_conf(p, conf_rx_rings, UINT16_MAX, &r.nr_rx_rings) &&
                    apply_conf(p, conf_host_tx_rings, UINT16_MAX, &r.nr_host_tx_rings) &&
                    apply_conf(p, conf_host_rx_rings, UINT16_MAX, &r.nr_host_rx_rings) &&
                    apply_conf(p, conf_tx_slots, UINT32_MAX, &r.nr_tx_slots) &&
                    apply_conf(p, conf_rx_slots, UINT32_MAX, &r.nr_rx_slots);
    return ok ? 0 : -1;
}

int parse_offset(nmreq_parse_ctx *p)
{
    uint64_t initial;
    uint64_t bits = 0;
    if (!read_count(p, "initial", p->keys[offset_initial], UINT64_MAX, &initial))
        return -1;
    if (p->keys[offset_bits] != nullptr && !read_count(p, "bits", p->keys[offset_bits], 64, &bits))
        return -1;
    return nmport_offset(port_of(p), initial, initial, bits, 0);
}

int parse_extmem(nmreq_parse_ctx *p) { return nmport_extmem_from_file(port_of(p), p->keys[0]); }

nmreq_opt_parser parsers[] = {
    make_parser("share", parse_share, 0, share_keys),
    make_parser("conf", parse_conf, 0, conf_keys),
    make_parser("offset", parse_offset, NMREQ_OPTF_DISABLED, offset_keys),
    make_parser("extmem", parse_extmem, 0, extmem_keys),
};

nmreq_opt_parser *parser_list()
{
    static nmreq_opt_parser *head = [] {
        for (size_t i = 0; i + 1 < std::size(parsers); i++)
            parsers[i].next = &parsers[i + 1];
        return &parsers[0];
    }();
    return head;
}

nmreq_opt_parser *find_parser(const char *name)
{
    for (nmreq_opt_parser *p = parser_list(); p != nullptr; p = p->next)
        if (std::strcmp(p->prefix, name) == 0)
            return p;
    return nullptr;
}

void drop_option(nmport_d *d, void *opt)
{
    nmreq_remove_option(&d->hdr, static_cast<nmreq_option *>(opt));
    nmctx_free(d->ctx, opt);
}

int refuse_extmem(nmport_d *d)
{
    nmctx_ferror(d->ctx, "%s: extmem is not supported: netring ports use the daemon's shared memory regions",
                 d->hdr.nr_name);
    return fail(EOPNOTSUPP);
}

} // namespace

int push_cleanup(nmport_d *d, cleanup_fn fn, void *arg)
{
    auto *c = static_cast<nmport_cleanup_d *>(nmctx_malloc(d->ctx, sizeof(nmport_cleanup_d)));
    if (c == nullptr) {
        nmctx_ferror(d->ctx, "%s: out of memory for an undo record", d->hdr.nr_name);
        return fail(ENOMEM);
    }
    *c = {d->clist, fn, arg};
    d->clist = c;
    return 0;
}

void run_cleanups(nmport_d *d)
{
    while (nmport_cleanup_d *c = d->clist) {
        d->clist = c->next;
        c->fn(d, c->arg);
        nmctx_free(d->ctx, c);
    }
}

int decode_port_options(nmport_d *d, const char *options)
{
    return nmreq_options_decode(options, parser_list(), d, d->ctx);
}

} // namespace netring::nm

using namespace netring::nm;

extern "C" {

void nmport_disable_option(const char *opt)
{
    if (nmreq_opt_parser *p = find_parser(opt))
        p->flags |= NMREQ_OPTF_DISABLED;
}

int nmport_enable_option(const char *opt)
{
    nmreq_opt_parser *p = find_parser(opt);
    if (p == nullptr)
        return fail(EOPNOTSUPP);
    p->flags &= ~NMREQ_OPTF_DISABLED;
    return 0;
}

int nmport_extmem(nmport_d *d, void *, size_t) { return refuse_extmem(d); }

int nmport_extmem_from_file(nmport_d *d, const char *) { return refuse_extmem(d); }

nmreq_pools_info *nmport_extmem_getinfo(nmport_d *d) { return d->extmem ? &d->extmem->nro_info : nullptr; }

int nmport_offset(nmport_d *d, uint64_t initial, uint64_t maxoff, uint64_t bits, uint64_t mingap)
{
    if (d->register_done) {
        nmctx_ferror(d->ctx, "%s: offsets must be requested before nmport_register()", d->hdr.nr_name);
        return fail(EINVAL);
    }
    if (initial > maxoff || bits > 64) {
        nmctx_ferror(d->ctx, "%s: invalid offsets (initial %" PRIu64 ", max %" PRIu64 ", bits %" PRIu64 ")",
                     d->hdr.nr_name, initial, maxoff, bits);
        return fail(EINVAL);
    }
    if (nmreq_find_option(&d->hdr, NETMAP_REQ_OPT_OFFSETS) != nullptr) {
        nmctx_ferror(d->ctx, "%s: offsets were already requested", d->hdr.nr_name);
        return fail(EINVAL);
    }
    auto *opt = static_cast<nmreq_opt_offsets *>(nmctx_malloc(d->ctx, sizeof(nmreq_opt_offsets)));
    if (opt == nullptr) {
        nmctx_ferror(d->ctx, "%s: out of memory for the offsets option", d->hdr.nr_name);
        return fail(ENOMEM);
    }
    std::memset(opt, 0, sizeof *opt);
    opt->nro_opt.nro_reqtype = NETMAP_REQ_OPT_OFFSETS;
    opt->nro_max_offset = maxoff;
    opt->nro_initial_offset = initial;
    opt->nro_offset_bits = static_cast<uint32_t>(bits);
    opt->nro_min_gap = mingap;
    nmreq_push_option(&d->hdr, &opt->nro_opt);
    if (push_cleanup(d, drop_option, opt) < 0) {
        drop_option(d, opt);
        return -1;
    }
    return 0;
}

} // extern "C"
