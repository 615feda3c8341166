#include "run.hpp"

#include <algorithm>
#include <cstdio>

namespace netring::dump {

std::atomic<bool> stop_requested{false};

namespace {

constexpr int wait_timeout_ms = 100; // short, so a signal is noticed while asleep

enum class pass_result : uint8_t { ok, count_reached, sink_failed };

void report_sync_error(const port &p, const char *what, std::error_code ec)
{
    const std::string &sentence = p.last_error();
    std::fprintf(stderr, "netring-dump: %s: %s\n", what,
                 sentence.empty() ? ec.message().c_str() : sentence.c_str());
}

// Offers the frames in [head, tail) of every ring to `cap`, then gives the slots back (head = cur
// = tail; the next rxsync publishes it). Once -c is reached the rest are released unread.
pass_result drain_rings(const port &p, capture &cap, uint64_t &frames)
{
    const uint32_t buf_size = p.buf_size();
    pass_result r = pass_result::ok;
    for (uint32_t i = 0; i < p.rx_rings(); i++) {
        nr_ring *ring = p.rx_ring(i);
        const uint32_t tail = ring->tail; // read once; it changes only inside rxsync
        for (uint32_t k = ring->head; k != tail && r == pass_result::ok; k = nr_ring_next(ring, k)) {
            const nr_slot &slot = ring->slot[k];
            // A copy starts at offset 0 of its buffer; a length past the buffer is cut to it.
            const auto *frame = reinterpret_cast<const unsigned char *>(p.buffer(slot.buf_idx));
            if (!cap.offer(i, nr_mon_slot_ns(&slot), frame, std::min<uint32_t>(slot.len, buf_size)))
                r = pass_result::sink_failed;
            else if (cap.done())
                r = pass_result::count_reached;
            frames++;
        }
        ring->head = ring->cur = tail;
    }
    return r;
}

void count_drops(const port &p, capture &cap)
{
    for (uint32_t i = 0; i < p.rx_rings(); i++)
        cap.set_dropped(i, p.monitor_drops(i));
}

capture_end read_until_end(port &p, capture &cap, capture_sink *sink, bool flush_each_batch)
{
    bool last_pass = false; // wait() saw the port go: one more rxsync collects what is left
    for (;;) {
        if (stop_requested.load(std::memory_order_relaxed))
            return capture_end::stopped;
        std::error_code ec = p.rxsync();
        const bool gone = ec == errc::peer_gone;
        if (ec && !gone) {
            report_sync_error(p, "rxsync", ec);
            return capture_end::sync_failed;
        }
        uint64_t frames = 0;
        const pass_result r = drain_rings(p, cap, frames);
        if (r == pass_result::sink_failed)
            return capture_end::sink_failed;
        if (frames && flush_each_batch && sink && !sink->flush())
            return capture_end::sink_failed;
        if (r == pass_result::count_reached)
            return capture_end::count;
        if (gone || last_pass)
            return capture_end::port_gone;
        if (frames)
            continue;
        if (p.wait(wait_rx, wait_timeout_ms, ec) < 0) {
            if (ec != errc::peer_gone) {
                report_sync_error(p, "wait", ec);
                return capture_end::sync_failed;
            }
            last_pass = true;
        }
    }
}

} // namespace

std::vector<capture_interface> describe_rings(const port &p, const std::string &watched)
{
    std::vector<capture_interface> ifaces;
    for (uint32_t i = 0; i < p.rx_rings(); i++) {
        monitor_source src;
        ifaces.push_back(p.monitor_source_of(i, src) ? describe_monitor_ring(watched, src)
                                                     : describe_unknown_ring(watched, i));
    }
    return ifaces;
}

capture_end run_capture(port &p, capture &cap, capture_sink *sink, bool flush_each_batch)
{
    const capture_end end = read_until_end(p, cap, sink, flush_each_batch);
    if (end != capture_end::sync_failed)
        p.rxsync(); // hands the last batch's slots back; the port closes next anyway
    count_drops(p, cap);
    return end;
}

} // namespace netring::dump
