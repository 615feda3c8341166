// Request options: the list hanging off nmreq_header.nr_options, and the "@option..." text of a
// portspec. nmreq_options_decode() only checks the syntax and collects key values
//
//     @name                       (a flag option, if the parser allows an empty body)
//     @name=value                 (the parser's default key)
//     @name:key=value,key=value   (keys in any order, each at most once; '-' in a key reads as '_')
//
// then hands them to the parser named by the option, which gives them a meaning.
#include <libnetmap.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string_view>

namespace {

int fail(int error)
{
    errno = error;
    return -1;
}

nmreq_option *next_of(const nmreq_option *o) { return reinterpret_cast<nmreq_option *>(o->nro_next); }

const nmreq_opt_key *find_key(const nmreq_opt_parser *p, std::string_view name)
{
    for (const nmreq_opt_key &k : p->keys) {
        if (k.key == nullptr)
            break;
        if (name == k.key)
            return &k;
    }
    return nullptr;
}

// One "key[=value]" item of a multi-key body, NUL-terminated in place.
int assign_key(char *item, const char *option, const nmreq_opt_parser *p, nmreq_parse_ctx *pctx)
{
    char *eq = std::strchr(item, '=');
    if (eq != nullptr)
        *eq = '\0';
    for (char *c = item; *c != '\0'; c++)
        if (*c == '-')
            *c = '_';
    const nmreq_opt_key *k = find_key(p, item);
    if (k == nullptr) {
        nmctx_ferror(pctx->ctx, "option '%s': unknown key '%s'", option, item);
        return fail(EINVAL);
    }
    if (pctx->keys[k->id] != nullptr) {
        nmctx_ferror(pctx->ctx, "option '%s': key '%s' given twice", option, item);
        return fail(EINVAL);
    }
    if (eq == nullptr && !(k->flags & NMREQ_OPTK_ALLOWEMPTY)) {
        nmctx_ferror(pctx->ctx, "option '%s': key '%s' needs '=value'", option, item);
        return fail(EINVAL);
    }
    if (eq != nullptr && eq[1] == '\0') {
        nmctx_ferror(pctx->ctx, "option '%s': empty value for key '%s'", option, item);
        return fail(EINVAL);
    }
    pctx->keys[k->id] = eq != nullptr ? eq + 1 : item;
    return 0;
}

int check_mandatory_keys(const char *option, const nmreq_opt_parser *p, const nmreq_parse_ctx *pctx)
{
    for (const nmreq_opt_key &k : p->keys) {
        if (k.key == nullptr)
            break;
        if ((k.flags & NMREQ_OPTK_MUSTSET) && pctx->keys[k.id] == nullptr) {
            nmctx_ferror(pctx->ctx, "option '%s': key '%s' must be given", option, k.key);
            return fail(EINVAL);
        }
    }
    return 0;
}

int assign_keys(char *body, const char *option, const nmreq_opt_parser *p, nmreq_parse_ctx *pctx)
{
    for (char *item = body; item != nullptr;) {
        char *comma = std::strchr(item, ',');
        if (comma != nullptr)
            *comma = '\0';
        if (*item == '\0') {
            nmctx_ferror(pctx->ctx, "option '%s': empty key", option);
            return fail(EINVAL);
        }
        if (assign_key(item, option, p, pctx) < 0)
            return -1;
        item = comma != nullptr ? comma + 1 : nullptr;
    }
    return check_mandatory_keys(option, p, pctx);
}

nmreq_opt_parser *find_parser(nmreq_opt_parser *parsers, std::string_view name)
{
    for (nmreq_opt_parser *p = parsers; p != nullptr; p = p->next)
        if (name == p->prefix)
            return p;
    return nullptr;
}

// Collects the keys of one option (its text copied, so it may be cut in place), then parses it.
int decode_one(char *opt, nmreq_opt_parser *parsers, void *token, nmctx *ctx)
{
    char *body = opt + std::strcspn(opt, ":=");
    const char delim = *body;
    if (delim != '\0')
        *body++ = '\0';
    nmreq_opt_parser *p = find_parser(parsers, opt);
    if (p == nullptr) {
        nmctx_ferror(ctx, "unknown option '%s'", opt);
        return fail(EINVAL);
    }
    if (p->flags & NMREQ_OPTF_DISABLED) {
        nmctx_ferror(ctx, "option '%s' is disabled (see nmport_enable_option())", opt);
        return fail(EOPNOTSUPP);
    }
    nmreq_parse_ctx pctx{};
    pctx.ctx = ctx;
    pctx.token = token;
    if (delim == '\0' && !(p->flags & NMREQ_OPTF_ALLOWEMPTY)) {
        nmctx_ferror(ctx, "option '%s' needs a value", opt);
        return fail(EINVAL);
    }
    if (delim == '=') {
        if (p->default_key < 0 || p->default_key >= NMREQ_OPT_MAXKEYS) {
            nmctx_ferror(ctx, "option '%s' has no default key: use '%s:key=value'", opt, opt);
            return fail(EINVAL);
        }
        if (*body == '\0') {
            nmctx_ferror(ctx, "option '%s': empty value after '='", opt);
            return fail(EINVAL);
        }
        pctx.keys[p->default_key] = body;
    }
    if (delim == ':' && assign_keys(body, opt, p, &pctx) < 0)
        return -1;
    return p->parse(&pctx);
}

} // namespace

