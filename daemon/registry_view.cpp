// The netmap view of a registration (REGIF's regif_netmap_view flag): a second if block laid out
// as netmap's netmap_if, listing every ring of the port (docs/NETMAP-COMPAT.md).
#include "registry.hpp"

#include <netring/layout.h>
#include <rings/region_format.hpp>

#include <cstring>

namespace netring::netringd {

// The view is written once, here, from the daemon's own numbers: the ring offsets come from the
// if block the port has just written and no client has seen yet. The daemon never reads the view
// back, so what a client later writes into it concerns only the clients of that region.
result<uint64_t> registry::write_netmap_view(region &mem, const attach_result &a, netmap_view_dirs dirs,
                                             uint64_t *bytes)
{
    netmap_view v = a.view;
    const uint32_t own = a.tx_rings + a.rx_rings;
    if (v.pos.empty()) {
        // As netmap shows a pipe or a switch port: its rings, and one host ring each way that is
        // never bound (offset 0).
        v.nic_tx = a.tx_rings;
        v.nic_rx = a.rx_rings;
        v.host_tx = v.host_rx = 1;
        for (uint32_t i = 0; i < a.tx_rings; i++)
            v.pos.push_back(i);
        for (uint32_t i = 0; i < a.rx_rings; i++)
            v.pos.push_back(v.nic_tx + v.host_tx + i);
    }
    const uint32_t total = v.nic_tx + v.host_tx + v.nic_rx + v.host_rx;
    if (v.pos.size() != own)
        return error::from(errc::internal, "netmap view lists " + std::to_string(v.pos.size()) + " of " +
                                               std::to_string(own) + " rings");
    for (const uint32_t p : v.pos)
        if (p >= total)
            return error::from(errc::internal, "netmap view ring position " + std::to_string(p) + " past " +
                                                   std::to_string(total));
    const uint64_t size = sizeof(nr_if) + uint64_t{total} * sizeof(int64_t);
    const auto off = mem.meta().reserve(size);
    if (!off)
        return error::from(errc::out_of_buffers,
                           "region " + mem.name() + " metadata area is full; raise region_meta_bytes");
    uint8_t *base = mem.base();
    const auto *compact = reinterpret_cast<const nr_if *>(base + a.if_offset);
    auto *view = reinterpret_cast<nr_if *>(base + *off);
    std::memset(view, 0, size);
    std::memcpy(view->ni_name, compact->ni_name, sizeof view->ni_name);
    view->ni_version = NR_API_VERSION;
    view->ni_tx_rings = v.nic_tx;
    view->ni_rx_rings = v.nic_rx;
    view->ni_host_tx_rings = v.host_tx;
    view->ni_host_rx_rings = v.host_rx;
    view->ni_bufs_head = compact->ni_bufs_head;
    for (uint32_t i = 0; i < own; i++) {
        if (!(i < a.tx_rings ? dirs.tx : dirs.rx))
            continue; // /T or /R: the other direction stays unlisted (offset 0)
        const uint64_t ring = a.if_offset + static_cast<uint64_t>(compact->ring_ofs[i]);
        view->ring_ofs[v.pos[i]] = static_cast<int64_t>(ring) - static_cast<int64_t>(*off);
    }
    *bytes = size;
    return *off;
}

} // namespace netring::netringd
