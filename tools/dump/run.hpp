// netring-dump's part that touches the port: what each monitor ring copies, and the read loop.
//
//   std::vector<capture_interface> ifaces = describe_rings(p, opts.watched);
//   capture cap(...);
//   capture_end end = run_capture(p, cap, sink, opts.output == "-");
//
// The loop reads like a netmap rx loop: rxsync, take every ring's slots [head, tail), set
// head = cur = tail, and rxsync again, which hands the slots back. A copy's data is at offset 0 of
// its buffer and its slot.ptr is the time the frame crossed the watched port (nr_mon_slot_ns).
// When no ring has frames it sleeps in port.wait for up to 100 ms, so signals are seen promptly.
#pragma once

#include "capture.hpp"

#include <netring/netring.hpp>

#include <atomic>
#include <string>
#include <vector>

namespace netring::dump {

extern std::atomic<bool> stop_requested; // set by the SIGINT/SIGTERM handler

std::vector<capture_interface> describe_rings(const port &p, const std::string &watched);

enum class capture_end : uint8_t {
    count,       // -c frames written
    stopped,     // SIGINT or SIGTERM
    port_gone,   // the watched port went away and every copy made before was read
    sync_failed, // the daemon went away or a ring was reset; printed
    sink_failed, // the output could not be written; the caller prints sink->error()
};

// `flush_each_batch`: flush the sink after every batch that wrote something (-w -, lines), so a
// reader at the other end of a pipe sees frames as they come. Counts the monitor's drops into
// `cap` before returning.
capture_end run_capture(port &p, capture &cap, capture_sink *sink, bool flush_each_batch);

} // namespace netring::dump