extern "C" {

void nmreq_push_option(nmreq_header *h, nmreq_option *o)
{
    o->nro_next = h->nr_options;
    h->nr_options = reinterpret_cast<uintptr_t>(o);
}

void nmreq_remove_option(nmreq_header *h, nmreq_option *o)
{
    for (uint64_t *link = &h->nr_options; *link != 0;
         link = &reinterpret_cast<nmreq_option *>(*link)->nro_next) {
        if (*link == reinterpret_cast<uintptr_t>(o)) {
            *link = o->nro_next;
            o->nro_next = 0;
            return;
        }
    }
}

nmreq_option *nmreq_find_option(nmreq_header *h, uint32_t type)
{
    for (nmreq_option *o = reinterpret_cast<nmreq_option *>(h->nr_options); o != nullptr; o = next_of(o))
        if (o->nro_reqtype == type)
            return o;
    return nullptr;
}

// Options on the list are taken to come from malloc(), as libnetmap takes them.
void nmreq_free_options(nmreq_header *h)
{
    nmreq_option *o = reinterpret_cast<nmreq_option *>(h->nr_options);
    while (o != nullptr) {
        nmreq_option *next = next_of(o);
        std::free(o);
        o = next;
    }
    h->nr_options = 0;
}

const char *nmreq_option_name(uint32_t type)
{
    switch (type) {
    case NETMAP_REQ_OPT_EXTMEM: return "extmem";
    case NETMAP_REQ_OPT_SYNC_KLOOP_EVENTFDS: return "sync-kloop-eventfds";
    case NETMAP_REQ_OPT_CSB: return "csb";
    case NETMAP_REQ_OPT_SYNC_KLOOP_MODE: return "sync-kloop-mode";
    case NETMAP_REQ_OPT_OFFSETS: return "offsets";
    default: return "unknown";
    }
}

int nmreq_options_decode(const char *opt, nmreq_opt_parser *parsers, void *token, nmctx *ctx)
{
    if (*opt == '\0')
        return 0;
    if (*opt != '@') {
        nmctx_ferror(ctx, "options must start with '@', found '%s'", opt);
        return fail(EINVAL);
    }
    while (*opt == '@') {
        const char *start = opt + 1;
        const size_t len = std::strcspn(start, "@");
        if (len == 0) {
            nmctx_ferror(ctx, "empty option after '@'");
            return fail(EINVAL);
        }
        char *copy = static_cast<char *>(nmctx_malloc(ctx, len + 1));
        if (copy == nullptr) {
            nmctx_ferror(ctx, "out of memory while parsing options");
            return fail(ENOMEM);
        }
        std::memcpy(copy, start, len);
        copy[len] = '\0';
        const int ret = decode_one(copy, parsers, token, ctx);
        nmctx_free(ctx, copy);
        if (ret < 0)
            return -1;
        opt = start + len;
    }
    return 0;
}

} // extern "C"
