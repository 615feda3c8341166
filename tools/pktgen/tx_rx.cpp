// tx: fill free slots with test frames, publish, repeat. rx: collect, verify, release, repeat.
// One sync per batch; the per-packet work is fill_stretch (frame_template::write_header / write) and
// check_stretch (frame_header_is and the payload check); frame_inspect only names a bad frame.
#include "run.hpp"

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <thread>
#include <utility>

namespace netring::pktgen {

namespace {

constexpr int max_corrupt_reports = 3;

// How many slots ahead the loops prefetch a frame's buffer. The buffer's cache line lives in the
// other process's cache (it wrote or read it last): a miss costs one cross-core transfer, 100 to
// 450 ns on this kind of VM. Without prefetching, only the few iterations the out-of-order window
// holds overlap their misses, and the rate follows the cross-core latency; with it, the loop keeps
// about this many transfers in flight. Measured on the 64-byte pipe at batch 256 (paired with the
// floor): the receiver does best looking 16 slots ahead (48 gave 0.74 of the floor, 16 gave
// 0.78-0.80): when it catches up with the sender, prefetches further ahead land on buffers the
// sender is still writing and take those lines away from it. The sender does best at 32 with
// 4096 slots (0.84-0.87, against 0.80-0.82 at 48 or 96) and the same as 48 with 1024.
constexpr uint32_t tx_prefetch_distance = 32;
constexpr uint32_t rx_prefetch_distance = 16;

// nr_slot_data with the ring's constant fields read once per batch: frame stores go through
// unsigned char pointers, which may alias the ring, so the compiler would reload them per packet.
struct buffer_view {
    unsigned char *base;
    uint64_t buf_size;
    uint64_t offset_mask;

