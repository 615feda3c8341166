// libnetmap's nmctx: where errors go, which allocator the library uses, and the lock that guards
// the list of mapped memory regions (nmem_d) ports of one context share.
//
// The default context is thread-safe from the start: this library always has threads available,
// so it need not wait for a program to link in libnetmap's pthread object. nmctx_set_threadsafe()
// and the nmctx_threadsafe variable exist for programs written against libnetmap.h, which
// references both.
#include <libnetmap.h>

#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <mutex>

namespace {

void print_error(nmctx *, const char *message) { std::fprintf(stderr, "%s\n", message); }

void *heap_malloc(nmctx *, size_t size) { return std::malloc(size); }

void heap_free(nmctx *, void *p) { std::free(p); }

// One mutex for every context that uses this callback: the contexts share nothing else, and the
// critical sections (a list walk, a refcount) are short.
std::mutex region_list_mutex;

void lock_region_list(nmctx *, int lock)
{
    if (lock)
        region_list_mutex.lock();
    else
        region_list_mutex.unlock();
}

nmctx global_ctx = {
    1,                // verbose
    print_error,      // error
    heap_malloc,      // malloc
    heap_free,        // free
    lock_region_list, // lock
    nullptr,          // mem_descs
};

nmctx *default_ctx = &global_ctx;

} // namespace

extern "C" {

int nmctx_threadsafe = 1;

nmctx *nmctx_get(void) { return default_ctx; }

nmctx *nmctx_set_default(nmctx *ctx)
{
    nmctx *previous = default_ctx;
    default_ctx = ctx;
    return previous;
}

// Gives the current default context a lock if it has none. A context handed over by the program
// keeps its own lock callback.
void nmctx_set_threadsafe(void)
{
    if (default_ctx->lock == nullptr)
        default_ctx->lock = lock_region_list;
    nmctx_threadsafe = 1;
}

void nmctx_ferror(nmctx *ctx, const char *fmt, ...)
{
    if (ctx == nullptr || !ctx->verbose || ctx->error == nullptr)
        return;
    char message[1024];
    va_list ap;
    va_start(ap, fmt);
    const int n = std::vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    if (n < 0) {
        ctx->error(ctx, "libnetmap: cannot format an error message");
        return;
    }
    // A message cut short still says more than none; mark the cut.
    if (static_cast<size_t>(n) >= sizeof message)
        std::snprintf(message + sizeof message - 4, 4, "...");
    ctx->error(ctx, message);
}

void *nmctx_malloc(nmctx *ctx, size_t size)
{
    return ctx->malloc ? ctx->malloc(ctx, size) : std::malloc(size);
}

void nmctx_free(nmctx *ctx, void *p)
{
    if (ctx->free)
        ctx->free(ctx, p);
    else
        std::free(p);
}

void nmctx_lock(nmctx *ctx)
{
    if (ctx->lock)
        ctx->lock(ctx, 1);
}

void nmctx_unlock(nmctx *ctx)
{
    if (ctx->lock)
        ctx->lock(ctx, 0);
}

} // extern "C"
