// xsk_min's data path: the RX and TX loops and the test frame format (ethertype 0x88b5, a
// marker at offset 14, a u64 sequence number at 14 + 4, a byte pattern after it).

#include "xsk_min.hpp"

#include <arpa/inet.h>
#include <linux/if_xdp.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <vector>

namespace xsk_bench {
namespace {

using clock_type = std::chrono::steady_clock;

constexpr uint16_t ethertype = 0x88b5;  // IEEE local experimental
constexpr uint32_t marker = 0x4e52584b; // "NRXK", at offset 14
constexpr size_t seq_offset = 14 + 4;
constexpr size_t min_len = seq_offset + 8;

// Free frame addresses (chunk starts), LIFO so recently used frames are cache-warm.
class frame_stack {
public:
    explicit frame_stack(size_t cap) : addrs_(cap) {}
    void push(uint64_t a) { addrs_[n_++] = a; }
    uint64_t pop() { return addrs_[--n_]; }
    size_t size() const { return n_; }

private:
    std::vector<uint64_t> addrs_;
    size_t n_ = 0;
};

// Prints the rate to stderr once a second.
struct ticker {
    clock_type::time_point last = clock_type::now();
    uint64_t last_packets = 0;
    void tick(const char *mode, const counters &c, clock_type::time_point now)
    {
        const double dt = std::chrono::duration<double>(now - last).count();
        if (dt < 1.0)
            return;
        std::fprintf(stderr, "%s: %.3f Mpps  total %llu  lost %llu  corrupt %llu  kicks %llu\n", mode,
                     double(c.packets - last_packets) / dt / 1e6, (unsigned long long)c.packets,
                     (unsigned long long)c.lost, (unsigned long long)c.corrupt, (unsigned long long)c.kicks);
        last = now;
        last_packets = c.packets;
    }
};

bool check_frame(const uint8_t *p, uint32_t len, uint32_t want_len, counters &c, uint64_t *expected)
{
    uint16_t et;
    uint32_t mk;
    uint64_t seq;
    if (len < min_len)
        return false;
    std::memcpy(&et, p + 12, 2);
    std::memcpy(&mk, p + 14, 4);
    std::memcpy(&seq, p + seq_offset, 8);
    if (et != htons(ethertype) || mk != marker)
        return false;
    if (want_len != 0 && len != want_len)
        return false;
    if (p[len - 1] != uint8_t(len - 1))
        return false; // the tail pattern the sender wrote
    if (c.packets == 0)
        *expected = c.first_seq = seq;
    if (seq < *expected)
        return false; // one queue keeps order: backwards is a bug
    c.lost += seq - *expected;
    *expected = seq + 1;
    return true;
}

// Moves every free frame the fill ring has room for into it.
void top_up_fill(xsk_setup &s, frame_stack &free_frames)
{
    uint32_t idx;
    const uint32_t n =
        xsk_ring_prod__reserve(&s.fill,
                               static_cast<uint32_t>(std::min<size_t>(
                                   free_frames.size(), xsk_prod_nb_free(&s.fill, free_frames.size()))),
                               &idx);
    for (uint32_t i = 0; i < n; i++)
        *xsk_ring_prod__fill_addr(&s.fill, idx + i) = free_frames.pop();
    xsk_ring_prod__submit(&s.fill, n); // partner: the kernel's consume of the fill ring
}

void write_template(uint8_t *p, uint32_t len)
{
    static const uint8_t dst[6] = {0x02, 0, 0, 0, 0, 0x02}, src[6] = {0x02, 0, 0, 0, 0, 0x01};
    std::memcpy(p, dst, 6);
    std::memcpy(p + 6, src, 6);
    const uint16_t et = htons(ethertype);
    std::memcpy(p + 12, &et, 2);
    std::memcpy(p + 14, &marker, 4);
    for (uint32_t i = min_len; i < len; i++)
        p[i] = uint8_t(i);
}

} // namespace

double run_rx(xsk_setup &s, const options &o, counters &c)
{
    frame_stack free_frames(o.frames);
    for (uint32_t i = 0; i < o.frames; i++)
        free_frames.push(uint64_t(i) * o.frame_size);
    top_up_fill(s, free_frames);
    const int fd = xsk_socket__fd(s.xsk.get());
    uint64_t expected = 0;
    ticker t;
    const auto start = clock_type::now();
    clock_type::time_point first{}, last_rx{};
    while (!stop_requested) {
        uint32_t idx;
        const uint32_t n = xsk_ring_cons__peek(&s.rx, o.batch, &idx); // partner: release below
        const auto now = clock_type::now();
        if (n == 0) {
            // Copy mode never sets the fill ring's flag; a driver in zero-copy mode would.
            if (xsk_ring_prod__needs_wakeup(&s.fill)) {
                recvfrom(fd, nullptr, 0, MSG_DONTWAIT, nullptr, nullptr);
                c.kicks++;
            }
            if (c.packets != 0 && now - last_rx > std::chrono::seconds(1))
                break; // sender done
            if (c.packets == 0 && now - start > std::chrono::duration<double>(o.seconds + 10))
                break;
            t.tick("rx", c, now);
            continue;
        }
        if (c.packets == 0)
            first = now;
        last_rx = now;
        for (uint32_t i = 0; i < n; i++) {
            const xdp_desc *d = xsk_ring_cons__rx_desc(&s.rx, idx + i);
            const uint64_t in_chunk = d->addr % o.frame_size;
            if (c.rx_offset < 0)
                c.rx_offset = int64_t(in_chunk);
            if (!check_frame(s.area->base() + d->addr, d->len, o.len_given ? o.len : 0, c, &expected))
                c.corrupt++;
            c.packets++;
            c.bytes += d->len;
            free_frames.push(d->addr - in_chunk); // the fill ring takes chunk starts
        }
        xsk_ring_cons__release(&s.rx, n); // partner: peek above
        top_up_fill(s, free_frames);
        t.tick("rx", c, now);
        if (now - first > std::chrono::duration<double>(o.seconds))
            break;
    }
    return std::chrono::duration<double>(last_rx - first).count();
}

double run_tx(xsk_setup &s, const options &o, counters &c)
{
    frame_stack free_frames(o.frames);
    for (uint32_t i = 0; i < o.frames; i++) {
        free_frames.push(uint64_t(i) * o.frame_size);
        write_template(s.area->base() + uint64_t(i) * o.frame_size, o.len);
    }
    const int fd = xsk_socket__fd(s.xsk.get());
    uint64_t seq = 0, submitted = 0;
    ticker t;
    const auto start = clock_type::now();
    auto now = start;
    while (!stop_requested && now - start < std::chrono::duration<double>(o.seconds)) {
        uint32_t idx;
        const uint32_t done = xsk_ring_cons__peek(&s.comp, o.frames, &idx); // partner: release
        for (uint32_t i = 0; i < done; i++)
            free_frames.push(*xsk_ring_cons__comp_addr(&s.comp, idx + i));
        xsk_ring_cons__release(&s.comp, done);
        c.packets += done;

        const uint32_t want = static_cast<uint32_t>(std::min<size_t>(o.batch, free_frames.size()));
        const uint32_t n = want ? xsk_ring_prod__reserve(&s.tx, want, &idx) : 0;
        for (uint32_t i = 0; i < n; i++) {
            xdp_desc *d = xsk_ring_prod__tx_desc(&s.tx, idx + i);
            d->addr = free_frames.pop();
            d->len = o.len;
            d->options = 0;
            std::memcpy(s.area->base() + d->addr + seq_offset, &seq, 8);
            seq++;
        }
        xsk_ring_prod__submit(&s.tx, n); // partner: the kernel's consume in sendto below
        submitted += n;
        // In copy mode only sendto() moves TX descriptors, and the kernel keeps the flag set.
        if (submitted != c.packets && xsk_ring_prod__needs_wakeup(&s.tx)) {
            sendto(fd, nullptr, 0, MSG_DONTWAIT, nullptr, 0);
            c.kicks++;
        }
        now = clock_type::now();
        t.tick("tx", c, now);
    }
    return std::chrono::duration<double>(now - start).count();
}

} // namespace xsk_bench
