// A switch's learned addresses: a bounded open-addressing table from MAC address to port, with
// ageing. Pure code, no allocation after construction; the forwarding thread alone uses it.
//
//   mac_table t(4096, 300);              // capacity (a power of two), ageing in seconds
//   t.learn(src, port, now_s);           // a frame from `src` came in on `port` (moves are updates)
//   int p = t.lookup(dst, now_s);        // the port, or -1: unknown or aged out
//   t.each([](uint64_t mac, uint16_t port, uint32_t seen) { ... });  // every entry, for a restart
//
// A full probe window evicts its oldest entry, so a flood of new sources cannot lock out the
// addresses in use; it only shortens their stay.
#pragma once

#include <cstdint>
#include <cstring>
#include <vector>

namespace netring::netringd {

// The 6 bytes as one integer, composed in registers: a 6-byte copy into a zeroed 8-byte variable
// goes through the stack, and the 8-byte load after the two narrower stores cannot be forwarded
// from them. It then waits for every older store to reach the cache, and in the forwarding loop
// those are the previous frame's copies into lines another core holds: one cross-core round trip
// per frame (about 100 ns each on a 2-vCPU VM).
inline uint64_t mac_key(const uint8_t *mac)
{
    uint32_t lo;
    uint16_t hi;
    std::memcpy(&lo, mac, sizeof lo);
    std::memcpy(&hi, mac + 4, sizeof hi);
    return uint64_t{lo} | uint64_t{hi} << 32;
}

class mac_table {
public:
    mac_table(uint32_t capacity, uint32_t ageing_s) : slots_(capacity), mask_(capacity - 1), ageing_(ageing_s)
    {}

    void learn(uint64_t mac, uint16_t port, uint32_t now)
    {
        entry *free_slot = nullptr;
        entry *oldest = nullptr;
        for (uint32_t i = 0, h = hash(mac); i < probe; i++, h = (h + 1) & mask_) {
            entry &e = slots_[h];
            if (e.used && e.mac == mac) {
                e.port = port; // a move is just an update
                e.seen = now;
                return;
            }
            if (!e.used) {
                if (!free_slot)
                    free_slot = &e;
            } else if (!oldest || now - e.seen > now - oldest->seen) {
                oldest = &e; // aged entries are the oldest of all
            }
        }
        entry *target = free_slot ? free_slot : oldest;
        if (!target->used)
            size_++;
        *target = {mac, now, port, true};
    }

    int lookup(uint64_t mac, uint32_t now) const
    {
        for (uint32_t i = 0, h = hash(mac); i < probe; i++, h = (h + 1) & mask_) {
            const entry &e = slots_[h];
            if (e.used && e.mac == mac)
                return expired(e, now) ? -1 : e.port;
        }
        return -1;
    }

    // Forgets every address learned on `port` (it went away).
    void forget_port(uint16_t port)
    {
        for (entry &e : slots_)
            if (e.used && e.port == port) {
                e.used = false;
                size_--;
            }
    }
    void clear()
    {
        for (entry &e : slots_)
            e.used = false;
        size_ = 0;
    }
    // Entries in use, aged ones included until they are reused.
    uint32_t size() const { return size_; }
    // f(mac, port, seen) for every entry in use.
    template <class F>
    void each(F &&f) const
    {
        for (const entry &e : slots_)
            if (e.used)
                f(e.mac, e.port, e.seen);
    }

private:
    static constexpr uint32_t probe = 8;
    struct entry {
        uint64_t mac = 0;
        uint32_t seen = 0;
        uint16_t port = 0;
        bool used = false;
    };
    bool expired(const entry &e, uint32_t now) const { return now - e.seen > ageing_; }
    uint32_t hash(uint64_t mac) const
    {
        return static_cast<uint32_t>((mac * 0x9e3779b97f4a7c15ull) >> 40) & mask_;
    }

    std::vector<entry> slots_;
    uint32_t mask_;
    uint32_t ageing_;
    uint32_t size_ = 0;
};

} // namespace netring::netringd
