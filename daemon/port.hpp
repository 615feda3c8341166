// The one port interface every port kind implements, and the factory that picks the kind.
//
//   auto p = create_port(name, cfg);              // from a parsed name; no resources yet
//   auto a = (*p)->attach(ctx, name, req);        // a registration: rings, if block, fds
//   (*p)->txsync(reg_id, 0);  (*p)->rxsync(reg_id, proto::all_rings);
//   if ((*p)->detach(reg_id)) destroy the port;   // partner of attach
//
// Ports run on the control thread only: no locks. Every call takes client input (a registration's
// rings in shared memory, a request's numbers) and turns anything wrong into an error value.
#pragma once

#include "config.hpp"
#include "region.hpp"

#include <netring/error.hpp>
#include <netring/netring.hpp>
#include <netring/port_name.hpp>
#include <netring/protocol.hpp>

#include <sys/types.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace netring::netringd {

// What a port needs from the registry to set up one registration.
struct reg_context {
    uint32_t reg_id = 0;
    pid_t pid = 0;
    // The region of a trust domain, created on first use from the config's geometry, its memory on
    // `numa_node` when the machine has several (-1: anywhere).
    std::function<result<std::shared_ptr<region>>(const std::string &name, int numa_node)> open_region;
};

struct attach_result {
    const region *mem = nullptr; // the region the client maps; borrowed, valid until detach
    uint64_t if_offset = 0;
    uint32_t port_kind = 0; // NR_PORT_KIND_*
    uint32_t tx_rings = 0;
    uint32_t rx_rings = 0;
    uint32_t tx_slots = 0;
    uint32_t rx_slots = 0;
    uint32_t extra_bufs = 0;
    // Borrowed from the port, valid until detach: the region fd first, then (kick, notify) for
    // each tx ring, then for each rx ring. The reply duplicates them into the client.
    std::vector<int> fds;
};

// A socket-path TXSYNC/RXSYNC outcome. `message` is set only on errors.
struct sync_result {
    errc code = errc::ok;
    std::string message;
    uint32_t tail = 0; // the ring's new tail when one ring was synced

    bool ok() const { return code == errc::ok; }
};

// What PORT_INFO reports: the same struct libnetring hands to applications.
using port_details = netring::port_details;

class port {
public:
    virtual ~port() = default;

    // Registers `reg_id` (ctx) on the port as named (pipe end, ring selection, flags).
    virtual result<attach_result> attach(const reg_context &ctx, const port_name &name, const proto::regif &req) = 0;
    // Partner of attach. True when no registration is left and the port should be destroyed.
    virtual bool detach(uint32_t reg_id) = 0;
    // Socket-path syncs of one tx/rx ring of a registration, or every ring (proto::all_rings).
    virtual sync_result txsync(uint32_t reg_id, uint32_t ring) = 0;
    virtual sync_result rxsync(uint32_t reg_id, uint32_t ring) = 0;
    // What a registration under `name` gets (or would get, before any attach).
    virtual port_details info(const port_name &name) const = 0;
    // Appends the rings of `reg_id`: tx rings then rx rings, `registration` left 0 for the caller.
    virtual void collect_stats(uint32_t reg_id, std::vector<proto::stats_ring> &out) const = 0;
};

class switch_table;

// Maps a parsed name to a port kind: pipe, NIC (with host rings) or switch port (through `switches`).
result<std::unique_ptr<port>> create_port(const port_name &name, const config &cfg, switch_table *switches = nullptr);

} // namespace netring::netringd
