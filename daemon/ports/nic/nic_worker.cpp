#include "nic_worker.hpp"

#include "monitor_rings.hpp"
#include "numa_place.hpp"

#include <rings/bits.hpp>
#include <rings/eventfd.hpp>

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>

namespace netring::netringd {
namespace {

uint32_t add(uint32_t i, uint32_t k, uint32_t n) { return i + k >= n ? i + k - n : i + k; }

void bump(uint64_t &counter, uint64_t by)
{
    rings::store_relaxed(counter, rings::load_relaxed(counter) + by);
}

} // namespace

status nic_worker::start(uint8_t *base, const rings::buffer_limits &lim, std::vector<nic_queue *> queues,
                         uint32_t spin, int numa_node, const rings::mon_env &mon, nic_journal *journal)
{
    stop();
    if (queues.empty())
        return ok_status();
    base_ = base;
    journal_ = journal;
    lim_ = lim;
    mon_ = mon;
    spin_ = spin;
    queues_ = std::move(queues);
    pollset_.clear();
    pollset_.reserve(1 + 3 * queues_.size()); // sized here: sleep() never allocates
    return thread_.start("the NIC worker", [this, numa_node] {
        (void)pin_to_node(numa_node); // a failure leaves the thread where the scheduler puts it
        run();
    });
}

void nic_worker::stop()
{
    if (!thread_.running())
        return;
    thread_.stop();
    // Leave no flag saying "kick me": nobody would read the kick eventfd until the next start.
    for (nic_queue *q : queues_)
        for (const served_ring *r : {&q->tx, &q->rx})
            rings::store_relaxed(ref(*r).sync->flags.kern_need_kick, 0u);
    queues_.clear();
}

rings::ring_ref nic_worker::ref(const served_ring &r) const { return ring_ref_of(base_, r); }

// Copies for the monitors of a queue: the frames the I/O took (tx) or filled (rx), read where the
// batch says they are, after the checks the batch passed.
void nic_worker::feed(const std::vector<const served_ring *> &mons, const io_slot *batch, uint32_t n)
{
    rings::mon_frame frames[io_batch];
    const uint64_t buffers = mon_.buffers_offset;
    for (uint32_t j = 0; j < n; j++) {
        const uint64_t off = buffers + uint64_t{batch[j].buf_idx} * lim_.buf_size + batch[j].offset;
        const bool sane = batch[j].buf_idx < lim_.num_buffers && batch[j].offset + batch[j].len <= lim_.buf_size;
        frames[j] = {base_ + off, sane ? batch[j].len : 0u};
    }
    const uint64_t ts = rings::monitor_clock_ns();
    for (const served_ring *m : mons)
        monitor_feed(mon_, *m, frames, n, ts);
}

// netmap's answer to indices it cannot accept: put the ring back where the kernel side stands,
// repair any slot that points outside the region, count the error (the client reports it as
// errc::ring_reset). app.head/app.cur are rewritten too, or the same bad value would be seen again.
void nic_worker::fault(const served_ring &r) { reset_served(ref(r), r, lim_); }

void nic_worker::run()
{
    thread_.spin_then_sleep(
        spin_,
        [this] {
            bool progress = false;
            for (nic_queue *q : queues_)
                progress |= serve(*q);
            return progress;
        },
        [this] { sleep(); });
}

// One queue, in three steps: stage (nothing a client or the kernel sees changes, but for a ring
// reset), commit the cursors to the journal, publish. nic_journal.hpp says why.
bool nic_worker::serve(nic_queue &q)
{
    tx_work tw;
    rx_work rw{false, 0, rx_batch_};
    bool progress = stage_tx(q, tw);
    progress |= stage_rx(q, rw);
    if (!tw.hwcur && !tw.tail && !rw.hwcur && rw.got == 0)
        return progress;
    xsk_cursors x;
    if (journal_ && q.io->staged(x))
        journal_->commit(q.index, {q.tx.hwcur, q.tx.reclaim, q.rx.hwcur, add(q.rx.hwtail, rw.got, q.rx.num_slots),
                                   x.fill_prod, x.rx_cons, x.tx_prod, x.comp_cons, x.in_kernel, x.credits,
                                   x.rx_from, q.rx.hwtail});
    deliver(q, rw);
    q.io->publish();
    publish_tx(q, tw);
    publish_rx(q, rw);
    return progress;
}

bool nic_worker::stage_tx(nic_queue &q, tx_work &w)
{
    served_ring &r = q.tx;
    const rings::ring_ref rr = ref(r);
    const uint32_t n = r.num_slots;
    bool progress = false;

    // 1. Frames the application published: [hwcur, head).
    const uint32_t head = rings::load_acquire(rr.sync->app.head); // partner: the client's store_release
    w.head = head;
    if (head != r.hwcur) {
        const uint32_t cur = rings::load_relaxed(rr.sync->app.cur);
        if (!rings::indices_valid(head, cur, r.hwcur, r.hwtail, n)) {
            fault(r);
            return true;
        }
        io_slot batch[io_batch];
        uint32_t k = 0;
        uint64_t bytes = 0;
        uint32_t i = r.hwcur;
        while (i != head && k < io_batch) {
            nr_slot &slot = rr.ring->slot[i];
            const nr_slot s = rings::slot_snapshot(slot);
            if (!rings::slot_valid(s, lim_) || s.len == 0) {
                // Nothing to send from this slot. It can be passed over only when no frame before
                // it is still with the I/O, since reclaim() counts frames, not slots.
                if (k > 0 || r.reclaim != r.hwcur)
                    break;
                if (s.len != 0) {
                    rings::slot_repair(slot, s, lim_);
                    count_ring_error(rr);
                }
                i = add(i, 1, n);
                r.hwcur = r.reclaim = i;
                r.hwtail = rings::prev_index(r.reclaim, n);
                progress = true;
                continue;
            }
            batch[k++] = {s.buf_idx, static_cast<uint16_t>(s.ptr & lim_.offset_mask), s.len};
            bytes += s.len;
            i = add(i, 1, n);
        }
        const uint32_t took = k ? q.io->transmit(batch, k) : 0;
        if (took && !q.tx_mon.empty()) [[unlikely]]
            feed(q.tx_mon, batch, took);
        if (took) {
            if (took < k)
                for (uint32_t j = took; j < k; j++)
                    bytes -= batch[j].len;
            r.hwcur = add(r.hwcur, took, n);
            bump(rr.sync->kern.packets, took);
            bump(rr.sync->kern.bytes, bytes);
            progress = true;
        }
        w.hwcur = true;
    }

    // 2. Frames the I/O is done with: their slots go back to the application.
    const uint32_t in_flight = rings::distance(r.reclaim, r.hwcur, n);
    uint32_t done = in_flight ? q.io->reclaim() : 0;
    if (done > in_flight)
        done = in_flight; // an I/O that miscounts must not move tail past hwcur
    if (done || progress) {
        r.reclaim = add(r.reclaim, done, n);
        r.hwtail = rings::prev_index(r.reclaim, n);
        w.tail = true;
        progress = true;
    }
    return progress;
}

void nic_worker::publish_tx(nic_queue &q, const tx_work &w)
{
    served_ring &r = q.tx;
    const rings::ring_ref rr = ref(r);
    const uint32_t n = r.num_slots;
    if (w.hwcur)
        rings::store_release(rr.sync->kern.hwcur, r.hwcur);
    if (!w.tail)
        return;
    rings::store_release(rr.sync->kern.hwtail, r.hwtail); // partner: the client's load_acquire
    // A sender sleeps only on a full ring. It is woken once half of the ring is free again (at
    // the latest when nothing it gave is left), not at every completion: each wake-up costs an
    // eventfd write here and an IPI and a poll() return there, and a sender woken for a few
    // slots refills a few at a time.
    if (rings::distance(r.reclaim, w.head, n) <= n / 2)
        wake_app(rr, r);
}

bool nic_worker::stage_rx(nic_queue &q, rx_work &w)
{
    served_ring &r = q.rx;
    const rings::ring_ref rr = ref(r);
    const uint32_t n = r.num_slots;

    // 1. Slots the application released: [hwcur, head) become free.
    const uint32_t head = rings::load_acquire(rr.sync->app.head);
    if (head != r.hwcur) {
        const uint32_t cur = rings::load_relaxed(rr.sync->app.cur);
        if (!rings::indices_valid(head, cur, r.hwcur, r.hwtail, n)) {
            fault(r);
            return true;
        }
        r.hwcur = head;
        w.hwcur = true;
    }

    // 2. Receive into [hwtail, hwcur - 1): one slot stays empty, so a full ring is not an empty one.
    const uint32_t room = rings::distance(r.hwtail, rings::prev_index(r.hwcur, n), n);
    if (room == 0)
        return false;
    const uint32_t k = room < io_batch ? room : io_batch;
    uint32_t i = r.hwtail;
    for (uint32_t j = 0; j < k; j++) {
        uint32_t buf = rings::load_relaxed(rr.ring->slot[i].buf_idx);
        if (buf >= lim_.num_buffers) { // released with a bad index: receive into the dummy buffer
            buf = NR_DUMMY_BUFFER;
            count_ring_error(rr);
        }
        w.batch[j] = {buf, 0, 0};
        i = add(i, 1, n);
    }
    w.got = q.io->receive(w.batch, k);
    return w.got != 0;
}

// The received frames into their slots [hwtail, hwtail + got), after the commit: a successor
// that finds the commit writes them again (nic_keep.cpp), one that does not never shows them.
void nic_worker::deliver(nic_queue &q, const rx_work &w)
{
    if (w.got == 0)
        return;
    served_ring &r = q.rx;
    const rings::ring_ref rr = ref(r);
    write_rx_slots(rr, r.hwtail, w.batch, w.got);
    if (!q.rx_mon.empty()) [[unlikely]] // before the application may reuse the buffers
        feed(q.rx_mon, w.batch, w.got);
}

void nic_worker::publish_rx(nic_queue &q, const rx_work &w)
{
    served_ring &r = q.rx;
    const rings::ring_ref rr = ref(r);
    if (w.hwcur)
        rings::store_release(rr.sync->kern.hwcur, r.hwcur);
    if (w.got == 0)
        return;
    uint64_t bytes = 0;
    for (uint32_t j = 0; j < w.got; j++)
        bytes += w.batch[j].len;
    r.hwtail = add(r.hwtail, w.got, r.num_slots);
    rings::store_release(rr.sync->kern.hwtail, r.hwtail); // slots before hwtail: partner load_acquire
    bump(rr.sync->kern.packets, w.got);
    bump(rr.sync->kern.bytes, bytes);
    wake_app(rr, r);
}

void write_rx_slots(const rings::ring_ref &rr, uint32_t from, const io_slot *frames, uint32_t n)
{
    uint32_t i = from;
    for (uint32_t j = 0; j < n; j++) {
        nr_slot &slot = rr.ring->slot[i];
        rings::store_relaxed(slot.buf_idx, frames[j].buf_idx);
        rings::store_relaxed(slot.len, frames[j].len);
        rings::store_relaxed(slot.flags, uint16_t{0});
        rings::store_relaxed(slot.ptr, uint64_t{frames[j].offset});
        i = add(i, 1, rr.num_slots);
    }
}

void nic_worker::sleep()
{
    // Arm: "kick me" on every ring, then look once more (the application may have published just
    // before seeing the flag: store-load, so a full fence; partner: the one in daemon_sync).
    for (nic_queue *q : queues_)
        for (const served_ring *r : {&q->tx, &q->rx})
            rings::store_relaxed(ref(*r).sync->flags.kern_need_kick, 1u);
    rings::full_fence();
    bool work = false;
    int timeout_ms = -1;
    pollset_.clear();
    pollset_.push_back({thread_.wake_fd(), POLLIN, 0});
    for (nic_queue *q : queues_) {
        const served_ring &tx = q->tx;
        const served_ring &rx = q->rx;
        if (rings::load_acquire(ref(tx).sync->app.head) != tx.hwcur ||
            rings::load_acquire(ref(rx).sync->app.head) != rx.hwcur)
            work = true;
        if (tx.reclaim != tx.hwcur)
            timeout_ms = 1; // frames still with the I/O: their completion has no fd to wake us
        pollset_.push_back({tx.kick.get(), POLLIN, 0});
        pollset_.push_back({rx.kick.get(), POLLIN, 0});
        if (rings::distance(rx.hwtail, rings::prev_index(rx.hwcur, rx.num_slots), rx.num_slots) > 0)
            pollset_.push_back({q->io->rx_wait_fd(), POLLIN, 0});
    }
    if (!work && !thread_.stopping()) {
        int rc;
        do {
            rc = ::poll(pollset_.data(), pollset_.size(), timeout_ms);
        } while (rc < 0 && errno == EINTR);
    }
    for (nic_queue *q : queues_) {
        for (const served_ring *r : {&q->tx, &q->rx}) {
            rings::store_relaxed(ref(*r).sync->flags.kern_need_kick, 0u);
            rings::eventfd_drain(r->kick.get());
        }
    }
}

} // namespace netring::netringd
