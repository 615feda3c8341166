#pragma once
// xsk_min's pieces shared by its setup (xsk_min.cpp) and its data path (xsk_datapath.cpp):
// the UMEM area, the libxdp objects in teardown order, the counters, and the two loops.
//
//   xsk_setup s;  ... create area, UMEM, socket ...
//   counters c;
//   double seconds = o.rx ? run_rx(s, o, c) : run_tx(s, o, c);

#include "xsk_min_options.hpp"
#include "xsk_xdp_prog.hpp"

#include <sys/mman.h>
#include <unistd.h>
#include <xdp/xsk.h>

#include <csignal>
#include <cstdint>
#include <memory>
#include <optional>
#include <utility>

namespace xsk_bench {

// Set by SIGINT/SIGTERM; both loops check it once per batch.
extern volatile std::sig_atomic_t stop_requested;

// The UMEM: like a netring region, an anonymous memfd mapped shared.
class umem_area {
public:
    static std::unique_ptr<umem_area> create(size_t bytes)
    {
        unique_fd fd(memfd_create("xsk_min-umem", MFD_CLOEXEC));
        if (!fd || ftruncate(fd.get(), static_cast<off_t>(bytes)) != 0)
            return nullptr;
        void *p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0);
        if (p == MAP_FAILED)
            return nullptr;
        return std::unique_ptr<umem_area>(new umem_area(std::move(fd), static_cast<uint8_t *>(p), bytes));
    }
    ~umem_area() { munmap(base_, bytes_); }
    uint8_t *base() const { return base_; }
    size_t bytes() const { return bytes_; }

private:
    umem_area(unique_fd fd, uint8_t *base, size_t bytes) : fd_(std::move(fd)), base_(base), bytes_(bytes) {}
    unique_fd fd_;
    uint8_t *base_;
    size_t bytes_;
};

struct umem_deleter {
    void operator()(xsk_umem *u) const { xsk_umem__delete(u); }
};
struct socket_deleter {
    void operator()(xsk_socket *s) const { xsk_socket__delete(s); }
};

struct counters {
    uint64_t packets = 0, lost = 0, corrupt = 0, kicks = 0, bytes = 0;
    int64_t rx_offset = -1; // desc.addr % frame_size of the first RX frame
    uint64_t first_seq = 0;
};

struct xsk_setup {
    std::unique_ptr<umem_area> area;
    std::unique_ptr<xsk_umem, umem_deleter> umem;
    std::optional<xdp_redirect> prog;
    // Declared last, so closed first (its XSKMAP entry goes with it); then the link is
    // closed, which detaches the program, then the UMEM and its memory.
    std::unique_ptr<xsk_socket, socket_deleter> xsk;
    xsk_ring_prod fill{}, tx{};
    xsk_ring_cons comp{}, rx{};
    double bind_wait_ms = 0;   // time from the first bind attempt to success
    uint32_t bind_retries = 0; // EBUSY answers before that
};

// Each runs until its time is up or stop_requested; returns the seconds measured.
double run_rx(xsk_setup &s, const options &o, counters &c);
double run_tx(xsk_setup &s, const options &o, counters &c);

} // namespace xsk_bench
