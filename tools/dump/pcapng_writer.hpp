// A small pcapng writer, after the IETF draft "PCAP Next Generation (pcapng) Capture File Format"
// (draft-ietf-opsawg-pcapng): one section of Ethernet interfaces with nanosecond timestamps,
// Enhanced Packet Blocks that carry the direction, Interface Statistics Blocks at the end.
// libpcap 1.10 reads pcapng but cannot write it, hence this file.
//
//   pcapng_writer w(file);                          // a FILE* the caller opened and closes
//   w.write_section("netring-dump");
//   w.write_interface({"netmap:p{1 tx0", "what netmap:p{1 transmits", "", 262144});  // id 0
//   w.write_packet(0, ts_ns, {frame, caplen}, len, frame_direction::outbound);
//   w.write_statistics(0, now_ns, stats);
//   if (!w.ok()) ... std::ferror(file) says why ...
//
// Blocks are written in the host's byte order, which the Section Header Block's byte-order magic
// announces (readers swap when they must). Interfaces are numbered from 0 in the order written;
// every one must come before the packets and statistics that name it. Each write builds its block
// in a buffer kept between calls (no allocation once it has grown to the largest block) and hands
// it to stdio in one fwrite.
#pragma once

#include <cstdint>
#include <cstdio>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace netring::dump {

// epb_flags bits 0-1.
enum class frame_direction : uint8_t { unknown = 0, inbound = 1, outbound = 2 };

struct pcapng_interface {
    std::string name;        // if_name
    std::string description; // if_description; empty: left out
    std::string filter;      // if_filter, a libpcap expression; empty: left out
    uint32_t snaplen = 0;
};

// What an Interface Statistics Block reports, counted from the start of the capture.
struct pcapng_statistics {
    uint64_t start_ns = 0;  // isb_starttime
    uint64_t end_ns = 0;    // isb_endtime
    uint64_t received = 0;  // isb_ifrecv: frames that crossed the interface
    uint64_t dropped = 0;   // isb_ifdrop: lost before the capture could read them
    uint64_t accepted = 0;  // isb_filteraccept: frames the filter let through
    uint64_t delivered = 0; // isb_usrdeliv: frames written to this file
};

class pcapng_writer {
public:
    explicit pcapng_writer(std::FILE *out) : out_(out) {}

    // Each returns ok(): false once any write has failed (the file's error is left in ferror).
    bool write_section(std::string_view application); // first, once
    bool write_interface(const pcapng_interface &iface);
    // `data` is what was kept of the frame (at most the interface's snaplen), `len` its length on
    // the wire.
    bool write_packet(uint32_t iface, uint64_t ts_ns, std::span<const unsigned char> data, uint32_t len,
                      frame_direction dir);
    bool write_statistics(uint32_t iface, uint64_t ts_ns, const pcapng_statistics &stats);

    bool ok() const { return ok_; }
    uint32_t interfaces() const { return interfaces_; }

private:
    void begin_block(uint32_t type);
    void put16(uint16_t v);
    void put32(uint32_t v);
    void put64(uint64_t v);
    void put_time(uint64_t ns); // upper 32 bits, then lower: the EPB timestamp layout
    void put_bytes(const void *data, size_t len);
    void pad_to_32_bits();
    void option(uint16_t code, const void *data, size_t len);
    void option_text(uint16_t code, std::string_view text);
    void option_u64(uint16_t code, uint64_t v);
    void option_time(uint16_t code, uint64_t ns);
    bool end_block(); // opt_endofopt, the trailing length, and the write

    std::FILE *out_;
    std::vector<unsigned char> block_;
    uint32_t interfaces_ = 0;
    bool ok_ = true;
};

} // namespace netring::dump
