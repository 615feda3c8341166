// ping: one frame out, wait for it to come back, record the round trip; pong: send every received
// frame back by swapping its buffer into a tx slot (both ends of a pipe share one region, so the
// swap is legal and nothing is copied).
#include "run.hpp"

#include <algorithm>
#include <cinttypes>
#include <utility>

namespace netring::pktgen {

namespace {

constexpr size_t max_rtt_samples = 10'000'000;
constexpr uint64_t reply_timeout_ns = 1'000'000'000ull; // a ping unanswered this long is lost

unsigned char *slot_bytes(nr_ring *ring, const nr_slot *slot)
{
    return reinterpret_cast<unsigned char *>(nr_slot_data(ring, slot));
}

enum class step { ok, stop, fail };

// Puts frame `seq` with its send time into one tx slot and publishes it.
step send_ping(run_context &ctx, nr_ring *tx, const frame_template &tmpl, uint64_t seq, uint64_t &sent_ns)
{
    std::error_code ec;
    while (nr_ring_space(tx) == 0) {
        ec = ctx.p.txsync();
        if (!ec && nr_ring_space(tx) == 0 && !ctx.idle(wait_tx, ec) && ec == errc::peer_gone)
            return step::stop;
        if (ec == errc::peer_gone || ctx.should_stop(now_ns()))
            return step::stop;
        if (ec) {
            ctx.report_error("txsync", ec);
            return step::fail;
        }
    }
    nr_slot *slot = &tx->slot[tx->cur];
    slot->ptr = 0;
    unsigned char *frame = slot_bytes(tx, slot);
    tmpl.write(frame, seq, 1);
    sent_ns = now_ns();
    store_le<uint64_t>(frame + header_bytes, sent_ns);
    slot->len = tmpl.len();
    tx->head = tx->cur = nr_ring_next(tx, tx->cur);
    ec = ctx.p.txsync();
    if (ec == errc::peer_gone)
        return step::stop;
    if (ec) {
        ctx.report_error("txsync", ec);
        return step::fail;
    }
    return step::ok;
}

} // namespace

run_outcome run_ping(run_context &ctx)
{
    run_outcome out;
    run_result &r = out.result;
    const pktgen_options &o = ctx.o;
    const frame_template tmpl(o.dst, o.src, static_cast<uint16_t>(o.len), o.payload);
    nr_ring *tx = ctx.p.tx_ring(0);
    nr_ring *rx = ctx.p.rx_ring(0);
    const uint64_t limit = o.count ? o.count : UINT64_MAX;
    std::vector<uint64_t> rtt_ns;
    rtt_ns.reserve(std::min<uint64_t>(limit, max_rtt_samples));
    int reported = 0;
    bool stopping = false;

    for (uint64_t seq = 0; seq < limit && !stopping; seq++) {
        const uint64_t now = now_ns();
        ctx.tick(now, r);
        if (ctx.should_stop(now))
            break;
        uint64_t sent_ns = 0;
        const step s = send_ping(ctx, tx, tmpl, seq, sent_ns);
        if (s != step::ok) {
            out.failed = s == step::fail;
            break;
        }
        if (r.first_ns == 0)
            r.first_ns = sent_ns;

        for (bool answered = false; !answered;) {
            std::error_code ec = ctx.p.rxsync();
            if (ec == errc::peer_gone) {
                stopping = true;
                break;
            }
            if (ec) {
                ctx.report_error("rxsync", ec);
                out.failed = stopping = true;
                break;
            }
            const uint64_t recv_ns = now_ns();
            uint32_t i = rx->head;
            for (; i != rx->tail; i = nr_ring_next(rx, i)) {
                const nr_slot *slot = &rx->slot[i];
                const unsigned char *frame = slot_bytes(rx, slot);
                const frame_verdict v = frame_inspect(frame, slot->len, o.payload, 1);
                if (v.fault == frame_fault::none && v.seq == seq) {
                    const uint64_t t0 = load_le<uint64_t>(frame + header_bytes);
                    if (rtt_ns.size() < max_rtt_samples)
                        rtt_ns.push_back(recv_ns > t0 ? recv_ns - t0 : 0); // reserved: no allocation
                    r.packets++;
                    r.bytes += slot->len;
                    r.last_ns = recv_ns;
                    answered = true;
                } else if (v.fault == frame_fault::none && v.seq < seq) {
                    r.duplicate++; // a late reply to a ping already counted as lost, or a second copy
                } else {
                    r.corrupt++;
                    if (reported++ < 3)
                        std::fprintf(stderr, "netring-pktgen: bad reply (waiting for seq %" PRIu64 "): %s, seq %" PRIu64 "\n",
                                     seq, v.fault == frame_fault::none ? "from the future" : frame_fault_name(v.fault),
                                     v.seq);
                }
            }
            rx->head = rx->cur = i;
            if (answered)
                break;
            if (recv_ns - sent_ns > reply_timeout_ns) {
                r.lost++;
                break;
            }
            if (ctx.should_stop(recv_ns)) {
                stopping = true;
                break;
            }
            if (!ctx.idle(wait_rx, ec) && ec != errc::peer_gone) {
                ctx.report_error("wait", ec);
                out.failed = stopping = true;
            }
        }
    }
    (void)ctx.p.rxsync();
    std::sort(rtt_ns.begin(), rtt_ns.end());
    r.has_rtt = true;
    r.rtt_us_p50 = static_cast<double>(quantile_sorted(rtt_ns, 0.50)) / 1000.0;
    r.rtt_us_p99 = static_cast<double>(quantile_sorted(rtt_ns, 0.99)) / 1000.0;
    out.complete = !o.count || r.packets >= o.count;
    return out;
}

run_outcome run_pong(run_context &ctx)
{
    run_outcome out;
    run_result &r = out.result;
    const pktgen_options &o = ctx.o;
    nr_ring *tx = ctx.p.tx_ring(0);
    nr_ring *rx = ctx.p.rx_ring(0);
    const uint64_t limit = o.count ? o.count : UINT64_MAX;
    bool gone_hint = false;

    while (r.packets < limit) {
        const uint64_t now = now_ns();
        ctx.tick(now, r);
        if (ctx.should_stop(now))
            break;
        std::error_code ec = ctx.p.rxsync();
        if (ec == errc::peer_gone)
            break;
        if (ec) {
            ctx.report_error("rxsync", ec);
            out.failed = true;
            break;
        }
        const uint32_t waiting = nr_ring_space(rx);
        const uint32_t n = static_cast<uint32_t>(
            std::min<uint64_t>({waiting, nr_ring_space(tx), o.batch, limit - r.packets}));
        if (n == 0) {
            if (gone_hint)
                break;
            // Packets but no room: wait for tx space; nothing at all: wait for packets.
            if (waiting) {
                ec = ctx.p.txsync();
                if (!ec && nr_ring_space(tx) == 0)
                    (void)ctx.idle(wait_tx, ec);
            } else {
                (void)ctx.idle(wait_rx, ec);
            }
            if (ec == errc::peer_gone) {
                gone_hint = true;
            } else if (ec) {
                ctx.report_error("wait", ec);
                out.failed = true;
                break;
            }
            continue;
        }
        uint32_t ri = rx->cur;
        uint32_t ti = tx->cur;
        uint64_t bytes = 0;
        for (uint32_t k = 0; k < n; k++) {
            nr_slot &rs = rx->slot[ri];
            nr_slot &ts = tx->slot[ti];
            std::swap(rs.buf_idx, ts.buf_idx);
            std::swap(rs.ptr, ts.ptr);
            ts.len = rs.len;
            rs.flags |= NS_BUF_CHANGED;
            ts.flags |= NS_BUF_CHANGED;
            bytes += ts.len;
            ri = nr_ring_next(rx, ri);
            ti = nr_ring_next(tx, ti);
        }
        rx->head = rx->cur = ri;
        tx->head = tx->cur = ti;
        r.frame_len = static_cast<uint32_t>(bytes / n);
        if (r.packets == 0)
            r.first_ns = now;
        r.packets += n;
        r.bytes += bytes;
        ec = ctx.p.txsync();
        r.last_ns = now_ns();
        if (ec == errc::peer_gone)
            break;
        if (ec) {
            ctx.report_error("txsync", ec);
            out.failed = true;
            break;
        }
    }
    (void)ctx.p.rxsync();
    out.complete = !o.count || r.packets >= o.count;
    return out;
}

} // namespace netring::pktgen
