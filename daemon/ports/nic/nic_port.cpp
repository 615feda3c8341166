#include "nic_port.hpp"
#include "nic_sysfs.hpp"

#include "numa_place.hpp"

#include <rings/bits.hpp>
#include <rings/pipe_sync.hpp>
#include <rings/region_format.hpp>

#include <net/if.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace netring::netringd {
namespace {

error limit(const std::string &what) { return error::from(errc::limit_exceeded, what); }

} // namespace

status nic_port::check_request(const port_name &name, const ring_request &req) const
{
    if (req.tx_only || req.rx_only)
        return error::from(errc::not_supported,
                           "NIC ports open both directions: /T and /R are not supported (" + name.str() +
                               ")");
    for (const uint32_t slots : {req.tx_slots, req.rx_slots}) {
        if (slots == 0)
            continue;
        if (slots > cfg_.max_slots)
            return limit("slots " + std::to_string(slots) + " exceed max_slots " +
                         std::to_string(cfg_.max_slots));
        if (slots < 64 || !rings::is_pow2(slots))
            return limit("NIC rings take a power of two of slots in 64.." + std::to_string(cfg_.max_slots) +
                         ", not " + std::to_string(slots));
    }
    if (req.extra_bufs > cfg_.max_extra_bufs)
        return limit("extra_bufs " + std::to_string(req.extra_bufs) + " exceeds max_extra_bufs " +
                     std::to_string(cfg_.max_extra_bufs));
    return ok_status();
}

result<attach_result> nic_port::attach(const reg_context &ctx, const port_name &name, const ring_request &req)
{
    if (auto s = check_request(name, req); !s)
        return s.err();
    if (auto s = open_region(ctx); !s)
        return s.err();
    if (auto s = choose_mode(name); !s)
        return s.err();
    auto wanted = queues_for(name);
    if (!wanted)
        return wanted.err();
    const bool exclusive = req.exclusive;
    for (const uint32_t q : *wanted) {
        const nic_queue *qu = q < queues_.size() ? queues_[q].get() : nullptr;
        if (qu && (qu->exclusive || exclusive))
            return error::from(errc::port_busy, name.str() + ": " + queue_label(q) + " is already open" +
                                                    (qu->exclusive ? " exclusively" : "") + " (" +
                                                    std::to_string(qu->users) + " registration" +
                                                    (qu->users == 1 ? "" : "s") + ")");
    }

    // Bind what is not bound yet, with the worker stopped; all or nothing.
    worker_.stop();
    std::vector<uint32_t> fresh;
    for (const uint32_t q : *wanted) {
        if (q < queues_.size() && queues_[q])
            continue;
        if (auto s = bind_queue(q, req); !s) {
            for (const uint32_t f : fresh)
                unbind_queue(f);
            if (!any_nic_queue())
                xdp_.reset();
            restart_worker();
            return s.err();
        }
        fresh.push_back(q);
    }

    registration reg;
    reg.reg_id = ctx.reg_id;
    reg.pid = ctx.pid;
    reg.queues = *wanted;
    uint32_t nic_rings = 0, host_rings = 0;
    std::vector<rings::if_ring_entry> entries;
    for (const bool tx : {true, false}) {
        for (const uint32_t q : reg.queues) {
            const served_ring &r = tx ? queues_[q]->tx : queues_[q]->rx;
            entries.push_back({r.ring_off, r.sync_off, 0, 0});
        }
    }
    for (const uint32_t q : reg.queues)
        (q == hw_queues_ ? host_rings : nic_rings)++;
    reg.if_bytes = nr_if_block_size(static_cast<uint32_t>(entries.size()));
    const auto off = mem_->meta().reserve(reg.if_bytes);
    if (!off) {
        for (const uint32_t f : fresh)
            unbind_queue(f);
        restart_worker();
        return error::from(errc::out_of_buffers,
                           "region " + region_name_ + " metadata area is full; raise region_meta_bytes");
    }
    reg.if_off = *off;
    uint32_t bufs_head = 0;
    if (req.extra_bufs) {
        std::vector<uint32_t> extras;
        if (!take_bufs(req.extra_bufs, extras)) {
            mem_->meta().release(reg.if_off, reg.if_bytes);
            for (const uint32_t f : fresh)
                unbind_queue(f);
            restart_worker();
            return error::from(errc::out_of_buffers, "region " + region_name_ + " has " +
                                                         std::to_string(mem_->pool().available()) +
                                                         " free buffers, this registration asks " +
                                                         std::to_string(req.extra_bufs) + " extra buffers");
        }
        bufs_head = rings::link_buffers(mem_->base(), mem_->geometry(), extras);
    }
    uint8_t *base = mem_->base();
    // init_if places the extension after as many ring_ofs[] entries as its counts add up to, so it
    // gets NIC + host rings; the split between the two is set afterwards, keeping the sum.
    rings::init_if(base, reg.if_off, ifname_, nic_rings + host_rings, nic_rings + host_rings,
                   NR_PORT_KIND_DAEMON, entries, bufs_head);
    auto *nifp = reinterpret_cast<nr_if *>(base + reg.if_off);
    nifp->ni_tx_rings = nifp->ni_rx_rings = nic_rings;
    nifp->ni_host_tx_rings = nifp->ni_host_rx_rings = host_rings;

    for (const uint32_t q : reg.queues) {
        queues_[q]->users++;
        queues_[q]->exclusive = queues_[q]->exclusive || exclusive;
    }
    restart_worker();
    mem_->add_user(); // partner: drop_user in detach
    reg.extra_count = req.extra_bufs;
    regs_.push_back(std::move(reg));
    return answer_of(ctx.reg_id);
}

