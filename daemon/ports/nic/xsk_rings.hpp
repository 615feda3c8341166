// An AF_XDP socket's four rings mapped from its fd alone: how a netringd that inherited the socket
// across a restart reaches the rings the kernel kept (they live in the socket, not in the process).
//
//   xsk_ring_maps maps;
//   auto st = maps.map(fd, {fill, comp, rx, tx}, &fill_ring, &comp_ring, &rx_ring, &tx_ring);
//   // the rings' cursors are the kernel's: nothing in flight is lost or counted twice
//   // ~xsk_ring_maps unmaps them; the socket stays open (its fd is the caller's)
//
// The offsets come from getsockopt(XDP_MMAP_OFFSETS) and the page offsets XDP_PGOFF_RX_RING,
// XDP_PGOFF_TX_RING, XDP_UMEM_PGOFF_FILL_RING and XDP_UMEM_PGOFF_COMPLETION_RING
// (Documentation/networking/af_xdp.rst). A recorded size is checked against the kernel's: the kernel
// refuses a mapping longer than the ring, so the size maps and twice the size does not.
#pragma once

#include <netring/error.hpp>

#include <xdp/xsk.h>

#include <array>
#include <cstddef>
#include <cstdint>

namespace netring::netringd {

struct xsk_ring_sizes {
    uint32_t fill = 0;
    uint32_t comp = 0;
    uint32_t rx = 0;
    uint32_t tx = 0;
};

class xsk_ring_maps {
public:
    xsk_ring_maps() = default;
    ~xsk_ring_maps();
    xsk_ring_maps(const xsk_ring_maps &) = delete;
    xsk_ring_maps &operator=(const xsk_ring_maps &) = delete;

    // Maps the rings of the AF_XDP socket `fd`, checks their sizes, and fills libxdp's public ring
    // structs with the kernel's cursors (producer rings: everything produced is submitted).
    status map(int fd, const xsk_ring_sizes &sizes, xsk_ring_prod *fill, xsk_ring_cons *comp,
               xsk_ring_cons *rx, xsk_ring_prod *tx);

private:
    struct mapping {
        void *base = nullptr;
        size_t len = 0;
    };
    std::array<mapping, 4> maps_{};
};

} // namespace netring::netringd
