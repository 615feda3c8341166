// A NIC port across a daemon restart: its records out (keep) and back in (adopt). The region, the
// rings' eventfds, the sockets (AF_XDP: UMEM and kernel rings; AF_PACKET: the RX ring) and the XDP
// program's fds are the same objects before and after; the successor maps the socket rings again,
// checks every number against the region, the kernel and the interface, and restarts the worker
// where the old one stopped. docs/RESTART.md, "NIC ports".
#include "nic_port.hpp"
#include "nic_sysfs.hpp"

#include "numa_place.hpp"

#include <netring/port_name.hpp>
#include <rings/bits.hpp>

#include <cstdint>
#include <set>

namespace netring::netringd {
namespace {

error refused(const std::string &key, const std::string &why)
{
    return error::from(errc::bad_message, "kept NIC " + key + ": " + why);
}

// A ring's record with the cursors given: the worker's own (stopped), or its journal's (running).
kept_served_ring keep_ring(const served_ring &r, const std::function<uint32_t(int)> &fd_id, uint32_t hwcur,
                           uint32_t hwtail, uint32_t reclaim)
{
    return {r.ring_off, r.sync_off, r.meta_bytes, r.num_slots, fd_id(r.kick.get()), fd_id(r.notify.get()),
            hwcur,      hwtail,     reclaim};
}


// A ring record back, checked against the region (its place in the metadata) and itself (the
// server's indices inside the ring; on tx, hwtail one behind reclaim as stage_tx keeps it).
status adopt_ring(const kept_served_ring &k, bool tx, const region &mem, uint32_t max_slots,
                  const std::function<unique_fd(uint32_t)> &take_fd, served_ring &r)
{
    const uint32_t n = k.num_slots;
    if (n < 2 || n > max_slots || !rings::is_pow2(n))
        return error::from(errc::bad_message, "a ring of " + std::to_string(n) + " slots");
    if (!ring_in_place(mem, k.ring_off, k.sync_off, k.meta_bytes, n))
        return error::from(errc::bad_message, "a ring lies outside its place in the region");
    if (k.hwcur >= n || k.hwtail >= n || k.reclaim >= n ||
        (tx && k.hwtail != rings::prev_index(k.reclaim, n)))
        return error::from(errc::bad_message, "a ring's indices do not hold together");
    r.ring_off = k.ring_off;
    r.sync_off = k.sync_off;
    r.meta_bytes = k.meta_bytes;
    r.num_slots = n;
    r.hwcur = k.hwcur;
    r.hwtail = k.hwtail;
    r.reclaim = k.reclaim;
    r.kick = take_fd(k.kick_fd_id);
    r.notify = take_fd(k.notify_fd_id);
    if (!r.kick.valid() || !r.notify.valid())
        return error::from(errc::bad_message, "a ring's eventfds were not kept");
    return ok_status();
}

} // namespace

bool nic_port::keepable() const
{
    // A port with only its host rings bound has no mode and no XDP program: its TAP is all it has.
    const bool nic_queues =
        std::any_of(queues_.begin(), queues_.end(), [](const auto &q) { return q && !q->host; });
    if (!mem_ || (nic_queues && ((mode_ == nic_mode::afxdp) == !xdp_ ||
                                 (mode_ != nic_mode::afxdp && mode_ != nic_mode::afpacket))))
        return false;
    afxdp_kept xsk;
    afpacket_kept packet;
    uint32_t unreclaimed = 0;
    for (const auto &q : queues_)
        if (q && (q->host ? tap_keep(*q->io, unreclaimed) < 0
                          : (mode_ == nic_mode::afxdp ? !afxdp_keep(*q->io, xsk)
                                                      : afpacket_keep(*q->io, packet) < 0)))
            return false;
    return true;
}

bool nic_port::journaled() const
{
    if (!mem_ || mode_ != nic_mode::afxdp || !xdp_ || !journal_.valid() || regs_.empty())
        return false;
    return std::all_of(queues_.begin(), queues_.end(),
                       [](const auto &q) { return !q || (!q->host && q->journal_tag != 0); });
}

kept_nic nic_port::keep(const std::function<uint32_t(int)> &fd_id, bool running) const
{
    kept_nic k;
    k.key = key_;
    k.ifname = ifname_;
    k.region = region_name_;
    k.hw_queues = hw_queues_;
    k.afpacket = mode_ == nic_mode::afpacket;
    k.running = running;
    if (journal_.valid())
        k.journal_fd_id = fd_id(journal_.fd());
    if (xdp_) {
        k.xdp_map_fd_id = fd_id(xdp_->map_fd());
        k.xdp_prog_fd_id = fd_id(xdp_->prog_fd());
        k.xdp_link_fd_id = fd_id(xdp_->link_fd());
    }
    for (const auto &q : queues_) {
        if (!q)
            continue;
        kept_nic_queue kq;
        kq.index = q->index;
        kq.users = q->users;
        kq.exclusive = q->exclusive;
        kq.journal_tag = q->journal_tag;
        if (running) { // journaled() holds: an AF_XDP queue, whose private state the worker is writing
            const queue_cursors c = journal_.read(q->index);
            kq.tx = keep_ring(q->tx, fd_id, c.tx_hwcur, rings::prev_index(c.tx_reclaim, q->tx.num_slots),
                              c.tx_reclaim);
            kq.rx = keep_ring(q->rx, fd_id, c.rx_hwcur, c.rx_hwtail, 0);
            kq.xsk_fd_id = fd_id(afxdp_socket_fd(*q->io));
            afxdp_ring_sizes(*q->io, kq.xsk_ring_size, kq.fill_ring_size);
            kq.tx_in_kernel = c.in_kernel;
            kq.tx_credits = c.credits;
            k.queues.push_back(std::move(kq));
            continue;
        }
        kq.tx = keep_ring(q->tx, fd_id, q->tx.hwcur, q->tx.hwtail, q->tx.reclaim);
        kq.rx = keep_ring(q->rx, fd_id, q->rx.hwcur, q->rx.hwtail, q->rx.reclaim);
        afxdp_kept a;
        afpacket_kept pk;
        uint32_t unreclaimed = 0;
        if (const int tun = tap_keep(*q->io, unreclaimed); tun >= 0) { // the host queue
            kq.xsk_fd_id = fd_id(tun);
            kq.tx_in_kernel = unreclaimed;
        } else if (afxdp_keep(*q->io, a)) {
            kq.xsk_fd_id = fd_id(afxdp_socket_fd(*q->io));
            kq.xsk_ring_size = a.ring_size;
            kq.fill_ring_size = a.fill_size;
            kq.tx_in_kernel = a.tx_in_kernel;
            kq.tx_credits = a.tx_credits;
            q->io->held_buffers(kq.held);
        } else if (const int fd = afpacket_keep(*q->io, pk); fd >= 0) {
            kq.xsk_fd_id = fd_id(fd);
            kq.tx_in_kernel = pk.unreclaimed;
            kq.packet_blocks = pk.blocks;
            kq.packet_block = pk.block;
            kq.packet_left = pk.left;
            kq.packet_frame_off = pk.frame_off;
            kq.packet_skip_outgoing = pk.skip_outgoing;
        }
        k.queues.push_back(std::move(kq));
    }
    for (const registration &r : regs_)
        k.registrations.push_back({r.reg_id, r.pid, r.queues, r.if_off, r.if_bytes, r.extra_count});
    for (uint32_t b = 0; b < owned_.size(); b++)
        if (owned_[b])
            k.owned.push_back(b);
    return k;
}

result<std::shared_ptr<nic_port>> nic_port::adopt(const kept_nic &k, const config &cfg,
                                                  std::shared_ptr<region> mem,
                                                  const std::function<unique_fd(uint32_t)> &take_fd)
{
    auto name = parse_port_name("netmap:" + k.ifname);
    if (!name || name->role != port_role::nic_all || name->port_key() != k.key)
        return refused(k.key, "its interface is named '" + k.ifname + "'");
    auto p = std::make_shared<nic_port>(*name, cfg);
    if (p->region_name_ != k.region || !mem || mem->name() != k.region)
        return refused(k.key, "its region " + k.region + " is not the one it lives in");
    if (auto s = p->probe(); !s)
        return refused(k.key, s.err().message);
    if (k.afpacket)
        p->hw_queues_ = 1; // one socket sees every queue, as choose_mode sets it
    if (p->hw_queues_ != k.hw_queues)
        return refused(k.key, k.ifname + " has " + std::to_string(p->hw_queues_) + " queues, the record " +
                                  std::to_string(k.hw_queues));
    // Everything is built on the side and handed to p at the end: a refusal destroys the pieces
    // (closing the kept fds) without p touching the region, which the caller discards too.
    // Only the host queue bound: no XDP program and no mode were chosen (choose_mode).
    const bool nic_queues = std::any_of(k.queues.begin(), k.queues.end(),
                                        [&](const kept_nic_queue &q) { return q.index < k.hw_queues; });
    std::unique_ptr<xdp_program> xdp;
    if (!k.afpacket && nic_queues) {
        auto x = xdp_program::adopt(k.ifname, k.hw_queues, take_fd(k.xdp_map_fd_id),
                                    take_fd(k.xdp_prog_fd_id), take_fd(k.xdp_link_fd_id));
        if (!x)
            return refused(k.key, x.err().message);
        xdp = std::move(x.value());
    }
    auto journal = nic_journal::adopt(take_fd(k.journal_fd_id));
    if (!journal)
        return refused(k.key, journal.err().message);
    const rings::region_geometry &g = mem->geometry();
    std::vector<uint8_t> owned(g.num_buffers, 0);
    for (uint32_t b : k.owned) {
        if (b < NR_RESERVED_BUFFERS || b >= g.num_buffers || owned[b])
            return refused(k.key, "buffer " + std::to_string(b) + " is not in the region, or listed twice");
        owned[b] = 1;
    }
    const nic_buffers area{mem->base() + g.buffers_offset, uint64_t{g.num_buffers} * g.buf_size, g.buf_size,
                           g.num_buffers};
    // Queue hw_queues is the host queue (its TAP), as in bind_queue.
    std::vector<std::unique_ptr<nic_queue>> queues(k.hw_queues + 1);
    for (const kept_nic_queue &kq : k.queues) {
        const std::string what = "queue " + std::to_string(kq.index) + ": ";
        if (kq.index > k.hw_queues || queues[kq.index] || kq.users == 0)
            return refused(k.key, what + "not a queue of " + k.ifname + ", listed twice, or unused");
        auto q = std::make_unique<nic_queue>();
        q->index = kq.index;
        q->host = kq.index == k.hw_queues;
        q->users = kq.users;
        q->exclusive = kq.exclusive;
        q->journal_tag = kq.journal_tag;
        // Saved while the worker ran: the cursors are the journal's last commit, which its tag
        // must show to be this queue's.
        afxdp_kept a{kq.xsk_ring_size, kq.fill_ring_size, kq.tx_in_kernel, kq.tx_credits, false, {}};
        kept_served_ring ktx = kq.tx, krx = kq.rx;
        queue_cursors c;
        if (k.running) {
            if (kq.journal_tag == 0 || journal->tag(kq.index) != kq.journal_tag || k.afpacket || q->host)
                return refused(k.key, what + "its journal slot is not this queue's");
            c = journal->read(kq.index);
            ktx.hwcur = c.tx_hwcur, ktx.reclaim = c.tx_reclaim;
            ktx.hwtail = ktx.num_slots ? rings::prev_index(c.tx_reclaim, ktx.num_slots) : 0;
            krx.hwcur = c.rx_hwcur, krx.hwtail = c.rx_hwtail;
            a.tx_in_kernel = c.in_kernel, a.tx_credits = c.credits;
            a.journaled = true;
            a.at = {c.fill_prod, c.rx_cons, c.tx_prod, c.comp_cons, c.rx_from, c.in_kernel, c.credits};
        }
        for (const bool tx : {true, false})
            if (auto s = adopt_ring(tx ? ktx : krx, tx, *mem, cfg.max_slots, take_fd, tx ? q->tx : q->rx); !s)
                return refused(k.key, what + s.err().message);
        // Frames the I/O still has, counted as reclaim() will count them back.
        if (rings::distance(q->tx.reclaim, q->tx.hwcur, q->tx.num_slots) != a.tx_in_kernel + a.tx_credits)
            return refused(k.key, what + "its tx ring and its socket disagree on the frames in flight");
        if (q->host) {
            if (kq.tx_credits != 0 || !kq.held.empty() || kq.tx_in_kernel > UINT32_MAX)
                return refused(k.key, what + "AF_XDP numbers on the host queue");
            auto io = adopt_tap_queue(take_fd(kq.xsk_fd_id), tap_name_for(k.ifname), area,
                                      static_cast<uint32_t>(kq.tx_in_kernel));
            if (!io)
                return refused(k.key, what + io.err().message);
            q->io = std::move(io.value());
            queues[kq.index] = std::move(q);
            continue;
        }
        if (k.afpacket) {
            if (kq.tx_credits != 0 || !kq.held.empty() || kq.tx_in_kernel > UINT32_MAX)
                return refused(k.key, what + "AF_XDP numbers on an AF_PACKET queue");
            const afpacket_kept pk{kq.packet_blocks,
                                   kq.packet_block,
                                   kq.packet_left,
                                   kq.packet_frame_off,
                                   static_cast<uint32_t>(kq.tx_in_kernel),
                                   kq.packet_skip_outgoing};
            auto io = adopt_afpacket_queue(take_fd(kq.xsk_fd_id), k.ifname, area, pk);
            if (!io)
                return refused(k.key, what + io.err().message);
            q->io = std::move(io.value());
            queues[kq.index] = std::move(q);
            continue;
        }
        // The socket's buffers are checked by the I/O: inside the area, each once. Not necessarily
        // the port's: an application may have swapped another buffer of the region into its rx
        // ring, which the worker then gave to the fill ring, as it would without a restart.
        auto io = adopt_afxdp_queue(take_fd(kq.xsk_fd_id), area, a, kq.held);
        if (!io)
            return refused(k.key, what + io.err().message);
        q->io = std::move(io.value());
        // The batch the predecessor committed and did not publish: its slots again. (One it
        // published wrote its slots before releasing its descriptors.)
        if (std::vector<io_slot> frames; k.running && afxdp_undelivered(*q->io, frames)) {
            const uint32_t n = q->rx.num_slots;
            if (c.rx_tail_from >= n || rings::distance(c.rx_tail_from, q->rx.hwtail, n) != frames.size())
                return refused(k.key, what + "its journal's RX batch does not fit its rx ring");
            write_rx_slots(ring_ref_of(mem->base(), q->rx), c.rx_tail_from, frames.data(),
                           static_cast<uint32_t>(frames.size()));
        }
        // The map kept its entry with the program; writing it again costs nothing and makes sure.
        if (auto s = xdp->map_socket(kq.index, afxdp_socket_fd(*q->io)); !s)
            return refused(k.key, what + s.err().message);
        queues[kq.index] = std::move(q);
    }
    std::set<uint32_t> ids;
    std::vector<uint32_t> users(k.hw_queues + 1, 0);
    std::vector<registration> regs;
    for (const kept_nic_registration &kr : k.registrations) {
        const std::string what = "registration " + std::to_string(kr.reg_id) + ": ";
        if (kr.reg_id == 0 || !ids.insert(kr.reg_id).second || kr.queues.empty() ||
            kr.extra_bufs > cfg.max_extra_bufs)
            return refused(k.key, what + "listed twice, or with no queue or too many extra buffers");
        for (uint32_t q : kr.queues) {
            if (q > k.hw_queues || !queues[q])
                return refused(k.key, what + "queue " + std::to_string(q) + " is not bound");
            users[q]++;
        }
        const uint64_t if_bytes = nr_if_block_size(static_cast<uint32_t>(2 * kr.queues.size()));
        if (kr.if_bytes != if_bytes || !mem->holds_meta(kr.if_off, if_bytes))
            return refused(k.key, what + "its if block lies outside its place in the region");
        registration r;
        r.reg_id = kr.reg_id;
        r.pid = kr.pid;
        r.queues = kr.queues;
        r.if_off = kr.if_off;
        r.if_bytes = kr.if_bytes;
        r.extra_count = kr.extra_bufs;
        regs.push_back(std::move(r));
    }
    for (uint32_t q = 0; q <= k.hw_queues; q++)
        if (queues[q] && queues[q]->users != users[q])
            return refused(k.key, "queue " + std::to_string(q) + " counts users its registrations do not");
    if (k.running) {
        // The buffers each socket holds, now that every rx slot holds what it should.
        std::vector<uint8_t> in_slots(g.num_buffers, 0);
        for (const auto &q : queues)
            for (const served_ring *r : {q ? &q->tx : nullptr, q ? &q->rx : nullptr})
                for (uint32_t i = 0; r && i < r->num_slots; i++)
                    if (const uint32_t b = rings::load_relaxed(ring_ref_of(mem->base(), *r).ring->slot[i].buf_idx);
                        b < g.num_buffers)
                        in_slots[b] = 1;
        for (const auto &q : queues)
            if (q) {
                afxdp_settle_held(*q->io, in_slots);
                // A predecessor killed between its commit and its publication left older ones.
                publish_served(ring_ref_of(mem->base(), q->tx), q->tx);
                publish_served(ring_ref_of(mem->base(), q->rx), q->rx);
            }
    }
    p->numa_node_ = interface_node(p->ifname_);
    if (nic_queues)
        p->mode_ = k.afpacket ? nic_mode::afpacket : nic_mode::afxdp;
    p->xdp_ = std::move(xdp);
    p->journal_ = std::move(journal.value());
    p->owned_ = std::move(owned);
    p->queues_ = std::move(queues);
    p->regs_ = std::move(regs);
    for (size_t i = 0; i < p->regs_.size(); i++)
        mem->add_user(); // partner: drop_user in detach
    p->mem_ = std::move(mem);
    return p;
}

std::vector<kept_monitor> nic_port::keep_monitors(const std::function<uint32_t(int)> &fd_id) const
{
    std::vector<kept_monitor> out;
    for (const auto &[id, m] : monitors_)
        out.push_back(monitor_keep(m, key_, fd_id));
    return out;
}

status nic_port::adopt_monitor(const kept_monitor &k, const std::function<unique_fd(uint32_t)> &take_fd)
{
    auto name = parse_port_name(k.name);
    if (!mem_ || !name || !name->is_monitor() || name->monitored().port_key() != key_ || k.reg_id == 0 ||
        monitors_.count(k.reg_id) || find(k.reg_id))
        return refused(key_, "monitor " + k.name + " is not one of this port, or its registration is taken");
    auto m = monitor_adopt(*mem_, k, take_fd);
    if (!m)
        return m.err();
    // A source names a NIC ring by its number, the host ring as ring 0 with the host flag
    // (attach_monitor); wire_monitors skips one whose queue is not bound.
    for (const nr_mon_source &src : m->src)
        if ((src.flags & NR_MON_SRC_HOST) ? src.ringid != 0 : src.ringid >= hw_queues_)
            return refused(key_, "monitor " + k.name + " watches ring " + std::to_string(src.ringid) + ", which " +
                                     ifname_ + " does not have");
    mem_->add_user(); // partner: drop_user in detach
    monitors_.emplace(k.reg_id, std::move(*m));
    return ok_status();
}

} // namespace netring::netringd
