// The NIC port's queues: binding a queue (its rings, buffers and I/O, all or nothing) and
// unbinding it, the buffers the port owns, the worker restarted around every change, and the
// choice of AF_XDP or AF_PACKET made by the first queue. nic_port.cpp has the port interface.
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

// Depth of an AF_XDP socket's rx, tx, completion and fill rings at the least (the fill ring holds
// that many region buffers: 8 MiB per queue at 2 KiB).
constexpr uint32_t xsk_min_ring = 4096;

} // namespace

nic_port::nic_port(const port_name &name, const config &cfg)
    : cfg_(cfg), ifname_(name.base), key_("nic:" + name.base), region_name_("nic:" + name.base)
{}

nic_port::~nic_port()
{
    worker_.stop();
    for (uint32_t q = 0; q < queues_.size(); q++)
        if (queues_[q])
            unbind_queue(q);
    xdp_.reset();
    for (registration &r : regs_)
        if (r.if_bytes)
            mem_->meta().release(r.if_off, r.if_bytes);
    for (auto &[id, m] : monitors_)
        monitor_release(*mem_, m);
    if (mem_) {
        std::vector<uint32_t> rest; // extra buffers, and anything an application moved out of the rings
        for (uint32_t b = 0; b < owned_.size(); b++)
            if (owned_[b])
                rest.push_back(b);
        give_bufs(rest);
    }
}

bool nic_port::take_bufs(uint32_t n, std::vector<uint32_t> &out)
{
    const size_t first = out.size();
    if (!mem_->pool().take(n, out))
        return false;
    for (size_t i = first; i < out.size(); i++)
        owned_[out[i]] = 1;
    return true;
}

// Gives back the buffers of `bufs` this port owns; anything else (an index an application wrote,
// a buffer listed twice) is skipped, so the pool never receives a buffer that is not ours.
void nic_port::give_bufs(std::span<const uint32_t> bufs)
{
    std::vector<uint32_t> mine;
    for (const uint32_t b : bufs) {
        if (b < owned_.size() && owned_[b]) {
            owned_[b] = 0;
            mine.push_back(b);
        }
    }
    mem_->pool().give(mine);
}

// What the interface is: index, queue count, MAC and MTU, read once when the port is created.
status nic_port::probe()
{
    auto facts = probe_interface(ifname_);
    if (!facts)
        return facts.err();
    hw_queues_ = facts->hw_queues;
    std::memcpy(mac_, facts->mac, sizeof mac_);
    mtu_ = facts->mtu;
    return ok_status();
}

nic_buffers nic_port::buffers() const
{
    const auto &g = mem_->geometry();
    return {mem_->base() + g.buffers_offset, uint64_t{g.num_buffers} * g.buf_size, g.buf_size, g.num_buffers};
}

result<std::vector<uint32_t>> nic_port::queues_for(const port_name &name) const
{
    std::vector<uint32_t> qs;
    const uint32_t host = hw_queues_;
    switch (name.role) {
    case port_role::nic_ring:
        if (name.ring >= hw_queues_)
            return error::from(errc::bad_ring, name.str() + ": " + ifname_ + " has " +
                                                   std::to_string(hw_queues_) + " queue" +
                                                   (hw_queues_ == 1 ? "" : "s") +
                                                   (mode_ == nic_mode::afpacket ? " in AF_PACKET mode" : ""));
        qs.push_back(name.ring);
        break;
    case port_role::host: qs.push_back(host); break;
    case port_role::nic_host:
    case port_role::nic_all:
        for (uint32_t q = 0; q < hw_queues_; q++)
            qs.push_back(q);
        if (name.role == port_role::nic_host)
            qs.push_back(host);
        break;
    default: return error::from(errc::bad_port_name, name.str() + " is not a NIC port name");
    }
    return qs;
}

status nic_port::reserve_ring(served_ring &r, uint32_t slots, uint16_t ringid, uint16_t dir,
                              std::vector<uint32_t> &bufs)
{
    if (auto s = served_ring_reserve(*mem_, r, slots, region_name_); !s)
        return s;
    const size_t first = bufs.size();
    if (!take_bufs(slots, bufs))
        return error::from(errc::out_of_buffers, "region " + region_name_ + " has " +
                                                     std::to_string(mem_->pool().available()) +
                                                     " free buffers, a ring of " + std::to_string(slots) +
                                                     " slots needs as many; raise region_buffers");
    // Received frames may start past the buffer's beginning (AF_XDP copy mode: +256).
    served_ring_format(*mem_, r, ringid, dir, std::span<const uint32_t>(bufs).subspan(first), true);
    return ok_status();
}

