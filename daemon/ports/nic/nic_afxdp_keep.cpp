// An AF_XDP queue across a restart (nic_io.hpp, class in nic_afxdp.hpp): what a handoff keeps of
// it, the queue adopted from its socket, and after a crash the socket's rings moved forward to the
// worker's last journal commit (nic_journal.hpp), its unpublished RX batch read again and the
// buffers it holds derived from its rings.
#include "nic_afxdp.hpp"

#include <rings/bits.hpp>

#include <string>

namespace netring::netringd {

status afxdp_queue::adopt(unique_fd xsk, const afxdp_kept &k, std::span<const uint32_t> held)
{
    auto refuse = [](const std::string &why) {
        return error::from(errc::bad_message, "kept AF_XDP queue: " + why);
    };
    if (!xsk.valid())
        return refuse("its socket was not kept");
    if (k.fill_size < held.size())
        return refuse(std::to_string(held.size()) + " buffers for a fill ring of " +
                      std::to_string(k.fill_size));
    held_.assign(mem_.num_buffers, 0);
    for (uint32_t b : held) {
        if (b >= mem_.num_buffers || held_[b])
            return refuse("buffer " + std::to_string(b) + " is outside the area or listed twice");
        held_[b] = 1;
    }
    if (auto st = kept_maps_.map(xsk.get(), {k.fill_size, k.ring_size, k.ring_size, k.ring_size}, &fill_,
                                 &comp_, &rx_, &tx_);
        !st)
        return refuse(st.err().message);
    if (k.journaled) {
        if (auto st = roll_forward(k.at); !st)
            return refuse(st.err().message);
    }
    // What waits on the RX ring must be buffers the record says the queue holds: then receive()
    // hands out only what is ours. The fill ring is only checked to stay inside the area: the
    // kernel publishes its consumer index lazily (when it next refreshes its cached entries), so
    // entries it has already taken, and that may have come back through the RX ring and left the
    // queue since, can still look pending there.
    const uint32_t in_fill = fill_.cached_prod - (fill_.cached_cons - fill_.size);
    const uint32_t in_rx = rx_.cached_prod - rx_.cached_cons;
    if (in_fill > fill_.size || in_rx > rx_.size || (!k.journaled && in_rx > held.size()))
        return refuse("its rings hold more than its " + std::to_string(held.size()) + " buffers");
    for (uint32_t i = 0; i < in_fill; i++)
        if (*xsk_ring_prod__fill_addr(&fill_, fill_.cached_cons - fill_.size + i) >= mem_.area_bytes)
            return refuse("its fill ring holds an address outside the area");
    for (uint32_t i = 0; i < in_rx && !k.journaled; i++) { // journaled: settle_held() derives them
        const uint64_t a = xsk_ring_cons__rx_desc(&rx_, rx_.cached_cons + i)->addr;
        if (a >= mem_.area_bytes || !held_[a / mem_.buf_size])
            return refuse("its RX ring holds a buffer the record does not");
    }
    // Each of the TX and completion rings holds no more than the frames in flight; not their sum,
    // for the same reason as the fill ring: a driver that sends on its own may complete a frame
    // before it publishes how far it consumed the TX ring.
    const uint32_t in_tx = tx_.cached_prod - (tx_.cached_cons - tx_.size);
    const uint32_t in_comp = comp_.cached_prod - comp_.cached_cons;
    if (in_tx > tx_.size || in_comp > comp_.size || in_tx > k.tx_in_kernel || in_comp > k.tx_in_kernel)
        return refuse("its TX and completion rings hold more frames than it sent");
    submitted_ = k.tx_in_kernel;
    completed_ = 0;
    credits_ = k.tx_credits;
    fd_ = xsk.get();
    kept_fd_ = std::move(xsk);
    return ok_status();
}

// The rings as the journal's commit left them: indices the worker owns that lag behind the commit
// are moved to it (the entries they publish were written before the commit), except the RX
// consumer, whose staged batch waits in pending_rx_ for its redelivery and the next publish().
// Each commit index may only be ahead of the kernel's by what one pass stages.
status afxdp_queue::roll_forward(const xsk_cursors &at)
{
    auto behind = [](uint32_t kernel, uint32_t commit, uint32_t size) { return commit - kernel <= size; };
    const uint32_t fill_now = fill_.cached_prod, tx_now = tx_.cached_prod, comp_now = comp_.cached_cons,
                   rx_now = rx_.cached_cons;
    if (!behind(fill_now, at.fill_prod, fill_.size) || !behind(tx_now, at.tx_prod, tx_.size) ||
        !behind(comp_now, at.comp_cons, comp_.size) || at.comp_cons - comp_now > comp_.cached_prod - comp_now)
        return error::from(errc::bad_message, "the journal's fill, TX or completion index is not one pass "
                                              "ahead of the socket's");
    if (rx_now != at.rx_cons && (rx_now != at.rx_from || at.rx_cons - at.rx_from > rx_.cached_prod - rx_now))
        return error::from(errc::bad_message, "the journal's RX batch is not the one on the socket's RX ring");
    __atomic_store_n(fill_.producer, at.fill_prod, __ATOMIC_RELEASE);
    __atomic_store_n(tx_.producer, at.tx_prod, __ATOMIC_RELEASE);
    __atomic_store_n(comp_.consumer, at.comp_cons, __ATOMIC_RELEASE);
    fill_.cached_prod = at.fill_prod;
    tx_.cached_prod = at.tx_prod;
    comp_.cached_cons = at.comp_cons;
    pending_rx_ = at.rx_cons - rx_now;
    rx_.cached_cons = at.rx_cons;
    kick_wanted_ = true; // TX descriptors may wait for a sendto()
    journaled_ = true;
    return ok_status();
}

bool afxdp_queue::undelivered(std::vector<io_slot> &frames) const
{
    frames.clear();
    for (uint32_t i = rx_.cached_cons - pending_rx_; i != rx_.cached_cons; i++) {
        const xdp_desc &d = *xsk_ring_cons__rx_desc(&rx_, i);
        if (classify(d) == rx_kind::frame)
            frames.push_back(frame_of(d));
    }
    return pending_rx_ != 0;
}

void afxdp_queue::settle_held(const std::vector<uint8_t> &in_slots)
{
    if (!journaled_)
        return;
    held_.assign(mem_.num_buffers, 0);
    auto hold = [&](uint64_t addr) {
        if (addr < mem_.area_bytes)
            held_[addr / mem_.buf_size] = 1;
    };
    for (uint32_t i = __atomic_load_n(fill_.consumer, __ATOMIC_ACQUIRE); i != fill_.cached_prod; i++) {
        const uint64_t a = *xsk_ring_prod__fill_addr(&fill_, i);
        if (const uint64_t b = a / mem_.buf_size; !(b < in_slots.size() && in_slots[b]))
            hold(a);
    }
    for (uint32_t i = rx_.cached_cons; i != rx_.cached_prod; i++) // the staged batch is delivered
        hold(xsk_ring_cons__rx_desc(&rx_, i)->addr);
}

result<std::unique_ptr<nic_queue_io>> adopt_afxdp_queue(unique_fd xsk, const nic_buffers &mem,
                                                        const afxdp_kept &k, std::span<const uint32_t> held)
{
    auto q = std::make_unique<afxdp_queue>(mem);
    if (auto st = q->adopt(std::move(xsk), k, held); !st)
        return st.err();
    return std::unique_ptr<nic_queue_io>(std::move(q));
}

bool afxdp_undelivered(const nic_queue_io &q, std::vector<io_slot> &frames)
{
    const auto *x = dynamic_cast<const afxdp_queue *>(&q);
    return x && x->undelivered(frames);
}

void afxdp_settle_held(nic_queue_io &q, const std::vector<uint8_t> &in_slots)
{
    if (auto *x = dynamic_cast<afxdp_queue *>(&q))
        x->settle_held(in_slots);
}

bool afxdp_keep(const nic_queue_io &q, afxdp_kept &out)
{
    const auto *x = dynamic_cast<const afxdp_queue *>(&q);
    if (x)
        x->keep(out);
    return x != nullptr;
}

bool afxdp_ring_sizes(const nic_queue_io &q, uint32_t &ring, uint32_t &fill)
{
    const auto *x = dynamic_cast<const afxdp_queue *>(&q);
    if (x)
        x->sizes(ring, fill);
    return x != nullptr;
}

} // namespace netring::netringd
