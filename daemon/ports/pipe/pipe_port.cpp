#include "pipe_port.hpp"

#include <net/if.h>

#include <rings/bits.hpp>
#include <rings/region_format.hpp>

#include <sys/eventfd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace netring::netringd {
namespace {

error limit(const std::string &what) { return error::from(errc::limit_exceeded, what); }

// Wakes whoever sleeps on `fd`. A full counter (EAGAIN) already means "wake up", so it is fine.
void notify(const unique_fd &fd)
{
    if (fd.valid())
        (void)::eventfd_write(fd.get(), 1);
}

} // namespace

// The pipes of an interface (netmap:eth0{1) live in the interface's region, as netmap's do, so a
// program can move buffers between the NIC's rings and its pipes without a copy; other pipes live
// in a region of their parent's name.
namespace {

std::string pipe_region_name(const std::string &parent)
{
    return (::if_nametoindex(parent.c_str()) != 0 ? "nic:" : "pipe:") + parent;
}

} // namespace

pipe_port::pipe_port(const port_name &name, const config &cfg)
    : cfg_(cfg), parent_(pipe_region_name(name.base)), key_(name.port_key())
{
    ends_[0].name = "netmap:" + name.base + "{" + name.port;
    ends_[1].name = "netmap:" + name.base + "}" + name.port;
}

pipe_port::~pipe_port() { release_all(); }

pipe_port::end_rec *pipe_port::find_end(uint32_t reg_id)
{
    for (end_rec &e : ends_)
        if (e.open && e.reg_id == reg_id)
            return &e;
    return nullptr;
}

const pipe_port::end_rec *pipe_port::find_end(uint32_t reg_id) const
{
    return const_cast<pipe_port *>(this)->find_end(reg_id);
}

rings::ring_ref pipe_port::ref(const ring_rec &r) const
{
    uint8_t *base = mem_->base();
    return {reinterpret_cast<nr_ring *>(base + r.ring_off), reinterpret_cast<nr_sync *>(base + r.sync_off),
            r.num_slots};
}

status pipe_port::check_request(const port_name &name, const ring_request &req) const
{
    if (req.tx_only || req.rx_only)
        return error::from(errc::not_supported,
                           "pipes carry both directions: /T and /R are not supported (" + name.str() + ")");
    const struct {
        const char *what;
        uint32_t v;
    } ring_counts[] = {{"tx_rings", req.tx_rings}, {"rx_rings", req.rx_rings}},
      slot_counts[] = {{"tx_slots", req.tx_slots}, {"rx_slots", req.rx_slots}};
    for (const auto &c : ring_counts)
        if (c.v > cfg_.max_rings)
            return limit(std::string(c.what) + " " + std::to_string(c.v) + " exceeds max_rings " +
                         std::to_string(cfg_.max_rings));
    for (const auto &c : slot_counts) {
        if (c.v == 0)
            continue;
        if (c.v > cfg_.max_slots)
            return limit(std::string(c.what) + " " + std::to_string(c.v) + " exceeds max_slots " +
                         std::to_string(cfg_.max_slots));
        if (c.v < 2 || !rings::is_pow2(c.v))
            return limit(std::string(c.what) + " " + std::to_string(c.v) + " is not a power of two in 2.." +
                         std::to_string(cfg_.max_slots));
    }
    if (req.extra_bufs > cfg_.max_extra_bufs)
        return limit("extra_bufs " + std::to_string(req.extra_bufs) + " exceeds max_extra_bufs " +
                     std::to_string(cfg_.max_extra_bufs));
    return ok_status();
}

status pipe_port::reserve_ring(ring_rec &r, uint32_t slots)
{
    const uint64_t ring_bytes = ring_block_bytes(slots);
    const uint64_t bytes = ring_bytes + sizeof(nr_sync);
    const auto off = mem_->meta().reserve(bytes);
    if (!off)
        return error::from(errc::out_of_buffers,
                           "region " + parent_ + " metadata area has " +
                               std::to_string(mem_->meta().free_bytes()) +
                               " bytes free, too few for this pipe; raise region_meta_bytes");
    r.ring_off = *off;
    r.sync_off = *off + ring_bytes;
    r.meta_bytes = bytes;
    r.num_slots = slots;
    return ok_status();
}

