// The NIC port: netmap:IF (every hardware queue), netmap:IF-K (queue K), netmap:IF^ (the host-stack
// rings, a TAP device) and netmap:IF* (NIC and host), all of one interface in one object.
//
// Each queue (hardware queue K, or the host queue) owns one tx and one rx ring, their sync blocks,
// kick/notify eventfds, the buffers it took and its I/O (nic_io.hpp). A queue is bound when the first
// registration naming it arrives and unbound when the last one leaves; registrations of the same
// queue share its rings, as netmap's non-exclusive opens do, unless one of them asked for /x.
// Every registration gets its own if block listing its queues' rings (NR_PORT_KIND_DAEMON).
//
// The data path is one worker thread per port (nic_worker.hpp), serving every bound queue. The
// control thread changes the set of queues only with the worker stopped, so the two never share a
// queue's state at the same time. The NIC, its host rings and pipes opened on it share the region
// "nic:IF", so an application can move frames between them by swapping buffer indices.
//
// Monitors (netmap:IF/rt, netmap:IF^/t, ...) get their rings in the same region; the worker copies
// what a queue transmits or receives into the monitor rings the control thread wired to the queue
// (restart_worker). A monitor may come before any application: it then waits for the queues to be
// bound, and keeps watching while applications come and go.
#pragma once

#include "monitor_rings.hpp"
#include "nic_io.hpp"
#include "nic_worker.hpp"
#include "port.hpp"
#include "state_records.hpp"
#include "xdp_program.hpp"

#include <netring/unique_fd.hpp>

#include <array>
#include <functional>
#include <map>
#include <memory>
#include <vector>

namespace netring::netringd {

class nic_port final : public port {
public:
    nic_port(const port_name &name, const config &cfg);
    ~nic_port() override;
    nic_port(const nic_port &) = delete;
    nic_port &operator=(const nic_port &) = delete;

    result<attach_result> attach(const reg_context &ctx, const port_name &name,
                                 const ring_request &req) override;
    result<attach_result> attach_monitor(const reg_context &ctx, const port_name &name, uint32_t slots) override;
    bool detach(uint32_t reg_id) override;
    sync_result sync(uint32_t reg_id, ring_dir dir, uint32_t ring) override;
    port_details info(const port_name &name) const override;
    void collect_stats(uint32_t reg_id, std::vector<ring_counters> &out) const override;
    // Promiscuous mode of the interface.
    status configure(const port_name &name, const port_setting &s) override;

    // Restarts (nic_keep.cpp). A port in AF_XDP or AF_PACKET mode without host rings survives one:
    // its XDP program, sockets, rings and registrations go to the successor; others are released.
    bool keepable() const;
    const std::string &region_name() const { return region_name_; }
    const std::string &ifname() const { return ifname_; }
    // Partners: the worker stopped for the handoff, started again (a failed handoff, an adoption).
    void pause() { worker_.stop(); }
    void resume() { restart_worker(); }
    // Whether a save made while the worker runs may name the port: every queue an AF_XDP queue
    // whose cursors the worker commits to the journal. Such a port survives a crash too.
    bool journaled() const;
    // The port's records for a successor; `fd_id` names each fd it keeps. `running`: the worker
    // runs (journaled() holds), and the cursors come from the journal; otherwise it is paused.
    kept_nic keep(const std::function<uint32_t(int)> &fd_id, bool running = false) const;
    // A port a previous process kept, on region `mem` (adopted, its pool and arena restored); every
    // number is checked against the region, the kernel objects and the interface. The worker is
    // not started: resume() once the registry has adopted everything.
    static result<std::shared_ptr<nic_port>> adopt(const kept_nic &k, const config &cfg,
                                                   std::shared_ptr<region> mem,
                                                   const std::function<unique_fd(uint32_t)> &take_fd);
    // The port's monitors for a successor, kept with the port (their rings are in its region).
    std::vector<kept_monitor> keep_monitors(const std::function<uint32_t(int)> &fd_id) const;
    // A monitor of this (adopted) port a previous process kept; the worker feeds it once resumed.
    status adopt_monitor(const kept_monitor &k, const std::function<unique_fd(uint32_t)> &take_fd);
    // What attach or attach_monitor answered for `reg_id` (attach itself, and adopted registrations).
    result<attach_result> answer_of(uint32_t reg_id) const;

private:
    struct registration {
        uint32_t reg_id = 0;
        pid_t pid = 0;
        std::vector<uint32_t> queues; // indices into queues_, NIC queues first, host last
        uint64_t if_off = 0;
        uint64_t if_bytes = 0;
        std::vector<uint32_t> extra_bufs;
        uint32_t extra_count = 0; // asked for; extra_bufs lists them
    };

    status probe();
    status choose_mode(const port_name &name);
    status check_request(const port_name &name, const ring_request &req) const;
    bool any_nic_queue() const;
    std::string queue_label(uint32_t q) const;
    status open_region(const reg_context &ctx);
    result<std::vector<uint32_t>> queues_for(const port_name &name) const;
    status bind_queue(uint32_t q, const ring_request &req);
    void unbind_queue(uint32_t q);
    status reserve_ring(served_ring &r, uint32_t slots, uint16_t ringid, uint16_t dir,
                        std::vector<uint32_t> &bufs);
    void release_ring(served_ring &r);
    bool take_bufs(uint32_t n, std::vector<uint32_t> &out);
    void give_bufs(std::span<const uint32_t> bufs);
    void restart_worker();
    void journal_start(nic_queue &q);
    void wire_monitors();
    registration *find(uint32_t reg_id);
    const registration *find(uint32_t reg_id) const;
    nic_buffers buffers() const;

    const config &cfg_;
    std::string ifname_;
    std::string key_;
    std::string region_name_;
    nic_mode mode_ = nic_mode::auto_select; // the mode in use once the first queue is bound
    uint32_t hw_queues_ = 0;                // from sysfs; 1 in AF_PACKET mode
    uint8_t mac_[6] = {};
    uint32_t mtu_ = 1500;
    int numa_node_ = -1;          // the interface's node: the region's memory and the worker go there
    std::string fallback_reason_; // why auto mode fell back to AF_PACKET
    std::shared_ptr<region> mem_;
    std::unique_ptr<xdp_program> xdp_;
    nic_journal journal_; // the worker's cursors, for a successor after a crash
    std::vector<std::unique_ptr<nic_queue>> queues_; // [0, hw_queues_) NIC, [hw_queues_] host
    std::vector<registration> regs_;
    std::map<uint32_t, monitor_reg> monitors_; // by reg_id
    // Per region buffer: taken from the pool by this port and not given back yet (rings, fill rings,
    // extra buffers). Daemon memory: what applications write cannot change it.
    std::vector<uint8_t> owned_;
    nic_worker worker_;
};

} // namespace netring::netringd