void nic_port::release_ring(served_ring &r)
{
    if (r.meta_bytes)
        mem_->meta().release(r.ring_off, r.meta_bytes);
    r = served_ring{};
}

// Rings, buffers and I/O of queue q, all or nothing.
status nic_port::bind_queue(uint32_t q, const ring_request &req)
{
    std::vector<uint32_t> taken;
    auto qu = std::make_unique<nic_queue>();
    qu->index = q;
    qu->host = q == hw_queues_;
    const uint32_t tx_slots = req.tx_slots ? req.tx_slots : cfg_.default_slots;
    const uint32_t rx_slots = req.rx_slots ? req.rx_slots : cfg_.default_slots;
    auto undo = [&](error e) {
        qu->io.reset(); // its socket goes before its buffers do
        release_ring(qu->tx);
        release_ring(qu->rx);
        give_bufs(taken);
        return e;
    };
    if (auto s = reserve_ring(qu->tx, tx_slots, static_cast<uint16_t>(q), NR_RING_DIR_TX, taken); !s)
        return undo(s.err());
    if (auto s = reserve_ring(qu->rx, rx_slots, static_cast<uint16_t>(q), NR_RING_DIR_RX, taken); !s)
        return undo(s.err());

    const nic_buffers mem = buffers();
    result<std::unique_ptr<nic_queue_io>> io = error::from(errc::internal, "no I/O");
    if (qu->host) {
        io = open_tap_queue(tap_name_for(ifname_), mac_, mtu_, mem);
    } else if (mode_ == nic_mode::afpacket) {
        io = open_afpacket_queue(ifname_, mem, rx_slots);
    } else {
        // The fill ring's buffers.
        const size_t first = taken.size();
        // The socket's rings (and the fill ring's buffers) are at least xsk_min_ring deep whatever
        // the netmap ring's size: they absorb what arrives while the worker waits for a CPU.
        const uint32_t xsk_ring = std::max(rx_slots, xsk_min_ring);
        if (!take_bufs(xsk_ring, taken))
            return undo(error::from(errc::out_of_buffers, "region " + region_name_ +
                                                              " has too few free buffers for " + ifname_ +
                                                              " queue " + std::to_string(q) +
                                                              "'s fill ring; raise region_buffers"));
        io = open_afxdp_queue(ifname_, q, mem, std::span<const uint32_t>(taken).subspan(first), xsk_ring);
    }
    if (!io)
        return undo(io.err());
    qu->io = std::move(io.value());
    if (!qu->host && mode_ == nic_mode::afxdp)
        if (auto s = xdp_->map_socket(q, afxdp_socket_fd(*qu->io)); !s)
            return undo(s.err());
    journal_start(*qu);
    if (queues_.size() <= q)
        queues_.resize(q + 1);
    queues_[q] = std::move(qu);
    return ok_status();
}

void nic_port::unbind_queue(uint32_t q)
{
    std::unique_ptr<nic_queue> &qu = queues_[q];
    if (!qu)
        return;
    if (xdp_ && !qu->host)
        xdp_->unmap_socket(q);
    if (qu->journal_tag)
        journal_.free_slot(q);
    // What goes back to the pool: the buffers in the rings' slots and those the I/O holds. An
    // application may have swapped buffers between rings: whatever sits in these rings now leaves
    // circulation with them (give_bufs skips indices that are not the port's).
    std::vector<uint32_t> back;
    qu->io->held_buffers(back);
    qu->io.reset();
    for (const served_ring *r : {&qu->tx, &qu->rx}) {
        const auto *ring = reinterpret_cast<const nr_ring *>(mem_->base() + r->ring_off);
        for (uint32_t i = 0; i < r->num_slots; i++)
            back.push_back(rings::load_relaxed(const_cast<nr_slot &>(ring->slot[i]).buf_idx));
    }
    give_bufs(back);
    // The application may still have the rings mapped: tell it they are gone before they are reused.
    for (served_ring *r : {&qu->tx, &qu->rx}) {
        rings::mark_peer_gone({reinterpret_cast<nr_ring *>(mem_->base() + r->ring_off),
                               reinterpret_cast<nr_sync *>(mem_->base() + r->sync_off), r->num_slots});
        release_ring(*r);
    }
    qu.reset();
}