result<attach_result> nic_port::answer_of(uint32_t reg_id) const
{
    if (const auto m = monitors_.find(reg_id); m != monitors_.end() && mem_)
        return monitor_answer(*mem_, m->second);
    const registration *reg = find(reg_id);
    if (!reg)
        return error::from(errc::not_registered,
                           "registration " + std::to_string(reg_id) + " is not on " + key_);
    attach_result a;
    a.mem = mem_.get();
    a.if_offset = reg->if_off;
    a.port_kind = NR_PORT_KIND_DAEMON;
    a.tx_rings = a.rx_rings = static_cast<uint32_t>(reg->queues.size());
    a.tx_slots = queues_[reg->queues[0]]->tx.num_slots;
    a.rx_slots = queues_[reg->queues[0]]->rx.num_slots;
    a.extra_bufs = reg->extra_count;
    // netmap numbers the host ring after the NIC rings, as queues_ does: tx ring of queue q at q,
    // rx ring after every tx ring.
    a.view.nic_tx = a.view.nic_rx = hw_queues_;
    a.view.host_tx = a.view.host_rx = 1;
    for (const bool tx : {true, false})
        for (const uint32_t q : reg->queues)
            a.view.pos.push_back(tx ? q : hw_queues_ + 1 + q);
    a.fds.push_back(mem_->fd());
    for (const bool tx : {true, false}) {
        for (const uint32_t q : reg->queues) {
            const served_ring &r = tx ? queues_[q]->tx : queues_[q]->rx;
            a.fds.push_back(r.kick.get());
            a.fds.push_back(r.notify.get());
        }
    }
    return a;
}

