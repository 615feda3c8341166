// What netring-dump does with each frame, apart from the port: the filter, the snapshot length,
// the -c count, the counters per interface, and the sink the kept frames go to.
//
//   std::vector<capture_interface> ifaces = {describe_monitor_ring("netmap:p{1", src), ...};
//   capture cap(filter, sink, snaplen, count, ifaces.size());   // sink null: count only (-q)
//   for each frame: if (!cap.offer(ring, ts_ns, data, len)) ... the sink failed ...
//                   if (cap.done()) ... -c reached ...
//   cap.set_dropped(ring, drops); fputs(closing_line(cap).c_str(), stderr);
//
// One interface per monitor ring, i.e. per ring of the watched port and direction: its label
// ("netmap:p{1 tx0", "netmap:eth0 host-rx0") names the watched port and the ring.
#pragma once

#include "filter.hpp"
#include "pcapng_writer.hpp"

#include <netring/netring.hpp>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace netring::dump {

struct capture_interface {
    std::string name;        // "netmap:p{1 tx0": the watched port and its ring
    std::string description; // a sentence for pcapng's if_description
    frame_direction dir = frame_direction::unknown;
};

// The interface for a monitor ring that copies `src` of the port named `watched`.
capture_interface describe_monitor_ring(std::string_view watched, const monitor_source &src);
// For a ring whose source the port does not say (not a monitor's ring): "WATCHED ringN".
capture_interface describe_unknown_ring(std::string_view watched, uint32_t ring);

struct captured_frame {
    uint32_t iface = 0;
    uint64_t ts_ns = 0;                  // when the frame crossed the watched port
    std::span<const unsigned char> kept; // at most snaplen bytes of it
    uint32_t len = 0;                    // its length on the wire
};

// Counted per interface from the start of the capture.
struct interface_counts {
    uint64_t received = 0;  // frames read from the ring
    uint64_t accepted = 0;  // of those, let through by the filter
    uint64_t delivered = 0; // of those, written (all of them unless -c cut the capture short)
    uint64_t dropped = 0;   // copies the monitor dropped because the ring was full
};

// Where kept frames go (sink.hpp: a pcapng or pcap file, or one line per frame).
class capture_sink {
public:
    virtual ~capture_sink() = default;
    virtual bool write(const captured_frame &f) = 0;
    virtual bool flush() = 0;
    // Statistics (pcapng) and the last flush; start_ns/end_ns bound the capture.
    virtual bool finish(std::span<const interface_counts> counts, uint64_t start_ns, uint64_t end_ns) = 0;
    virtual std::string error() const = 0; // why the last call failed
};

class capture {
public:
    // `sink` may be null (count only); it and `filter` must outlive the capture. count 0: no limit.
    capture(const frame_filter &filter, capture_sink *sink, uint32_t snaplen, uint64_t count,
            size_t interfaces);

    // One frame read from interface `iface`. False when the sink failed (sink->error() says why).
    bool offer(uint32_t iface, uint64_t ts_ns, const unsigned char *frame, uint32_t len);
    bool done() const { return count_ != 0 && captured_ >= count_; }

    void set_dropped(uint32_t iface, uint64_t drops) { counts_[iface].dropped = drops; }
    std::span<const interface_counts> counts() const { return counts_; }

    uint64_t captured() const { return captured_; } // frames written (or counted, without a sink)
    uint64_t filtered_out() const;
    uint64_t dropped() const;

private:
    const frame_filter &filter_;
    capture_sink *sink_;
    uint32_t snaplen_;
    uint64_t count_;
    uint64_t captured_ = 0;
    std::vector<interface_counts> counts_;
};

// "netring-dump: 100000 frames captured, 0 dropped by the monitor, 12 filtered out\n"
std::string closing_line(const capture &cap);

} // namespace netring::dump
