// netring-dump's line per frame, in the spirit of tcpdump -e's brief form:
//
//   14:03:27.123456789 netmap:pipeA{1 tx0 out length 60: 02:00:00:00:00:01 > ff:ff:ff:ff:ff:ff, ethertype IPv4 (0x0800)
//
// The time is UTC (the monitor's stamps are CLOCK_REALTIME), then the interface and direction,
// the length on the wire, and the Ethernet header: source > destination and the ethertype, seen
// through one 802.1Q or 802.1ad tag. Pure: appends to a string the caller reuses.
#pragma once

#include "pcapng_writer.hpp"

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace netring::dump {

// `kept`: the bytes captured of the frame; `len`: its length on the wire. Ends with a newline.
void append_frame_line(std::string &out, uint64_t ts_ns, std::string_view iface, frame_direction dir,
                       std::span<const unsigned char> kept, uint32_t len);

// "in", "out", or "-" when unknown.
const char *direction_word(frame_direction dir);

} // namespace netring::dump