    explicit buffer_view(nr_ring *ring)
        : base(reinterpret_cast<unsigned char *>(nr_buf(ring, 0))), buf_size(ring->nr_buf_size),
          offset_mask(ring->offset_mask)
    {}
    unsigned char *data(const nr_slot *slot) const
    {
        return base + slot->buf_idx * buf_size + (slot->ptr & offset_mask);
    }
};

// While paced and short of a burst: sleep when it is far (less the timer slack, about 50 us),
// spin when it is close.
void pace_idle(uint64_t ns_until_burst, wait_kind wait)
{
    if (wait == wait_kind::poll && ns_until_burst > 60000)
        std::this_thread::sleep_for(std::chrono::nanoseconds(ns_until_burst - 50000));
    else
        nr_cpu_relax();
}

// Frames seq, seq+1, ... into slots [from, to) (no wrap). Out of line and with the template passed
// by value: inside run_tx the loop ran short of registers and reloaded its constants from the
// stack on every packet, and the frame stores (through unsigned char pointers, which may alias
// anything) made the compiler re-read a template it could not prove unchanged.
template <payload_kind kind>
[[gnu::noinline]] void fill_stretch(nr_slot *slots, uint32_t from, uint32_t to, uint32_t ring_mask,
                                    const buffer_view bufs, const frame_template tmpl, uint64_t seq)
{
    const uint16_t len = tmpl.len();
    unsigned char *const base = bufs.base;
    const uint64_t buf_size = bufs.buf_size;
    for (nr_slot *slot = slots + from, *end = slots + to; slot != end; slot++, seq++) {
        // `& ring_mask` stays inside any ring; past the free slots it only wastes a prefetch. The
        // data offset does not matter to a prefetch: the frame is written at the buffer's start.
        const nr_slot *ahead = slots + ((slot - slots + tx_prefetch_distance) & ring_mask);
        nr_prefetch_for_write(base + ahead->buf_idx * buf_size);
        // Frames start at the buffer, so len <= buf_size is always in bounds. The slot keeps its
        // ptr and len from the last lap (the swap moves only buffer indices): store only changes.
        if (slot->ptr != 0)
            slot->ptr = 0;
        if (slot->len != len)
            slot->len = len;
        unsigned char *frame = base + slot->buf_idx * buf_size;
        if constexpr (kind == payload_kind::header)
            tmpl.write_header(frame, seq);
        else
            tmpl.write(frame, seq);
    }
}

// What the rx loop accumulates.
struct rx_tally {
    seq_tracker track;
    uint64_t bytes = 0;
    uint64_t corrupt = 0;
    uint32_t good_len = 0;                  // length of the last good frame
    int reports_left = max_corrupt_reports; // bad frames still to be named on stderr
    // The bad frame check_stretch stopped after, for the caller to name (fault none: nothing to).
    struct {
        uint32_t slot = 0, len = 0;
        frame_verdict verdict;
    } to_report;
};

// Checks the frames in slots [from, to) (no wrap) and counts them into `tally`. Returns `to`, or
// the slot after a bad frame the caller is to name (tally.to_report; only while reports_left > 0,
// after that bad frames are counted without leaving the loop, though each is still checked on the
// slow path). Out of line with the tally in locals, for the same reason as fill_stretch.
template <payload_kind kind>
[[gnu::noinline]] uint32_t check_stretch(const nr_slot *slots, uint32_t from, uint32_t to, uint32_t ring_mask,
                                         const buffer_view bufs, rx_tally &tally)
{
    rx_tally t = tally;
    uint32_t k = from;
    while (k < to) {
        // Near the tail this prefetches buffers the peer may still be filling, which can take their
        // lines from it (what rx_prefetch_distance is chosen to limit); never a fault, and
        // `& ring_mask` keeps it inside any ring.
        __builtin_prefetch(bufs.data(&slots[(k + rx_prefetch_distance) & ring_mask]));
        const uint32_t len = slots[k].len;
        const unsigned char *frame = bufs.data(&slots[k]);
        const uint32_t slot = k++;
        t.bytes += len;
        // The expected frame, in order: the header compares against bytes computed from the next
        // sequence number. Anything else is inspected and tracked (lost, duplicate) the long way.
        const uint64_t next = t.track.expected;
        if (frame_header_is(frame, len, next) &&
            (kind == payload_kind::header || pattern_check(frame + header_bytes, len - header_bytes, next)))
            [[likely]] {
            t.track.expected = next + 1;
            t.good_len = len;
            continue;
        }
        const frame_verdict v = frame_inspect(frame, len, kind);
        if (v.fault == frame_fault::none) {
            t.track.observe(v.seq);
            t.good_len = len;
            continue;
        }
        // Corrupt. A frame whose header was sound (only its payload is damaged) did arrive: its
        // sequence number still counts, so it is neither lost nor makes the next one look like a gap.
        t.corrupt++;
        if (v.fault == frame_fault::payload)
            t.track.observe(v.seq);
        if (t.reports_left > 0) {
            t.reports_left--;
            t.to_report = {slot, len, v};
            break;
        }
    }
    tally = t;
    return k;
}

// Fills up to `want` free slots of `ring` with frames seq, seq+1, ...; returns how many.
// The buffer index is read from the slot every time: a pipe's txsync swaps it for another.
uint32_t fill_ring(nr_ring *ring, const frame_template &tmpl, uint64_t seq, uint32_t want)
{
    const uint32_t n = std::min(nr_ring_space(ring), want);
    const buffer_view bufs(ring);
    const uint32_t num_slots = ring->num_slots;
    uint32_t cur = ring->cur;
    for (uint32_t done = 0; done < n;) {
        // A stretch that does not wrap: no wrap test per packet.
        const uint32_t stretch = std::min(n - done, num_slots - cur);
        if (tmpl.kind() == payload_kind::header)
            fill_stretch<payload_kind::header>(ring->slot, cur, cur + stretch, num_slots - 1, bufs, tmpl,
                                               seq + done);
        else
            fill_stretch<payload_kind::full>(ring->slot, cur, cur + stretch, num_slots - 1, bufs, tmpl,
                                             seq + done);
        done += stretch;
        cur = cur + stretch == num_slots ? 0 : cur + stretch;
    }
    ring->head = ring->cur = cur;
    return n;
}

bool tx_ring_drained(const nr_ring *ring) { return nr_ring_space(ring) + 1 == ring->num_slots; }

// After the last packet: sync until every tx ring is empty again (the peer took everything),
// the peer leaves, or the deadline passes.
void drain_tx(run_context &ctx, const std::vector<nr_ring *> &rings, run_outcome &out)
{
    for (;;) {
        const std::error_code ec = ctx.p.txsync();
        if (ec == errc::peer_gone)
            return;
        if (ec) {
            ctx.report_error("txsync", ec);
            out.failed = true;
            return;
        }
        if (std::all_of(rings.begin(), rings.end(), tx_ring_drained))
            return;
        const uint64_t now = now_ns();
        ctx.tick(now, out.result);
        if (ctx.should_stop(now))
            return;
        if (ctx.o.wait == wait_kind::busy)
            nr_cpu_relax();
        else
            std::this_thread::sleep_for(std::chrono::microseconds(20));
    }
}

} // namespace

run_outcome run_tx(run_context &ctx)
{
    run_outcome out;
    run_result &r = out.result;
    const pktgen_options &o = ctx.o;
    const frame_template tmpl(o.dst, o.src, static_cast<uint16_t>(o.len), o.payload);
    const std::vector<nr_ring *> rings = tx_rings_of(ctx.p);
    const uint64_t limit = o.count ? o.count : UINT64_MAX;
    const uint32_t burst = paced_burst(o.rate, o.batch);
    const uint32_t batch = o.batch;
    token_bucket bucket(o.rate, paced_capacity(o.rate, o.batch), ctx.start_ns);
    uint64_t seq = 0;
    bool peer_gone = false;
    bool stamp_due = false; // see run_rx

    while (seq < limit) {
        const uint64_t now = now_ns();
        if (std::exchange(stamp_due, false))
            r.last_ns = now;
        ctx.tick(now, r);
        if (ctx.should_stop(now))
            break;
        uint32_t want = static_cast<uint32_t>(std::min<uint64_t>(batch, limit - seq));
        if (o.rate) {
            const uint32_t enough = std::min(burst, want);
            want = bucket.available(now, want);
            if (want < enough) {
                pace_idle(bucket.ns_until(enough), o.wait);
                continue;
            }
        }
        uint32_t sent = 0;
        for (nr_ring *ring : rings) {
            sent += fill_ring(ring, tmpl, seq + sent, want - sent);
            if (sent == want)
                break;
        }
        seq += sent;
        std::error_code ec = ctx.p.txsync();
        if (sent) {
            if (r.packets == 0)
                r.first_ns = now;
            r.packets += sent;
            r.bytes += uint64_t{sent} * o.len;
            stamp_due = true;
            bucket.consume(sent);
        }
        if (!ec && sent == 0 && !ctx.idle(wait_tx, ec) && ec == errc::peer_gone)
            ec = ctx.p.txsync(); // the wait saw it first; the sync says it the same way
        if (ec == errc::peer_gone) {
            peer_gone = true;
            break;
        }
        if (ec) {
            ctx.report_error("txsync", ec);
            out.failed = true;
            break;
        }
    }
    if (stamp_due)
        r.last_ns = now_ns();
    if (o.count && seq >= limit && !peer_gone && !out.failed)
        drain_tx(ctx, rings, out);
    out.complete = !o.count || seq >= limit;
    return out;
}

run_outcome run_rx(run_context &ctx)
{
    run_outcome out;
    run_result &r = out.result;
    const pktgen_options &o = ctx.o;
    const std::vector<nr_ring *> rings = rx_rings_of(ctx.p);
    const uint64_t limit = o.count ? o.count : UINT64_MAX;
    const payload_kind kind = o.payload;
    rx_tally tally;
    bool gone_hint = false; // a wait reported peer_gone: stop at the next empty sync
    const uint64_t gap_ns = uint64_t{o.gaps_ms} * 1000000;
    uint64_t last_got_ns = 0; // the pass that last got frames (--gaps)
    // The end time of a batch is taken at the top of the next pass (or after the loop), so a pass
    // reads the clock once: a clock read costs about 28 ns on a KVM guest, which is 5-8% of a
    // 32-packet batch when it is paid twice.
    bool stamp_due = false;

    while (r.packets < limit) {
        const uint64_t now = now_ns();
        if (std::exchange(stamp_due, false))
            r.last_ns = now;
        ctx.tick(now, r);
        if (ctx.should_stop(now))
            break;
        std::error_code ec = ctx.p.rxsync(); // releases what the last pass consumed
        if (ec == errc::peer_gone)
            break; // reported only once the ring is empty
        if (ec) {
            ctx.report_error("rxsync", ec);
            out.failed = true;
            break;
        }
        const uint32_t room = static_cast<uint32_t>(std::min<uint64_t>(o.batch, limit - r.packets));
        uint32_t got = 0;
        tally.bytes = 0;
        tally.good_len = 0;
        for (nr_ring *ring : rings) {
            const buffer_view bufs(ring);
            const uint32_t num_slots = ring->num_slots;
            const nr_slot *const slots = ring->slot;
            uint32_t i = ring->head;
            uint32_t avail = std::min(nr_ring_distance(i, ring->tail, num_slots), room - got);
            while (avail) {
                // A stretch that does not wrap: no wrap test per packet.
                const uint32_t stretch = std::min(avail, num_slots - i);
                for (uint32_t k = i; k < i + stretch;) {
                    k = kind == payload_kind::header
                            ? check_stretch<payload_kind::header>(slots, k, i + stretch, num_slots - 1, bufs,
                                                                  tally)
                            : check_stretch<payload_kind::full>(slots, k, i + stretch, num_slots - 1, bufs,
                                                                tally);
                    if (const auto &bad = tally.to_report; bad.verdict.fault != frame_fault::none) {
                        std::fprintf(
                            stderr,
                            "netring-pktgen: bad frame in rx ring %u slot %u: %s (len %u, seq %" PRIu64 ")\n",
                            ring->ringid, bad.slot, frame_fault_name(bad.verdict.fault), bad.len,
                            bad.verdict.seq);
                        tally.to_report = {};
                    }
                }
                got += stretch;
                avail -= stretch;
                i = i + stretch == num_slots ? 0 : i + stretch;
            }
            ring->head = ring->cur = i;
        }
        if (tally.good_len)
            r.frame_len = tally.good_len;
        if (got) {
            if (gap_ns && r.packets && now - last_got_ns >= gap_ns) {
                r.max_gap_ns = std::max(r.max_gap_ns, now - last_got_ns);
                if (r.gaps.size() < run_result::max_gaps)
                    r.gaps.emplace_back(last_got_ns, now - last_got_ns);
            }
            last_got_ns = now;
            if (r.packets == 0)
                r.first_ns = now;
            r.packets += got;
            r.bytes += tally.bytes;
            r.corrupt = tally.corrupt;
            stamp_due = true;
            continue;
        }
        if (gone_hint)
            break;
        if (!ctx.idle(wait_rx, ec)) {
            if (ec == errc::peer_gone) {
                gone_hint = true;
                continue;
            }
            ctx.report_error("wait", ec);
            out.failed = true;
            break;
        }
    }
    if (stamp_due)
        r.last_ns = now_ns();
    (void)ctx.p.rxsync(); // hand back the last pass's slots; the peer may be gone already
    r.lost = tally.track.lost;
    r.duplicate = tally.track.duplicate;
    out.complete = !o.count || r.packets >= o.count;
    return out;
}

} // namespace netring::pktgen
