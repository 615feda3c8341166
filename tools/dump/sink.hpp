// Where netring-dump's kept frames go: a pcapng file (pcapng_writer.hpp), a classic pcap file
// (libpcap's dumper), or one line per frame (frame_line.hpp).
//
//   opened_sink s = open_sink(opts, interfaces);   // -w FILE, -w -, or lines on stdout
//   if (!s.error.empty()) ... cannot write ...
//   capture cap(filter, s.sink.get(), ...);        // s.sink is null with -q and no -w
//
// A file is opened (and its headers written) when the sink is made; "-" is stdout. The pcapng
// file gets one interface per entry of `interfaces`, in order, so a frame's interface is its
// monitor ring's index. Classic pcap has one link type and no per-frame interface or direction:
// those are lost there (docs/TOOLS.md says so).
#pragma once

#include "capture.hpp"
#include "options.hpp"

#include <cstdio>
#include <memory>
#include <span>
#include <string>

namespace netring::dump {

struct opened_sink {
    std::unique_ptr<capture_sink> sink; // null with -q and no -w, or on error
    std::string error;                  // non-empty: why the output could not be opened
};

opened_sink open_sink(const dump_options &o, std::span<const capture_interface> interfaces);

// The three kinds, for open_sink and the tests. `label` names the output in error messages.
// pcapng and lines write to `out`, which is closed at finish() when `owned`.
opened_sink make_pcapng_sink(std::FILE *out, bool owned, std::string label,
                             std::span<const capture_interface> interfaces, uint32_t snaplen,
                             const std::string &filter);
// `path` "-": stdout (through a duplicate of its descriptor, so finish() leaves stdout open).
opened_sink make_pcap_sink(const std::string &path, uint32_t snaplen);
opened_sink make_line_sink(std::FILE *out, std::span<const capture_interface> interfaces);

} // namespace netring::dump
