// The one port interface every port kind implements, and the factory that picks the kind.
//
//   auto p = create_port(name, cfg, &switches);        // from a parsed name; no resources yet
//   auto a = (*p)->attach(ctx, name, request);          // a registration: rings, if block, fds
//   (*p)->sync(reg_id, ring_dir::tx, 0);                // a socket-path TXSYNC of ring 0
//   if ((*p)->detach(reg_id)) destroy the port;         // partner of attach
//
// Ports speak in rings, slots and buffers; the registry and the session translate to and from the
// control protocol. Ports run on the control thread only: no locks. Every call takes client input
// (a registration's rings in shared memory, a request's numbers) and turns anything wrong into an
// error value.
#pragma once

#include "config.hpp"
#include "region.hpp"

#include <netring/error.hpp>
#include <netring/netring.hpp>
#include <netring/port_name.hpp>

#include <sys/types.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace netring::netringd {

// What a registration asks of a port. Zero counts mean the port's default (rings) or the
// configured default_slots (slots); the flags are the name's suffixes and the request's, merged.
struct ring_request {
    uint32_t tx_rings = 0;
    uint32_t rx_rings = 0;
    uint32_t tx_slots = 0; // otherwise a power of two within the configured limit
    uint32_t rx_slots = 0;
    uint32_t extra_bufs = 0; // linked from the if block's ni_bufs_head, returned on detach
    bool exclusive = false;  // "/x": no other registration may share these rings
    bool tx_only = false;    // "/T"
    bool rx_only = false;    // "/R"
    bool netmap_view = false; // also write a netmap view of the registration (registry.cpp)
};

// What a port needs from the registry to set up one registration.
struct reg_context {
    uint32_t reg_id = 0;
    pid_t pid = 0;
    // The region of a trust domain, created on first use from the config's geometry, its memory on
    // `numa_node` when the machine has several (-1: anywhere).
    std::function<result<std::shared_ptr<region>>(const std::string &name, int numa_node)> open_region;
};

// Where a registration's rings sit among every ring of the port, as netmap numbers them in
// netmap_if.ring_ofs[]: NIC tx rings, host tx rings, NIC rx rings, host rx rings. A port that
// leaves `pos` empty is seen as exactly the rings of the registration.
struct netmap_view {
    uint32_t nic_tx = 0, host_tx = 0, nic_rx = 0, host_rx = 0;
    std::vector<uint32_t> pos; // per registration ring (tx rings, then rx rings): its ring_ofs[] index
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
    netmap_view view;
    // Borrowed from the port, valid until detach: the region fd first, then (kick, notify) for
    // each tx ring, then for each rx ring. The reply duplicates them into the client.
    std::vector<int> fds;
};

enum class ring_dir : uint8_t { tx, rx };

// Every ring of a registration, for sync().
inline constexpr uint32_t all_rings = 0xffffffffu;

// A socket-path sync outcome. `message` is set only on errors.
struct sync_result {
    errc code = errc::ok;
    std::string message;
    uint32_t tail = 0; // the ring's new tail when one ring was synced

    bool ok() const { return code == errc::ok; }
};

// What one ring of a registration counted (STATS).
struct ring_counters {
    uint16_t dir = 0; // NR_RING_DIR_*
    uint16_t ringid = 0;
    uint32_t num_slots = 0;
    uint32_t status = 0; // NR_SYNC_*
    uint64_t packets = 0, bytes = 0, drops = 0, kicks = 0, errors = 0;
    uint64_t copies = 0; // frames the daemon copied in user space
    uint32_t occupied = 0; // slots in use now (rings::ring_occupied)
};

// What a ring's sync block counted (the producer's counters, its status), for STATS. Ports whose
// counts live elsewhere (the switch's) overwrite the fields they keep themselves.
ring_counters counters_of(const nr_sync &sync, uint32_t num_slots, uint16_t dir, uint16_t ringid);

// A setting an administrator changes on the port (NIC_CTL). Kinds without it refuse.
struct port_setting {
    bool promiscuous = false;
};

class port {
public:
    virtual ~port() = default;

    // Registers ctx.reg_id on the port as named (pipe end, ring selection) with what it asks for.
    virtual result<attach_result> attach(const reg_context &ctx, const port_name &name,
                                         const ring_request &req) = 0;
    // Registers monitor ctx.reg_id (name.is_monitor(): "/r", "/t", "/rt") on the rings `name`
    // designates, with `slots` slots per monitor ring. Kinds without monitors refuse.
    virtual result<attach_result> attach_monitor(const reg_context &ctx, const port_name &name, uint32_t slots);
    // Partner of attach and attach_monitor. True when the port is finished: it leaves the registry's
    // table, and goes once the registrations still holding it (monitors) are dropped.
    virtual bool detach(uint32_t reg_id) = 0;
    // Socket-path sync of one ring of a registration, or of every ring (all_rings).
    virtual sync_result sync(uint32_t reg_id, ring_dir dir, uint32_t ring) = 0;
    // What a registration under `name` gets (or would get, before any attach).
    virtual port_details info(const port_name &name) const = 0;
    // Appends what each ring of `reg_id` counted: tx rings, then rx rings.
    virtual void collect_stats(uint32_t reg_id, std::vector<ring_counters> &out) const = 0;
    // Applies an administrator's setting to what `name` designates.
    virtual status configure(const port_name &name, const port_setting &s);
};

class switch_table;

// Maps a parsed name to a port kind: pipe, NIC (with host rings) or switch port (through `switches`).
result<std::unique_ptr<port>> create_port(const port_name &name, const config &cfg,
                                          switch_table *switches = nullptr);

} // namespace netring::netringd