result<attach_result> nic_port::attach_monitor(const reg_context &ctx, const port_name &name, uint32_t slots)
{
    if (auto s = open_region(ctx); !s)
        return s.err();
    auto watched = queues_for(name);
    if (!watched)
        return watched.err();
    // Sources name a ring by direction and number (host rings by the host flag), not by queue
    // index: the host queue's index moves if the interface falls back to AF_PACKET later.
    std::vector<nr_mon_source> src;
    for (const bool tx : {true, false}) {
        if (!(tx ? name.monitor_tx : name.monitor_rx))
            continue;
        for (const uint32_t q : *watched) {
            nr_mon_source m{};
            m.magic = NR_MON_SOURCE_MAGIC;
            m.flags = (tx ? NR_MON_SRC_TX : 0u) | (q == hw_queues_ ? NR_MON_SRC_HOST : 0u);
            m.ringid = q == hw_queues_ ? 0 : q;
            src.push_back(m);
        }
    }
    monitor_reg m;
    auto a = monitor_build(*mem_, m, {name.str(), src, slots, false});
    if (!a)
        return a.err();
    m.reg_id = ctx.reg_id;
    worker_.stop();
    monitors_.emplace(ctx.reg_id, std::move(m));
    mem_->add_user(); // partner: drop_user in detach
    restart_worker();
    return a;
}

bool nic_port::detach(uint32_t reg_id)
{
    if (auto m = monitors_.find(reg_id); m != monitors_.end()) {
        worker_.stop(); // the worker may be writing into its rings
        monitor_release(*mem_, m->second);
        monitors_.erase(m);
        mem_->drop_user();
        restart_worker();
        return regs_.empty() && monitors_.empty();
    }
    const auto it =
        std::find_if(regs_.begin(), regs_.end(), [&](const registration &r) { return r.reg_id == reg_id; });
    if (it != regs_.end()) {
        worker_.stop();
        for (const uint32_t q : it->queues) {
            nic_queue &qu = *queues_[q];
            if (--qu.users == 0)
                unbind_queue(q);
            else
                qu.exclusive = false; // only one registration can hold a queue exclusively
        }
        if (!any_nic_queue())
            xdp_.reset(); // nothing bound: the interface's frames go to the kernel stack again
        mem_->meta().release(it->if_off, it->if_bytes);
        mem_->drop_user();
        regs_.erase(it);
        restart_worker();
    }
    return regs_.empty() && monitors_.empty();
}

bool nic_port::any_nic_queue() const
{
    for (uint32_t q = 0; q < hw_queues_ && q < queues_.size(); q++)
        if (queues_[q])
            return true;
    return false;
}

std::string nic_port::queue_label(uint32_t q) const
{
    return q == hw_queues_ ? "the host rings of " + ifname_ : ifname_ + " queue " + std::to_string(q);
}

nic_port::registration *nic_port::find(uint32_t reg_id)
{
    for (registration &r : regs_)
        if (r.reg_id == reg_id)
            return &r;
    return nullptr;
}

const nic_port::registration *nic_port::find(uint32_t reg_id) const
{
    return const_cast<nic_port *>(this)->find(reg_id);
}

// The socket path: publish what the application wrote in its ring and wake the worker. The worker
// does the checking and the I/O; the reply carries the tail as it stands.
sync_result nic_port::sync(uint32_t reg_id, ring_dir dir, uint32_t ring)
{
    const bool tx = dir == ring_dir::tx;
    const registration *reg = find(reg_id);
    if (!reg && monitors_.count(reg_id))
        return {errc::not_supported, "a monitor syncs through shared memory only", 0};
    if (!reg)
        return {errc::not_registered, "registration " + std::to_string(reg_id) + " is not on " + key_, 0};
    const size_t n = reg->queues.size();
    if (ring != all_rings && ring >= n)
        return {errc::bad_ring,
                "netmap:" + ifname_ + " registration has " + std::to_string(n) + (tx ? " tx" : " rx") +
                    " rings; ring " + std::to_string(ring) + " does not exist",
                0};
    sync_result res;
    rings::buffer_limits lim = mem_->limits();
    lim.offset_mask = lim.buf_size - 1; // as the worker checks: NIC slots may carry a data offset
    for (size_t i = ring == all_rings ? 0 : ring; i < (ring == all_rings ? n : ring + 1); i++) {
        const uint32_t q = reg->queues[i];
        served_ring &r = tx ? queues_[q]->tx : queues_[q]->rx;
        const rings::ring_ref rr = ring_ref_of(mem_->base(), r);
        if (const rings::sync_outcome o = served_socket_sync(rr, r, lim, tx); !o.ok()) {
            served_socket_reset(rr, lim);
            if (res.ok()) {
                const std::string label =
                    "netmap:" + ifname_ + " " + queue_label(q) + (tx ? " tx" : " rx") + " ring";
                res.code = rings::fault_errc(o.fault);
                res.message = rings::describe(o, label.c_str());
            }
        }
        const uint32_t tail = rings::load_acquire(rr.sync->kern.hwtail);
        if (tail < r.num_slots)
            rings::store_relaxed(rr.ring->tail, tail);
        res.tail = tail;
    }
    return res;
}

