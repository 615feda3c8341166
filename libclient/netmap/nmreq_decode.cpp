// Port specifications, the text side of a register request. Pure functions: no I/O.
//
//   subsystem:vpname[mode][options]
//
// nmreq_header_decode() takes "subsystem:vpname" into hdr->nr_name ("netmap:" is dropped, a
// "valeX:" prefix is kept because the switch name is part of the port name; "x{y" and "x}y" name
// the two ends of pipe y of x). nmreq_register_decode() takes the mode: one of ^, ^N, *, -N, then
// any "/flags" (x z t r R T) and "@N" memory-region groups, stopping without error at an '@' that
// does not start a number, where the options begin. nmreq_ringid_to_str() writes a mode back.
// On error both decoders leave their outputs and the input pointer untouched, set errno to
// EINVAL and say why through the context.
#include <libnetmap.h>

#include <cctype>
#include <cerrno>
#include <cinttypes>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>

namespace {

struct subsystem {
    std::string_view prefix;
    bool takes_id;     // an identifier may follow the prefix (valeX:)
    bool keeps_prefix; // the prefix is part of the port name netmap sees
};

constexpr subsystem subsystems[] = {
    {"netmap", false, false},
    {NM_BDG_NAME, true, true},
};

bool is_identifier(std::string_view s)
{
    for (char c : s)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_')
            return false;
    return true;
}

const subsystem *find_subsystem(std::string_view spec)
{
    for (const subsystem &s : subsystems)
        if (spec.starts_with(s.prefix))
            return &s;
    return nullptr;
}

int fail_einval()
{
    errno = EINVAL;
    return -1;
}

// The pipe part of a vpname, if any, must be a non-empty identifier.
bool check_pipe_name(std::string_view vpname, const char *spec, nmctx *ctx)
{
    const size_t sep = vpname.find_first_of("{}");
    if (sep == std::string_view::npos)
        return true;
    const std::string_view pipe = vpname.substr(sep + 1);
    if (pipe.empty()) {
        nmctx_ferror(ctx, "%s: the pipe name after '%c' is empty", spec, vpname[sep]);
        return false;
    }
    if (!is_identifier(pipe)) {
        nmctx_ferror(ctx, "%s: invalid pipe name '%.*s' (letters, digits and '_' only)", spec,
                     static_cast<int>(pipe.size()), pipe.data());
        return false;
    }
    return true;
}

// ---- the mode, parsed into a scratch copy so that a failure leaves *reg alone ----

struct mode_parse {
    const char *scan;
    uint16_t mem_id; // a non-zero id already in the request may be repeated, not changed
    uint32_t mode = NR_REG_ALL_NIC;
    uint16_t ringid = 0;
    uint64_t flags = 0;
};

bool parse_number(mode_parse &p, long max, const char *what, long *out, nmctx *ctx)
{
    if (!std::isdigit(static_cast<unsigned char>(*p.scan))) {
        nmctx_ferror(ctx, "expected %s, found '%s'", what, p.scan);
        return false;
    }
    char *end;
    errno = 0;
    const long n = std::strtol(p.scan, &end, 10);
    if (errno == ERANGE || n > max) {
        nmctx_ferror(ctx, "%s %.*s out of range [0, %ld]", what, static_cast<int>(end - p.scan), p.scan, max);
        return false;
    }
    p.scan = end;
    *out = n;
    return true;
}

bool parse_ring_number(mode_parse &p, nmctx *ctx)
{
    long n;
    if (!parse_number(p, NETMAP_RING_MASK - 1, "a ring number", &n, ctx))
        return false;
    p.ringid = static_cast<uint16_t>(n);
    return true;
}

// The optional leading ^, ^N, * or -N.
bool parse_ring_selection(mode_parse &p, nmctx *ctx)
{
    switch (*p.scan) {
    case '^':
        p.scan++;
        p.mode = NR_REG_SW;
        if (!std::isdigit(static_cast<unsigned char>(*p.scan)))
            return true;
        p.mode = NR_REG_ONE_SW;
        return parse_ring_number(p, ctx);
    case '*':
        p.scan++;
        p.mode = NR_REG_NIC_SW;
        return true;
    case '-':
        p.scan++;
        p.mode = NR_REG_ONE_NIC;
        return parse_ring_number(p, ctx);
    default: return true;
    }
}

uint64_t flag_bit(char c)
{
    switch (c) {
    case 'x': return NR_EXCLUSIVE;
    case 'z': return NR_ZCOPY_MON;
    case 't': return NR_MONITOR_TX;
    case 'r': return NR_MONITOR_RX;
    case 'R': return NR_RX_RINGS_ONLY;
    case 'T': return NR_TX_RINGS_ONLY;
    default: return 0;
    }
}

// "/" then flag letters, up to an '@' or the end; a bare "/" at the end is an error.
bool parse_flags(mode_parse &p, nmctx *ctx)
{
    const char *start = ++p.scan;
    for (; *p.scan != '\0' && *p.scan != '@'; p.scan++) {
        const uint64_t bit = flag_bit(*p.scan);
        if (bit == 0) {
            nmctx_ferror(ctx, "unknown flag '%c' (known: x z t r R T)", *p.scan);
            return false;
        }
        p.flags |= bit;
    }
    if (p.scan == start && *p.scan == '\0') {
        nmctx_ferror(ctx, "no flags after '/'");
        return false;
    }
    return true;
}

// "@N": a memory region, which may not contradict one already chosen.
bool parse_mem_id(mode_parse &p, nmctx *ctx)
{
    p.scan++;
    if (*p.scan == '\0') {
        nmctx_ferror(ctx, "empty memory region id after '@'");
        return false;
    }
    long n;
    if (!parse_number(p, UINT16_MAX, "a memory region id", &n, ctx))
        return false;
    if (n == 0) {
        nmctx_ferror(ctx, "invalid memory region id 0 (ids start at 1)");
        return false;
    }
    if (p.mem_id != 0 && p.mem_id != n) {
        nmctx_ferror(ctx, "memory region id %ld contradicts %" PRIu16 ", chosen before", n, p.mem_id);
        return false;
    }
    p.mem_id = static_cast<uint16_t>(n);
    return true;
}

// An '@' followed by something other than a number starts the options; a lone '@' is an error.
bool starts_options(const char *s)
{
    return s[0] == '@' && s[1] != '\0' && !std::isdigit(static_cast<unsigned char>(s[1]));
}

bool parse_mode(mode_parse &p, nmctx *ctx)
{
    if (*p.scan != '\0' && !std::strchr("^*-/@", *p.scan)) {
        nmctx_ferror(ctx, "unknown ring selection '%c' (expected ^ * - / or @)", *p.scan);
        return false;
    }
    if (!parse_ring_selection(p, ctx))
        return false;
    while (*p.scan != '\0' && !starts_options(p.scan)) {
        bool ok;
        switch (*p.scan) {
        case '/': ok = parse_flags(p, ctx); break;
        case '@': ok = parse_mem_id(p, ctx); break;
        default:
            nmctx_ferror(ctx, "unexpected '%c' after the ring selection (expected / or @)", *p.scan);
            ok = false;
        }
        if (!ok)
            return false;
    }
    return true;
}

// Appends to buf[*len] without overflowing; returns false when out of room.
bool append(char *buf, size_t size, size_t *len, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
bool append(char *buf, size_t size, size_t *len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    const int n = std::vsnprintf(buf + *len, size - *len, fmt, ap);
    va_end(ap);
    if (n < 0 || static_cast<size_t>(n) >= size - *len)
        return false;
    *len += static_cast<size_t>(n);
    return true;
}

bool append_ring_selection(const nmreq_register *reg, char *buf, size_t size, size_t *len)
{
    switch (reg->nr_mode) {
    case NR_REG_DEFAULT:
    case NR_REG_ALL_NIC: return true;
    case NR_REG_SW: return append(buf, size, len, "^");
    case NR_REG_ONE_SW: return append(buf, size, len, "^%u", unsigned{reg->nr_ringid});
    case NR_REG_NIC_SW: return append(buf, size, len, "*");
    case NR_REG_ONE_NIC: return append(buf, size, len, "-%u", unsigned{reg->nr_ringid});
    default: errno = EINVAL; return false;
    }
}

bool append_flags(const nmreq_register *reg, char *buf, size_t size, size_t *len)
{
    static constexpr char letters[] = "xztrRT";
    if ((reg->nr_flags & (NR_EXCLUSIVE | NR_ZCOPY_MON | NR_MONITOR_TX | NR_MONITOR_RX | NR_RX_RINGS_ONLY |
                          NR_TX_RINGS_ONLY)) == 0)
        return true;
    if (!append(buf, size, len, "/"))
        return false;
    for (const char *c = letters; *c != '\0'; c++)
        if ((reg->nr_flags & flag_bit(*c)) && !append(buf, size, len, "%c", *c))
            return false;
    return true;
}

} // namespace

extern "C" {

void nmreq_header_init(nmreq_header *hdr, uint16_t reqtype, void *body)
{
    std::memset(hdr, 0, sizeof *hdr);
    hdr->nr_version = NETMAP_API;
    hdr->nr_reqtype = reqtype;
    hdr->nr_body = reinterpret_cast<uintptr_t>(body);
}

int nmreq_header_decode(const char **pspec, nmreq_header *hdr, nmctx *ctx)
{
    const char *spec = *pspec;
    const subsystem *sub = find_subsystem(spec);
    if (sub == nullptr) {
        nmctx_ferror(ctx, "%s: unknown or missing subsystem (expected netmap: or %s)", spec, NM_BDG_NAME);
        return fail_einval();
    }
    const char *id = spec + sub->prefix.size();
    const char *colon = std::strchr(id, ':');
    if (colon == nullptr) {
        nmctx_ferror(ctx, "%s: missing ':' after the subsystem", spec);
        return fail_einval();
    }
    const std::string_view ident(id, static_cast<size_t>(colon - id));
    if (!ident.empty() && !sub->takes_id) {
        nmctx_ferror(ctx, "%s: nothing may stand between '%.*s' and ':'", spec,
                     static_cast<int>(sub->prefix.size()), sub->prefix.data());
        return fail_einval();
    }
    if (!is_identifier(ident)) {
        nmctx_ferror(ctx, "%s: invalid switch name '%.*s' (letters, digits and '_' only)", spec,
                     static_cast<int>(ident.size()), ident.data());
        return fail_einval();
    }
    const char *vpname = colon + 1;
    const char *end = vpname + std::strcspn(vpname, "-*^/@");
    if (!check_pipe_name(std::string_view(vpname, static_cast<size_t>(end - vpname)), spec, ctx))
        return fail_einval();
    const char *name = sub->keeps_prefix ? spec : vpname;
    const size_t len = static_cast<size_t>(end - name);
    if (end == vpname) {
        nmctx_ferror(ctx, "%s: empty port name", spec);
        return fail_einval();
    }
    if (len >= sizeof hdr->nr_name) {
        nmctx_ferror(ctx, "%s: port name '%.*s' longer than %zu characters", spec, static_cast<int>(len),
                     name, sizeof hdr->nr_name - 1);
        return fail_einval();
    }
    std::memset(hdr->nr_name, 0, sizeof hdr->nr_name);
    std::memcpy(hdr->nr_name, name, len);
    *pspec = end;
    return 0;
}

int nmreq_register_decode(const char **pmode, nmreq_register *reg, nmctx *ctx)
{
    mode_parse p{*pmode, reg->nr_mem_id};
    if (!parse_mode(p, ctx))
        return fail_einval();
    reg->nr_mode = p.mode;
    reg->nr_ringid = p.ringid;
    reg->nr_flags = p.flags;
    reg->nr_mem_id = p.mem_id;
    *pmode = p.scan;
    return 0;
}

// Writes the mode part of a portspec ("", "^", "^2", "*", "-3", then "/flags" and "@mem_id") that
// nmreq_register_decode() turns back into reg's nr_mode, nr_ringid, nr_flags and nr_mem_id.
// Returns buf, or NULL with errno ENOSPC (buf too small) or EINVAL (a mode with no syntax).
const char *nmreq_ringid_to_str(const nmreq_register *reg, char *buf, size_t size)
{
    const int saved_errno = errno;
    size_t len = 0;
    errno = ENOSPC; // what a failed append() means; append_ring_selection() may say EINVAL instead
    if (buf == nullptr || size == 0)
        return nullptr;
    buf[0] = '\0';
    if (!append_ring_selection(reg, buf, size, &len) || !append_flags(reg, buf, size, &len))
        return nullptr;
    if (reg->nr_mem_id != 0 && !append(buf, size, &len, "@%u", unsigned{reg->nr_mem_id}))
        return nullptr;
    errno = saved_errno;
    return buf;
}

} // extern "C"
