// One shared-memory region: a sealed memfd, the daemon's mapping of it, and the daemon-memory
// allocators for its buffers (rings::buffer_pool) and metadata area (rings::arena).
//
//   auto r = region::create("pipe:pipeA", region_options::from(cfg));
//   if (!r) ... r.err() ...
//   (*r)->pool().take(n, bufs);  (*r)->meta().reserve(bytes);  (*r)->fd() goes to clients
//
// The memfd is sealed against shrinking and growing once sized: a client holding the fd cannot
// truncate it under the daemon (which would turn the daemon's next access into SIGBUS).
// Nothing a client writes into the region can change the pool or the arena: they live here.
// A hugetlb region is always under fault_guard (holes a client punches cannot kill the daemon);
// when no guard slot is left, the region takes 4 KiB pages instead.
#pragma once

#include "config.hpp"

#include <netring/error.hpp>
#include <netring/unique_fd.hpp>
#include <rings/arena.hpp>
#include <rings/buffer_pool.hpp>
#include <rings/ring_ops.hpp>
#include <rings/region_format.hpp>

#include <functional>
#include <memory>
#include <string>

namespace netring::netringd {

struct region_options {
    uint32_t buf_size = 2048;
    uint32_t num_buffers = 65536;
    uint64_t meta_bytes = 8u << 20;
    bool hugepages = false;
    int numa_node = -1; // bind the memory to this node (multi-node machines only)

    static region_options from(const config &c)
    {
        return {c.buf_size, c.region_buffers, c.region_meta_bytes, c.hugepages};
    }
};

class region {
public:
    // `log` hears about a hugepage fallback; may be empty.
    static result<std::unique_ptr<region>> create(std::string name, const region_options &opt,
                                                  const std::function<void(const std::string &)> &log = {});
    // A region a previous netringd made, from its memfd: the fd's size and seals must be those of
    // the geometry `opt` plans (the daemon's own record). The header in the memory, which clients
    // can write, is not read but written again. The pool and the arena start full: the caller
    // restores them (pool().restore, meta().restore).
    static result<std::unique_ptr<region>> adopt(std::string name, unique_fd fd, const region_options &opt);
    ~region();
    region(const region &) = delete;
    region &operator=(const region &) = delete;

    const std::string &name() const { return name_; }
    int fd() const { return fd_.get(); }
    uint8_t *base() const { return map_.base(); }
    uint64_t size() const { return geometry_.region_size; }
    const rings::region_geometry &geometry() const { return geometry_; }
    // [off, off + bytes) lies inside the metadata area (records a successor adopts are checked so).
    bool holds_meta(uint64_t off, uint64_t bytes) const
    {
        const auto &g = geometry_;
        return off >= g.meta_offset && bytes <= g.meta_size && off - g.meta_offset <= g.meta_size - bytes;
    }
    rings::buffer_limits limits() const { return {geometry_.num_buffers, geometry_.buf_size, 0}; }
    bool hugepages() const { return guard_slot_ >= 0; } // only a guarded mapping is hugetlb
    // Huge pages of the daemon's view replaced by private memory after a client punched them out.
    uint64_t hugepage_faults() const;

    rings::buffer_pool &pool() { return pool_; }
    const rings::buffer_pool &pool() const { return pool_; }
    rings::arena &meta() { return meta_; }

    // Registrations currently mapping this region (for STATS and for knowing when it may go).
    uint32_t users() const { return users_; }
    void add_user() { users_++; }
    void drop_user() { users_--; } // partner of add_user

    // The id netmap programs see as nr_mem_id: the same for every registration mapping this region.
    uint16_t mem_id() const { return mem_id_; }
    void set_mem_id(uint16_t id) { mem_id_ = id; }

private:
    region(std::string name, const rings::region_geometry &g, unique_fd fd, mapped_region map,
           int guard_slot);

    std::string name_;
    rings::region_geometry geometry_;
    unique_fd fd_;       // declared before the mapping: unmapped first, closed last
    mapped_region map_;
    rings::buffer_pool pool_;
    rings::arena meta_;
    int guard_slot_; // fault_guard slot of a hugetlb mapping; -1 for 4 KiB pages
    uint32_t users_ = 0;
    uint16_t mem_id_ = 0;
};

} // namespace netring::netringd
