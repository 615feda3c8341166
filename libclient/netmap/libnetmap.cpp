// libnetmap's nmport_d life cycle, as libnetmap.h documents it:
//
//   nmport_open = nmport_prepare (nmport_new + nmport_parse)
//               + nmport_open_desc (nmport_register + nmport_mmap)
//
// and each step has an undo that leaves the descriptor as the step found it, so a failed open
// releases exactly what it took. Ports of one nmctx that sit in the same memory region (nr_mem_id)
// share one mapping, an nmem_d on the context's list, counted by the ports using it.
// The "kernel" behind /dev/netmap is this library's fd layer (fd_layer.cpp, ctl.cpp).
#include "nm_private.hpp"

#include <netring/unique_fd.hpp>

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include <cerrno>
#include <cstring>

namespace netring::nm {
namespace {

int fail(int error)
{
    errno = error;
    return -1;
}

// After a failed NIOCCTRL the device may have put an errno in each option it rejected.
void report_ctrl_failure(nmctx *ctx, const nmreq_header *hdr, int error)
{
    bool option_failed = false;
    for (auto *o = reinterpret_cast<const nmreq_option *>(hdr->nr_options); o != nullptr;
         o = reinterpret_cast<const nmreq_option *>(o->nro_next)) {
        if (o->nro_status != 0) {
            nmctx_ferror(ctx, "%s: option %s: %s", hdr->nr_name, nmreq_option_name(o->nro_reqtype),
                         std::strerror(static_cast<int>(o->nro_status)));
            option_failed = true;
        }
    }
    if (!option_failed)
        nmctx_ferror(ctx, "%s: %s", hdr->nr_name, std::strerror(error));
}

// The list of mapped regions of a context, under nmctx_lock().
nmem_d *find_region(nmctx *ctx, uint16_t mem_id)
{
    for (nmem_d *m = ctx->mem_descs; m != nullptr; m = m->next)
        if (m->mem_id == mem_id)
            return m;
    return nullptr;
}

nmem_d *map_region(nmport_d *d)
{
    nmctx *ctx = d->ctx;
    void *base = mmap(nullptr, d->reg.nr_memsize, PROT_READ | PROT_WRITE, MAP_SHARED, d->fd, 0);
    if (base == MAP_FAILED) {
        nmctx_ferror(ctx, "%s: cannot map memory region %u: %s", d->hdr.nr_name, unsigned{d->reg.nr_mem_id},
                     std::strerror(errno));
        return nullptr;
    }
    auto *m = static_cast<nmem_d *>(nmctx_malloc(ctx, sizeof(nmem_d)));
    if (m == nullptr) {
        munmap(base, d->reg.nr_memsize);
        nmctx_ferror(ctx, "%s: out of memory for a region descriptor", d->hdr.nr_name);
        errno = ENOMEM;
        return nullptr;
    }
    std::memset(m, 0, sizeof *m);
    m->mem_id = d->reg.nr_mem_id;
    m->mem = base;
    m->size = d->reg.nr_memsize;
    m->next = ctx->mem_descs;
    if (m->next != nullptr)
        m->next->prev = m;
    ctx->mem_descs = m;
    return m;
}

void unmap_region(nmctx *ctx, nmem_d *m)
{
    if (!m->is_extmem)
        munmap(m->mem, m->size);
    if (m->next != nullptr)
        m->next->prev = m->prev;
    if (m->prev != nullptr)
        m->prev->next = m->next;
    else
        ctx->mem_descs = m->next;
    nmctx_free(ctx, m);
}

// Takes a reference on the region of d, mapping it if this context has not yet.
nmem_d *acquire_region(nmport_d *d)
{
    nmctx_lock(d->ctx);
    nmem_d *m = find_region(d->ctx, d->reg.nr_mem_id);
    if (m == nullptr)
        m = map_region(d);
    if (m != nullptr)
        m->refcount++;
    nmctx_unlock(d->ctx);
    return m;
}

void release_region(nmctx *ctx, nmem_d *m)
{
    nmctx_lock(ctx);
    if (--m->refcount <= 0)
        unmap_region(ctx, m);
    nmctx_unlock(ctx);
}

void reset_rings(nmport_d *d)
{
    d->nifp = nullptr;
    d->first_tx_ring = d->last_tx_ring = d->cur_tx_ring = 0;
    d->first_rx_ring = d->last_rx_ring = d->cur_rx_ring = 0;
}

nmport_d *new_port(nmctx *ctx)
{
    auto *d = static_cast<nmport_d *>(nmctx_malloc(ctx, sizeof(nmport_d)));
    if (d == nullptr) {
        nmctx_ferror(ctx, "out of memory for a port descriptor");
        errno = ENOMEM;
        return nullptr;
    }
    std::memset(d, 0, sizeof *d);
    nmreq_header_init(&d->hdr, NETMAP_REQ_REGISTER, &d->reg);
    d->ctx = ctx;
    d->fd = -1;
    return d;
}

} // namespace

int device_ctrl(nmctx *ctx, nmreq_header *hdr)
{
    unique_fd fd(open(NETMAP_DEVICE_NAME, O_RDWR | O_CLOEXEC));
    if (!fd.valid()) {
        const int error = errno;
        nmctx_ferror(ctx, "cannot open %s: %s", NETMAP_DEVICE_NAME, std::strerror(error));
        return fail(error);
    }
    if (ioctl(fd.get(), NIOCCTRL, hdr) < 0) {
        const int error = errno;
        report_ctrl_failure(ctx, hdr, error);
        return fail(error);
    }
    return fd.release();
}

} // namespace netring::nm

