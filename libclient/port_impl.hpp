// The state behind netring::port, shared by port.cpp (open, mapping checks, accessors),
// port_sync.cpp (txsync/rxsync) and port_wait.cpp (wait and the arm/disarm helpers).
// Members are declared in setup order, so destruction undoes open() in reverse: eventfds closed,
// region unmapped, and the control socket closed last (closing it is the unregister).
#pragma once

#include <poll.h>

#include "connection.hpp"

#include <netring/netring.hpp>
#include <netring/unique_fd.hpp>
#include <rings/pipe_sync.hpp>
#include <rings/region_format.hpp>

#include <string>
#include <vector>

namespace netring {

struct ring_state {
    rings::ring_ref own;
    rings::ring_ref partner; // pipes: the other end's ring; empty for daemon-served ports
    int kick_fd = -1;        // wakes the other side of this ring
    int notify_fd = -1;      // the other side wakes us here
    uint32_t index = 0;      // index among the rings of its direction
    bool tx = false;
    uint64_t seen_errors = 0; // daemon-served rings: the worker's error count at the last sync
    std::string label; // "tx ring 0", for messages
    nr_mon_source source{}; // monitor rings: what the ring copies, as read once at open
};

struct port::impl {
    std::string name;
    open_options opts;
    unique_fd sock;
    uint32_t seq = 0;
    mapped_region region;
    unique_fd region_fd;             // kept for programs that map the region themselves
    uint64_t netmap_if_offset = 0;   // 0: no netmap view
    uint16_t mem_id = 0;
    std::vector<unique_fd> ring_fds; // kick, notify per ring; tx rings first
    rings::region_geometry geo;
    nr_if *nifp = nullptr;
    uint32_t reg_id = 0;
    uint32_t port_kind = 0;
    uint32_t extra_bufs = 0;
    rings::buffer_limits lim;
    rings::mon_env mon;  // pipes: the region as pipe_txsync feeds monitors from it
    bool polled = false; // NR_IF_POLLED: no eventfd announces frames, wait() looks every millisecond
    std::vector<ring_state> tx;
    std::vector<ring_state> rx;
    std::vector<pollfd> pollset; // reused by wait(): sleeping allocates nothing after the first time
    std::string last_error;

    // Maps the region of a REGIF reply and builds the rings from it, refusing anything inconsistent.
    status attach(const proto::regif_reply &rep, std::vector<unique_fd> fds);

    // Syncs one ring, or all of a direction; records the message of the first failure.
    std::error_code sync(bool tx_dir, uint32_t ring);
    std::error_code sync_one(ring_state &r);
    std::error_code sync_socket(bool tx_dir, uint32_t ring);
    std::error_code fail(errc e, std::string message);

    // Whether `events` are ready now (after a sync), and how many rings are.
    uint32_t ready_rings(unsigned events) const;
    bool arm(unsigned events);
    bool ring_status_set(unsigned events) const; // a wanted ring is marked peer-gone (or garbage)
    void disarm(unsigned events);
    // The notify eventfds of the rings `events` names, then the control socket.
    void fill_pollset(unsigned events, std::vector<pollfd> &out) const;
};

} // namespace netring
