#include "region.hpp"

#include "fault_guard.hpp"
#include "numa_place.hpp"
#include "sealed_memfd.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>

namespace netring::netringd {
namespace {

constexpr uint64_t huge_page = 2u << 20;

result<unique_fd> make_memfd(const std::string &name, uint64_t size, bool huge)
{
    return make_sealed_memfd("netring:" + name, size, huge, "region " + name);
}

} // namespace

region::region(std::string name, const rings::region_geometry &g, unique_fd fd, mapped_region map,
               int guard_slot)
    : name_(std::move(name)), geometry_(g), fd_(std::move(fd)), map_(std::move(map)),
      pool_(NR_RESERVED_BUFFERS, g.num_buffers - NR_RESERVED_BUFFERS), meta_(g.meta_offset, g.meta_size),
      guard_slot_(guard_slot) {}

region::~region()
{
    fault_guard::remove(guard_slot_); // before map_ unmaps the range
}

uint64_t region::hugepage_faults() const
{
    return fault_guard::faults(guard_slot_);
}

result<std::unique_ptr<region>> region::create(std::string name, const region_options &opt,
                                               const std::function<void(const std::string &)> &log)
{
    const auto g = rings::plan_region(opt.buf_size, opt.num_buffers, opt.meta_bytes);
    if (!g)
        return error::from(errc::internal, "region " + name + ": geometry does not fit (buf_size " +
                                               std::to_string(opt.buf_size) + ", " + std::to_string(opt.num_buffers) +
                                               " buffers)");
    result<unique_fd> fd = error::from(errc::internal, "");
    result<mapped_region> map = error::from(errc::internal, "");
    int guard_slot = -1;
    if (opt.hugepages) {
        // Hugetlb mappings round lengths up to the huge page, and clients unmap region_size bytes:
        // only a region that is a whole number of huge pages can use them safely.
        if (g->region_size % huge_page != 0) {
            if (log)
                log("region " + name + ": size " + std::to_string(g->region_size) +
                    " is not a multiple of 2 MiB; using 4 KiB pages");
        } else {
            fd = make_memfd(name, g->region_size, true);
            if (fd)
                map = mapped_region::map(fd->get(), g->region_size);
            if (map && fault_guard::install())
                guard_slot = fault_guard::add(map->base(), g->region_size, huge_page);
            if (guard_slot < 0 && log)
                log("region " + name + ": hugepages unavailable (" +
                    (!fd ? fd.err().message : !map ? map.err().message : "no SIGBUS guard slot left") +
                    "); using 4 KiB pages");
        }
    }
    if (guard_slot < 0) {
        map = error::from(errc::internal, ""); // unmaps a hugetlb mapping left unguarded
        fd = make_memfd(name, g->region_size, false);
        if (!fd)
            return fd.err();
        map = mapped_region::map(fd->get(), g->region_size);
        if (!map)
            return map.err();
    }
    if (auto placed = place_memory(map->base(), g->region_size, opt.numa_node); !placed && log)
        log("region " + name + ": " + placed.err().message + "; memory left where the kernel puts it");
    rings::write_region_header(map->base(), *g);
    return std::unique_ptr<region>(
        new region(std::move(name), *g, std::move(fd.value()), std::move(map.value()), guard_slot));
}

result<std::unique_ptr<region>> region::adopt(std::string name, unique_fd fd, const region_options &opt)
{
    const auto g = rings::plan_region(opt.buf_size, opt.num_buffers, opt.meta_bytes);
    if (!g)
        return error::from(errc::bad_message, "kept region " + name + ": its recorded geometry does not fit");
    struct stat st{};
    if (::fstat(fd.get(), &st) != 0)
        return error::from_errno(errno, "kept region " + name);
    if (static_cast<uint64_t>(st.st_size) != g->region_size)
        return error::from(errc::bad_message, "kept region " + name + ": the memfd holds " +
                                                  std::to_string(st.st_size) + " bytes, the record says " +
                                                  std::to_string(g->region_size));
    const int seals = ::fcntl(fd.get(), F_GET_SEALS);
    if (seals < 0 || (seals & (F_SEAL_SHRINK | F_SEAL_GROW)) != (F_SEAL_SHRINK | F_SEAL_GROW))
        return error::from(errc::bad_message, "kept region " + name + ": the memfd is not sealed against resizing");
    auto map = mapped_region::map(fd.get(), g->region_size);
    if (!map)
        return map.err();
    int guard_slot = -1;
    if (opt.hugepages) {
        if (fault_guard::install())
            guard_slot = fault_guard::add(map->base(), g->region_size, huge_page);
        if (guard_slot < 0)
            return error::from(errc::internal, "kept region " + name + ": no SIGBUS guard slot for its huge pages");
    }
    // The header is in memory every client of the region may write: the record (the daemon's own,
    // checksummed) decides, and the header is written again from it rather than believed.
    rings::write_region_header(map->base(), *g);
    return std::unique_ptr<region>(new region(std::move(name), *g, std::move(fd), std::move(map.value()), guard_slot));
}

} // namespace netring::netringd