port_details nic_port::info(const port_name &name) const
{
    port_details d;
    d.port_kind = NR_PORT_KIND_DAEMON;
    d.region_name = region_name_;
    d.buf_size = mem_ ? mem_->geometry().buf_size : cfg_.buf_size;
    describe_interface(ifname_, d.nic); // also counts the queues before anything is bound
    const uint32_t hw = hw_queues_ ? hw_queues_ : std::max(1u, d.nic.hw_queues);
    const uint32_t rings = name.role == port_role::nic_ring || name.role == port_role::host ? 1
                           : name.role == port_role::nic_host                               ? hw + 1
                                                                                            : hw;
    d.tx_rings = d.rx_rings = rings;
    d.tx_slots = d.rx_slots = cfg_.default_slots;
    for (const auto &q : queues_)
        if (q) {
            d.tx_slots = q->tx.num_slots;
            d.rx_slots = q->rx.num_slots;
            break;
        }
    d.clients = static_cast<uint32_t>(regs_.size());
    d.exclusive = false;
    for (const auto &q : queues_)
        d.exclusive = d.exclusive || (q && q->exclusive);
    if (mode_ != nic_mode::auto_select) {
        d.nic.mode = to_string(mode_);
        d.nic.hw_queues = hw_queues_;
    }
    if (xdp_)
        d.nic.xdp_mode = xdp_->mode();
    for (const auto &q : queues_) {
        if (!q)
            continue;
        d.nic.ring_slots = q->rx.num_slots;
        // Racy reads of the worker's counters: informational, as every STATS counter is.
        d.nic.copies += q->io->counters().copies();
    }
    return d;
}

void nic_port::collect_stats(uint32_t reg_id, std::vector<ring_counters> &out) const
{
    if (auto m = monitors_.find(reg_id); m != monitors_.end()) {
        monitor_collect(*mem_, m->second, out);
        return;
    }
    const registration *reg = find(reg_id);
    if (!reg)
        return;
    const uint8_t *base = mem_->base();
    for (const bool tx : {true, false}) {
        for (const uint32_t q : reg->queues) {
            const nic_queue &qu = *queues_[q];
            const served_ring &r = tx ? qu.tx : qu.rx;
            const auto *sync = reinterpret_cast<const nr_sync *>(base + r.sync_off);
            ring_counters s = counters_of(*sync, r.num_slots, tx ? NR_RING_DIR_TX : NR_RING_DIR_RX,
                                          static_cast<uint16_t>(q));
            // The I/O's own losses: frames the kernel dropped for the socket (rx), refused (tx).
            s.drops += tx ? qu.io->counters().tx_errors : qu.io->counters().rx_dropped;
            s.copies = tx ? qu.io->counters().tx_copies : qu.io->counters().rx_copies;
            out.push_back(s);
        }
    }
}

status nic_port::configure(const port_name &, const port_setting &s)
{
    return set_promiscuous(ifname_, s.promiscuous);
}

} // namespace netring::netringd