// Allocates everything the pipe needs, all or nothing: on failure release_all() undoes the part
// that was done, and the caller destroys the pipe.
status pipe_port::create(const reg_context &ctx, int creator, const ring_request &req)
{
    dirs_[creator] = {std::max(1u, req.tx_rings), req.tx_slots ? req.tx_slots : cfg_.default_slots};
    dirs_[1 - creator] = {std::max(1u, req.rx_rings), req.rx_slots ? req.rx_slots : cfg_.default_slots};
    auto mem = ctx.open_region(parent_, -1);
    if (!mem)
        return mem.err();
    mem_ = std::move(mem.value());

    uint64_t needed = 0;
    for (const direction &d : dirs_)
        needed += 2ull * d.rings * d.slots;
    if (needed > mem_->pool().available())
        return error::from(errc::out_of_buffers, "region " + parent_ + " has " +
                                                     std::to_string(mem_->pool().available()) +
                                                     " free buffers, this pipe needs " +
                                                     std::to_string(needed) + "; raise region_buffers");

    // A end: tx is direction 0, rx direction 1; B end the other way round.
    for (int e = 0; e < 2; e++) {
        ends_[e].tx.resize(dirs_[e].rings);
        ends_[e].rx.resize(dirs_[1 - e].rings);
    }
    for (int ei = 0; ei < 2; ei++) {
        end_rec &e = ends_[ei];
        for (auto *group : {&e.tx, &e.rx}) {
            const uint32_t slots = group == &e.tx ? dirs_[ei].slots : dirs_[1 - ei].slots;
            for (ring_rec &r : *group) {
                if (auto s = reserve_ring(r, slots); !s)
                    return s;
                r.notify.reset(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
                if (!r.notify.valid())
                    return error::from_errno(errno, "eventfd for " + e.name);
            }
        }
        e.if_bytes = nr_if_block_size(static_cast<uint32_t>(e.tx.size() + e.rx.size()));
        const auto off = mem_->meta().reserve(e.if_bytes);
        if (!off) {
            e.if_bytes = 0;
            return error::from(errc::out_of_buffers,
                               "region " + parent_ + " metadata area is full; raise region_meta_bytes");
        }
        e.if_off = *off;
    }
    if (!mem_->pool().take(static_cast<uint32_t>(needed), bufs_))
        return error::from(errc::out_of_buffers, "region " + parent_ + " ran out of buffers");

    // Format: each ring with its own buffers, then the pairs, then the if blocks.
    uint8_t *base = mem_->base();
    const auto &g = mem_->geometry();
    size_t next_buf = 0;
    for (end_rec &e : ends_) {
        for (auto *group : {&e.tx, &e.rx}) {
            const uint16_t dir = group == &e.tx ? NR_RING_DIR_TX : NR_RING_DIR_RX;
            for (size_t i = 0; i < group->size(); i++) {
                ring_rec &r = (*group)[i];
                rings::init_ring(base, r.ring_off, g, r.num_slots, static_cast<uint16_t>(i), dir,
                                 std::span<const uint32_t>(bufs_).subspan(next_buf, r.num_slots));
                rings::init_sync(base, r.sync_off);
                next_buf += r.num_slots;
            }
        }
    }
    for (int e = 0; e < 2; e++) {
        for (size_t i = 0; i < ends_[e].tx.size(); i++)
            rings::pipe_pair_init(ref(ends_[e].tx[i]), ref(ends_[1 - e].rx[i]));
    }
    // One monitor table per ring pair, named by the pair's tx ring (its sender feeds it).
    for (int d = 0; d < 2; d++) {
        tables_[d].resize(ends_[d].tx.size());
        for (size_t i = 0; i < tables_[d].size(); i++) {
            table_rec &t = tables_[d][i];
            const uint64_t bytes = rings::round_up(sizeof(nr_mon_table), rings::arena::alignment);
            const auto off = mem_->meta().reserve(bytes);
            if (!off || *off > 0xffffffffu) {
                if (off)
                    mem_->meta().release(*off, bytes);
                return error::from(errc::out_of_buffers,
                                   "region " + parent_ + " metadata area is full; raise region_meta_bytes");
            }
            t.off = *off;
            t.bytes = bytes;
            std::memset(base + t.off, 0, sizeof(nr_mon_table));
            ref(ends_[d].tx[i]).sync->flags.mon_table_ofs = static_cast<uint32_t>(t.off);
        }
    }
    for (int e = 0; e < 2; e++) {
        const end_rec &me = ends_[e];
        const end_rec &peer = ends_[1 - e];
        std::vector<rings::if_ring_entry> entries;
        for (size_t i = 0; i < me.tx.size(); i++)
            entries.push_back(
                {me.tx[i].ring_off, me.tx[i].sync_off, peer.rx[i].ring_off, peer.rx[i].sync_off});
        for (size_t i = 0; i < me.rx.size(); i++)
            entries.push_back(
                {me.rx[i].ring_off, me.rx[i].sync_off, peer.tx[i].ring_off, peer.tx[i].sync_off});
        rings::init_if(base, me.if_off, std::string_view(me.name).substr(7),
                       static_cast<uint32_t>(me.tx.size()), static_cast<uint32_t>(me.rx.size()),
                       NR_PORT_KIND_PIPE, entries, 0);
    }
    return ok_status();
}

void pipe_port::release_all()
{
    if (!mem_)
        return;
    // Nobody produces any more (the pipe goes with its last holder), so every monitor ring goes.
    for (auto &[id, m] : monitors_)
        monitor_release(*mem_, m.reg);
    monitors_.clear();
    for (monitor_rec &m : retired_)
        monitor_release(*mem_, m.reg);
    retired_.clear();
    for (auto &dir : tables_) {
        for (const table_rec &t : dir)
            if (t.bytes)
                mem_->meta().release(t.off, t.bytes);
        dir.clear();
    }
    for (end_rec &e : ends_) {
        for (auto *group : {&e.tx, &e.rx}) {
            for (ring_rec &r : *group)
                if (r.meta_bytes)
                    mem_->meta().release(r.ring_off, r.meta_bytes);
            group->clear(); // closes the eventfds
        }
        if (e.if_bytes)
            mem_->meta().release(e.if_off, e.if_bytes);
        e.if_bytes = 0;
    }
    mem_->pool().give(bufs_);
    bufs_.clear();
    mem_.reset();
}

result<attach_result> pipe_port::attach(const reg_context &ctx, const port_name &name,
                                        const ring_request &req)
{
    const int e = end_of(name);
    end_rec &me = ends_[e];
    if (auto s = check_request(name, req); !s)
        return s.err();
    if (me.open)
        return error::from(errc::port_busy,
                           me.name + " is already open (pid " + std::to_string(me.pid) + ")");
    if (broken_)
        return error::from(errc::port_busy, "pipe is closing: the other end is still open");
    if (!mem_) {
        if (auto s = create(ctx, e, req); !s) {
            release_all();
            return s.err();
        }
    }

    uint32_t head = 0;
    if (req.extra_bufs) {
        const size_t before = bufs_.size();
        if (!mem_->pool().take(req.extra_bufs, bufs_))
            return error::from(errc::out_of_buffers,
                               "region " + parent_ + " has " + std::to_string(mem_->pool().available()) +
                                   " free buffers, this registration needs " +
                                   std::to_string(req.extra_bufs) + " extra buffers; raise region_buffers");
        head = rings::link_buffers(mem_->base(), mem_->geometry(),
                                   std::span<const uint32_t>(bufs_).subspan(before));
    }
    rings::store_relaxed(reinterpret_cast<nr_if *>(mem_->base() + me.if_off)->ni_bufs_head, head);

    me.open = true;
    me.reg_id = ctx.reg_id;
    me.pid = ctx.pid;
    me.exclusive = req.exclusive;
    me.extra_bufs = req.extra_bufs;
    mem_->add_user(); // partner: drop_user in detach

    return answer_of(ctx.reg_id);
}

result<attach_result> pipe_port::answer_of(uint32_t reg_id) const
{
    if (const auto m = monitors_.find(reg_id); m != monitors_.end() && mem_)
        return monitor_answer(*mem_, m->second.reg);
    const end_rec *found = find_end(reg_id);
    if (!found)
        return error::from(errc::not_registered, "no open end or monitor of " + key_ + " is registration " +
                                                     std::to_string(reg_id));
    const end_rec &me = *found;
    const int e = &me == &ends_[0] ? 0 : 1;
    const end_rec &peer = ends_[1 - e];
    attach_result a;
    a.mem = mem_.get();
    a.if_offset = me.if_off;
    a.port_kind = NR_PORT_KIND_PIPE;
    a.tx_rings = static_cast<uint32_t>(me.tx.size());
    a.rx_rings = static_cast<uint32_t>(me.rx.size());
    a.tx_slots = dirs_[e].slots;
    a.rx_slots = dirs_[1 - e].slots;
    a.extra_bufs = me.extra_bufs;
    a.fds.push_back(mem_->fd());
    // A ring's kick eventfd is its partner's notify eventfd: the peer process sleeps on it.
    for (size_t i = 0; i < me.tx.size(); i++) {
        a.fds.push_back(peer.rx[i].notify.get());
        a.fds.push_back(me.tx[i].notify.get());
    }
    for (size_t i = 0; i < me.rx.size(); i++) {
        a.fds.push_back(peer.tx[i].notify.get());
        a.fds.push_back(me.rx[i].notify.get());
    }
    return a;
}

bool pipe_port::detach(uint32_t reg_id)
{
    if (auto it = monitors_.find(reg_id); it != monitors_.end()) {
        detach_monitor(it);
        return !ends_[0].open && !ends_[1].open;
    }
    end_rec *me = find_end(reg_id);
    if (me) {
        me->open = false;
        mem_->drop_user();
        end_rec &peer = ends_[me == &ends_[0] ? 1 : 0];
        if (peer.open) {
            broken_ = true;
            for (auto *group : {&peer.tx, &peer.rx}) {
                for (const ring_rec &r : *group) {
                    rings::mark_peer_gone(ref(r));
                    notify(r.notify); // a peer asleep in poll() wakes and sees peer_gone
                }
            }
        } else {
            // The pipe is finished: its monitors read what is left and stop.
            for (const auto &[id, m] : monitors_)
                monitor_mark_gone(*mem_, m.reg);
        }
        reclaim_retired(false);
    }
    return !ends_[0].open && !ends_[1].open;
}

sync_result pipe_port::sync_one(end_rec &e, bool tx, uint32_t ring)
{
    end_rec &peer = ends_[&e == &ends_[0] ? 1 : 0];
    std::vector<ring_rec> &own = tx ? e.tx : e.rx;
    std::vector<ring_rec> &partners = tx ? peer.rx : peer.tx;
    const rings::buffer_limits lim = mem_->limits();
    const rings::mon_env env = monitor_env_of(*mem_);
    const char *dir = tx ? "tx" : "rx";
    if (ring != all_rings && ring >= own.size()) {
        return {errc::bad_ring,
                e.name + " has " + std::to_string(own.size()) + " " + dir + " ring" +
                    (own.size() == 1 ? "" : "s") + "; ring " + std::to_string(ring) + " does not exist",
                0};
    }
    const size_t first = ring == all_rings ? 0 : ring;
    const size_t last = ring == all_rings ? own.size() : ring + 1;
    sync_result res;
    for (size_t i = first; i < last; i++) {
        const rings::ring_ref me = ref(own[i]);
        const rings::ring_ref other = ref(partners[i]);
        const rings::sync_outcome o =
            tx ? rings::pipe_txsync(me, other, lim, &env) : rings::pipe_rxsync(me, other, lim);
        if (o.kick)
            notify(partners[i].notify); // this ring's kick eventfd
        if (!o.ok() && res.ok()) {
            res.code = rings::fault_errc(o.fault);
            const std::string ring_name = e.name + " " + dir + " ring " + std::to_string(i);
            res.message = rings::describe(o, ring_name.c_str());
        }
        if (ring != all_rings)
            res.tail = rings::load_relaxed(me.ring->tail);
    }
    return res;
}

sync_result pipe_port::sync(uint32_t reg_id, ring_dir dir, uint32_t ring)
{
    end_rec *e = find_end(reg_id);
    if (!e && monitors_.count(reg_id))
        return {errc::not_supported, "a monitor of a pipe syncs through shared memory only", 0};
    if (!e)
        return {errc::not_registered, "registration " + std::to_string(reg_id) + " is not on " + key_, 0};
    return sync_one(*e, dir == ring_dir::tx, ring);
}

port_details pipe_port::info(const port_name &name) const
{
    const int e = end_of(name);
    port_details d;
    d.port_kind = NR_PORT_KIND_PIPE;
    d.region_name = parent_;
    d.buf_size = mem_ ? mem_->geometry().buf_size : cfg_.buf_size;
    if (mem_) {
        d.tx_rings = static_cast<uint32_t>(ends_[e].tx.size());
        d.rx_rings = static_cast<uint32_t>(ends_[e].rx.size());
        d.tx_slots = dirs_[e].slots;
        d.rx_slots = dirs_[1 - e].slots;
    } else { // not created yet: what a default REGIF would get
        d.tx_rings = d.rx_rings = 1;
        d.tx_slots = d.rx_slots = cfg_.default_slots;
    }
    d.clients = static_cast<uint32_t>(ends_[0].open) + static_cast<uint32_t>(ends_[1].open);
    d.exclusive = ends_[e].open && ends_[e].exclusive;
    return d;
}

void pipe_port::collect_stats(uint32_t reg_id, std::vector<ring_counters> &out) const
{
    if (auto it = monitors_.find(reg_id); it != monitors_.end()) {
        monitor_collect(*mem_, it->second.reg, out);
        return;
    }
    const end_rec *e = find_end(reg_id);
    if (!e)
        return;
    for (const auto *group : {&e->tx, &e->rx}) {
        for (size_t i = 0; i < group->size(); i++) {
            const rings::ring_ref r = ref((*group)[i]);
            out.push_back(counters_of(*r.sync, r.num_slots, group == &e->tx ? NR_RING_DIR_TX : NR_RING_DIR_RX,
                                      static_cast<uint16_t>(i)));
        }
    }
}

} // namespace netring::netringd