using namespace netring::nm;

extern "C" {

int32_t nmreq_get_mem_id(const char **portname, nmctx *ctx)
{
    if (portname == nullptr || *portname == nullptr) {
        nmctx_ferror(ctx, "nmreq_get_mem_id: no port name");
        return fail(EINVAL);
    }
    nmreq_header hdr;
    nmreq_port_info_get info{};
    nmreq_header_init(&hdr, NETMAP_REQ_PORT_INFO_GET, &info);
    const char *scan = *portname;
    if (nmreq_header_decode(&scan, &hdr, ctx) < 0)
        return -1;
    const int fd = device_ctrl(ctx, &hdr);
    if (fd < 0)
        return -1;
    close(fd);
    *portname = scan;
    return info.nr_mem_id;
}

nmport_d *nmport_new(void) { return new_port(nmctx_get()); }

void nmport_delete(nmport_d *d) { nmctx_free(d->ctx, d); }

int nmport_parse(nmport_d *d, const char *portspec)
{
    const char *scan = portspec;
    if (nmreq_header_decode(&scan, &d->hdr, d->ctx) < 0 ||
        nmreq_register_decode(&scan, &d->reg, d->ctx) < 0 || decode_port_options(d, scan) < 0) {
        const int error = errno;
        nmport_undo_parse(d);
        return fail(error);
    }
    return 0;
}

// Back to what nmport_new() made: the options the parse added are gone with their undo records.
void nmport_undo_parse(nmport_d *d)
{
    run_cleanups(d);
    std::memset(&d->reg, 0, sizeof d->reg);
    nmreq_header_init(&d->hdr, NETMAP_REQ_REGISTER, &d->reg);
}

nmport_d *nmport_prepare(const char *portspec)
{
    nmport_d *d = nmport_new();
    if (d == nullptr)
        return nullptr;
    if (nmport_parse(d, portspec) < 0) {
        const int error = errno;
        nmport_delete(d);
        errno = error;
        return nullptr;
    }
    return d;
}

void nmport_undo_prepare(nmport_d *d)
{
    if (d == nullptr)
        return;
    nmport_undo_parse(d);
    nmport_delete(d);
}

int nmport_register(nmport_d *d)
{
    if (d->register_done) {
        nmctx_ferror(d->ctx, "%s: already registered", d->hdr.nr_name);
        return fail(EINVAL);
    }
    d->fd = device_ctrl(d->ctx, &d->hdr);
    if (d->fd < 0)
        return -1;
    d->register_done = 1;
    return 0;
}

void nmport_undo_register(nmport_d *d)
{
    if (d->fd >= 0)
        close(d->fd);
    d->fd = -1;
    d->register_done = 0;
}

int nmport_mmap(nmport_d *d)
{
    if (d->mmap_done) {
        nmctx_ferror(d->ctx, "%s: already mapped", d->hdr.nr_name);
        return fail(EINVAL);
    }
    if (!d->register_done) {
        nmctx_ferror(d->ctx, "%s: cannot map a port that is not registered", d->hdr.nr_name);
        return fail(EINVAL);
    }
    nmem_d *m = acquire_region(d);
    if (m == nullptr)
        return -1;
    if (d->reg.nr_offset >= m->size) {
        release_region(d->ctx, m);
        nmctx_ferror(d->ctx, "%s: interface offset %llu lies outside its %zu-byte region", d->hdr.nr_name,
                     static_cast<unsigned long long>(d->reg.nr_offset), m->size);
        return fail(EINVAL);
    }
    d->mem = m;
    d->nifp = NETMAP_IF(m->mem, d->reg.nr_offset);
    const bound_rings r = find_bound_rings(d->nifp);
    d->first_tx_ring = d->cur_tx_ring = r.first_tx;
    d->last_tx_ring = r.last_tx;
    d->first_rx_ring = d->cur_rx_ring = r.first_rx;
    d->last_rx_ring = r.last_rx;
    d->mmap_done = 1;
    return 0;
}

void nmport_undo_mmap(nmport_d *d)
{
    if (d->mem != nullptr)
        release_region(d->ctx, d->mem);
    d->mem = nullptr;
    d->mmap_done = 0;
    reset_rings(d);
}

int nmport_open_desc(nmport_d *d)
{
    if (nmport_register(d) < 0)
        return -1;
    if (nmport_mmap(d) < 0) {
        const int error = errno;
        nmport_undo_register(d);
        return fail(error);
    }
    return 0;
}

void nmport_undo_open_desc(nmport_d *d)
{
    nmport_undo_mmap(d);
    nmport_undo_register(d);
}

nmport_d *nmport_open(const char *portspec)
{
    nmport_d *d = nmport_prepare(portspec);
    if (d == nullptr)
        return nullptr;
    if (nmport_open_desc(d) < 0) {
        const int error = errno;
        nmport_undo_prepare(d);
        errno = error;
        return nullptr;
    }
    return d;
}

void nmport_close(nmport_d *d)
{
    if (d == nullptr)
        return;
    nmport_undo_open_desc(d);
    nmport_undo_prepare(d);
}

// The copy has the same request (name, mode, flags, ring counts, memory region) without the
// options, which belong to the original; it is prepared, not registered.
nmport_d *nmport_clone(nmport_d *d)
{
    if (d->extmem != nullptr && !d->register_done) {
        nmctx_ferror(d->ctx, "%s: a port using extmem cannot be cloned before it is registered",
                     d->hdr.nr_name);
        errno = EINVAL;
        return nullptr;
    }
    nmport_d *c = new_port(d->ctx);
    if (c == nullptr)
        return nullptr;
    std::memcpy(c->hdr.nr_name, d->hdr.nr_name, sizeof c->hdr.nr_name);
    c->hdr.nr_reqtype = d->hdr.nr_reqtype;
    c->reg = d->reg;
    return c;
}

int nmport_inject(nmport_d *d, const void *buf, size_t size)
{
    return inject_packet(d->nifp, d->first_tx_ring, d->last_tx_ring, &d->cur_tx_ring, buf, size);
}

} // extern "C"