status nic_port::open_region(const reg_context &ctx)
{
    if (mem_)
        return ok_status();
    if (auto s = probe(); !s)
        return s;
    numa_node_ = interface_node(ifname_);
    auto mem = ctx.open_region(region_name_, numa_node_);
    if (!mem)
        return mem.err();
    auto journal = nic_journal::create(ifname_);
    if (!journal)
        return journal.err();
    mem_ = std::move(mem.value());
    journal_ = std::move(journal.value());
    owned_.assign(mem_->geometry().num_buffers, 0);
    return ok_status();
}

// A queue whose I/O stages gets the journal slot of its index, starting from where its rings
// stand; the worker is stopped. A queue past the journal's slots gets none: its port is then not
// journaled() (saved only at a handoff), and the worker's commits for it go nowhere.
void nic_port::journal_start(nic_queue &q)
{
    xsk_cursors x;
    if (!journal_.valid() || q.index >= nic_journal::slots || !q.io->staged(x))
        return;
    q.journal_tag = journal_.claim(q.index);
    journal_.reset(q.index, {q.tx.hwcur, q.tx.reclaim, q.rx.hwcur, q.rx.hwtail, x.fill_prod, x.rx_cons,
                             x.tx_prod, x.comp_cons, x.in_kernel, x.credits, x.rx_from, q.rx.hwtail});
}

void nic_port::restart_worker()
{
    std::vector<nic_queue *> active;
    for (auto &q : queues_)
        if (q)
            active.push_back(q.get());
    // start() fails only when it cannot make its eventfd; the rings then stay unserved and the
    // clients see no progress, which the log explains.
    wire_monitors();
    rings::buffer_limits lim = mem_->limits();
    lim.offset_mask = lim.buf_size - 1;
    (void)worker_.start(mem_->base(), lim, std::move(active), cfg_.worker_spin, numa_node_,
                        monitor_env_of(*mem_), journal_.valid() ? &journal_ : nullptr);
}

// Which monitor rings each bound queue feeds; the worker is stopped.
void nic_port::wire_monitors()
{
    for (auto &q : queues_) {
        if (!q)
            continue;
        q->tx_mon.clear();
        q->rx_mon.clear();
    }
    for (const auto &[id, m] : monitors_) {
        for (size_t i = 0; i < m.rings.size(); i++) {
            const nr_mon_source &s = m.src[i];
            const uint32_t q = (s.flags & NR_MON_SRC_HOST) ? hw_queues_ : s.ringid;
            if (q >= queues_.size() || !queues_[q] || ((s.flags & NR_MON_SRC_HOST) != 0) != queues_[q]->host)
                continue; // not bound (yet), or a ring the interface does not have in this mode
            ((s.flags & NR_MON_SRC_TX) ? queues_[q]->tx_mon : queues_[q]->rx_mon).push_back(&m.rings[i]);
        }
    }
}

// The first NIC queue decides how the interface is bound, for as long as the port lives.
status nic_port::choose_mode(const port_name &name)
{
    if (mode_ != nic_mode::auto_select || name.role == port_role::host)
        return ok_status();
    if (cfg_.nic != nic_mode::afpacket) {
        auto prog = xdp_program::attach(ifname_, hw_queues_);
        if (prog) {
            xdp_ = std::move(prog.value());
            mode_ = nic_mode::afxdp;
            return ok_status();
        }
        if (cfg_.nic == nic_mode::afxdp)
            return error::from(errc::not_supported, "cannot attach the XDP program to " + ifname_ +
                                                        " (nic_mode afxdp): " + prog.err().message);
        fallback_reason_ = prog.err().message;
    }
    mode_ = nic_mode::afpacket;
    hw_queues_ = 1; // one socket sees every queue
    return ok_status();
}

} // namespace netring::netringd
