// The state segment: the registry's records (state_records.hpp) in a memfd that outlives the
// process, so the next netringd adopts them (docs/RESTART.md).
//
//   auto seg = state_segment::create();                // a new memfd holding an empty state
//   seg->save(state);                                  // after every change the registry makes
//   auto seg = state_segment::adopt(std::move(kept));  // in the successor, the fd named "state"
//   auto s = seg->load();                              // the last save, or why it cannot be read
//
// The memfd holds a header and two halves. A save writes the half load() does not read, then
// switches the header to it with one aligned store: a process killed during a save leaves the
// previous state whole. load() copies the active half out, checks its CRC-32 before opening it,
// then checks every record; it never writes to the segment. Control thread only.
#pragma once

#include "state_records.hpp"

#include <netring/error.hpp>
#include <netring/unique_fd.hpp>

#include <cstdint>

namespace netring::netringd {

class state_segment {
public:
    static constexpr uint64_t default_bytes = 4u << 20;

    // A sealed memfd "netringd-state" of `bytes` (at least 64 KiB), mapped, holding an empty state
    // (generation 1): a segment that was never saved into loads as no regions and no registrations.
    static result<state_segment> create(uint64_t bytes = default_bytes);
    // A segment a predecessor made. Checks the seals, the size, the magic and the layout versions;
    // the state itself is checked by load().
    static result<state_segment> adopt(unique_fd fd);

    // stage then commit. errc::limit_exceeded, with the active state untouched, when `s` does not fit.
    status save(const kept_state &s);
    // The two steps of save, for a caller that must stop between them (the torn-save test): stage
    // writes `s` into the inactive half and describes it in the header, commit makes it the active one.
    status stage(const kept_state &s);
    void commit(); // partner of stage; does nothing without a staged state

    result<kept_state> load() const;

    int fd() const { return fd_.get(); }
    // Saves the active state has seen, counting create()'s empty state: 1, 2, ...
    uint64_t generation() const;

private:
    state_segment(unique_fd fd, mapped_region map, uint64_t half_bytes)
        : fd_(std::move(fd)), map_(std::move(map)), half_bytes_(half_bytes)
    {}

    unique_fd fd_; // declared before the mapping: unmapped first, closed last
    mapped_region map_;
    uint64_t half_bytes_; // as checked once: saves never trust the header's copy to stay sound
    int staged_ = -1;     // the half stage() wrote, until commit()
};

} // namespace netring::netringd
