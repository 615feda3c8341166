// txsync / rxsync. Three paths:
//  - pipes in shm mode: the zero-copy handoff runs right here (rings::pipe_txsync/pipe_rxsync);
//  - daemon-served ports in shm mode: publish head/cur to the sync block, kick the worker only if
//    it said it sleeps, collect hwtail;
//  - socket mode: a TXSYNC/RXSYNC round trip; the daemon runs the sync on its own mapping.
// None allocates on success; only the socket path makes system calls when nobody sleeps.
// While no control connection is there (port_control.cpp), pipes in socket mode run the shm path:
// it is the sync the daemon would run for them, on the same shared rings.
#include "port_impl.hpp"

#include "reply_codec.hpp"

#include <rings/eventfd.hpp>

#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>

namespace netring {

namespace {

// The client half of the sync-block protocol for a ring a daemon worker serves.
std::error_code daemon_sync(ring_state &r, std::string &last_error)
{
    nr_ring *ring = r.own.ring;
    nr_sync *s = r.own.sync;
    if (rings::load_acquire(s->flags.status) == NR_SYNC_PEER_GONE) {
        last_error = r.label + ": the port went away";
        return make_error_code(errc::peer_gone);
    }
    // The worker counts what it had to reset; a new count is this sync's error, reported once.
    if (const uint64_t errors = rings::load_relaxed(s->kern.errors); errors != r.seen_errors) {
        r.seen_errors = errors;
        last_error = r.label + ": netringd reset the ring (invalid head, cur or slot)";
        return make_error_code(errc::ring_reset);
    }
    const uint32_t head = rings::load_relaxed(ring->head);
    const uint32_t cur = rings::load_relaxed(ring->cur);
    rings::store_relaxed(s->app.cur, cur);
    rings::store_release(s->app.head, head); // partner: the worker's load_acquire of app.head
    // Store head, then load kern_need_kick: a store-load order, which only a full fence gives.
    // Partner: the worker's fence between setting kern_need_kick and re-reading app.head.
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (rings::load_relaxed(s->flags.kern_need_kick) != 0) {
        rings::store_relaxed(s->flags.kern_need_kick, 0u);
        rings::eventfd_signal(r.kick_fd);
    }
    const uint32_t tail = rings::load_acquire(s->kern.hwtail); // partner: the worker's store_release
    if (tail < r.own.num_slots)
        rings::store_relaxed(ring->tail, tail);
    return {};
}

// A monitor ring: like a daemon-served rx ring, except that the port going away is reported only
// once every copy made before has been read.
std::error_code monitor_sync(ring_state &r, std::string &last_error)
{
    nr_ring *ring = r.own.ring;
    nr_sync *s = r.own.sync;
    const uint32_t status = rings::load_acquire(s->flags.status);
    const uint32_t head = rings::load_relaxed(ring->head);
    rings::store_relaxed(s->app.cur, rings::load_relaxed(ring->cur));
    rings::store_release(s->app.head, head); // partner: the producer's load_acquire of app.head
    const uint32_t tail = rings::load_acquire(s->kern.hwtail); // partner: the producer's store_release
    if (tail < r.own.num_slots)
        rings::store_relaxed(ring->tail, tail);
    if (status == NR_SYNC_PEER_GONE && rings::load_relaxed(ring->tail) == head) {
        last_error = r.label + ": the monitored port went away";
        return make_error_code(errc::peer_gone);
    }
    return {};
}

} // namespace

std::error_code port::impl::fail(errc e, std::string message)
{
    last_error = std::move(message);
    return make_error_code(e);
}

std::error_code port::impl::sync_one(ring_state &r)
{
    if (port_kind == NR_PORT_KIND_DAEMON)
        return daemon_sync(r, last_error);
    if (port_kind == NR_PORT_KIND_MONITOR)
        return monitor_sync(r, last_error);
    const rings::sync_outcome o =
        r.tx ? rings::pipe_txsync(r.own, r.partner, lim, &mon) : rings::pipe_rxsync(r.own, r.partner, lim);
    if (o.kick)
        rings::eventfd_signal(r.kick_fd);
    if (!o.ok())
        return fail(rings::fault_errc(o.fault), rings::describe(o, r.label.c_str()));
    return {};
}

std::error_code port::impl::sync_socket(bool tx_dir, uint32_t ring)
{
    const proto::sync_request req{reg_id, ring};
    const uint32_t s = ++seq;
    const auto type = tx_dir ? proto::msg_type::txsync : proto::msg_type::rxsync;
    auto broke = [&](std::string why) {
        if (!opts.survive_restart)
            return fail(errc::daemon_gone, std::move(why));
        control_broke(std::move(why));
        return sync_away(tx_dir, ring); // the reconnection waits for the next call
    };
    if (auto st = send_struct(sock.get(), type, s, req); !st)
        return broke(st.err().message);
    std::byte buf[sizeof(proto::sync_reply)];
    auto h = recv_small_message(sock.get(), buf);
    if (!h)
        return broke(h.err().message);
    if (auto st = proto::check_reply_header(h.value(), proto::msg_type::sync_reply, s); !st)
        return fail(errc::daemon_gone, st.err().message); // out of step: the connection is useless
    auto rep = proto::decode_reply<proto::sync_reply>(h.value(), std::span(buf, h->length));
    if (!rep) {
        const auto &e = rep.err();
        last_error = e.message;
        return e.code;
    }
    // The daemon wrote ring->tail in the shared ring already; the reply repeats it for one ring.
    auto &dir = tx_dir ? tx : rx;
    if (ring < dir.size() && rep->tail < dir[ring].own.num_slots)
        rings::store_relaxed(dir[ring].own.ring->tail, rep->tail);
    return {};
}

std::error_code port::impl::sync(bool tx_dir, uint32_t ring)
{
    auto &dir = tx_dir ? tx : rx;
    if (ring != port::all_rings && ring >= dir.size())
        return fail(errc::bad_ring, std::string(tx_dir ? "tx" : "rx") + " ring " + std::to_string(ring) +
                                        " does not exist (" + std::to_string(dir.size()) + " rings)");
    // One increment and test per sync: the clock and the poll come once every 64 syncs at most.
    if (opts.survive_restart && (++link.syncs & 63) == 0) [[unlikely]]
        watch_control();
    if (link.state != control_state::connected) [[unlikely]] {
        if (opts.sync == sync_mode::socket)
            tend_control(); // a call that needs the daemon: reconnect if a try is due
        if (link.state != control_state::connected)
            return sync_away(tx_dir, ring);
    }
    if (opts.sync == sync_mode::socket)
        return sync_socket(tx_dir, ring);
    return sync_shm(tx_dir, ring);
}

std::error_code port::impl::sync_away(bool tx_dir, uint32_t ring)
{
    if (moves_without_daemon())
        return sync_shm(tx_dir, ring);
    if (link.state == control_state::lost)
        return fail(errc::daemon_gone, link.why_lost);
    // Until the registration is back, the daemon's rings do not move; socket mode has nobody to ask.
    return opts.sync == sync_mode::shm ? sync_shm(tx_dir, ring) : std::error_code{};
}

std::error_code port::impl::sync_shm(bool tx_dir, uint32_t ring)
{
    auto &dir = tx_dir ? tx : rx;
    if (ring != port::all_rings)
        return sync_one(dir[ring]);
    // Every ring is synced even after a failure; the first failure is the one reported. Nothing
    // but the loop runs when all rings are fine.
    std::error_code first;
    std::string first_message;
    for (ring_state &r : dir) {
        if (std::error_code ec = sync_one(r); ec && !first) {
            first = ec;
            first_message = std::move(last_error);
        }
    }
    if (first)
        last_error = std::move(first_message);
    return first;
}

std::error_code port::txsync(uint32_t ring) { return impl_->sync(true, ring); }
std::error_code port::rxsync(uint32_t ring) { return impl_->sync(false, ring); }

} // namespace netring
