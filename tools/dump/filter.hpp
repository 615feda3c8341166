// The capture filter: a libpcap expression (pcap-filter(7)) compiled once to BPF and run on each
// frame in user space with pcap_offline_filter, so netring-dump takes tcpdump's filters.
//
//   std::string why;
//   std::optional<frame_filter> f = frame_filter::compile("udp port 9", 262144, why);
//   if (!f) ... usage error quoting `why` (libpcap's sentence) ...
//   if (f->accepts(kept_bytes, wire_len)) ... write the frame ...
//
// A default-constructed filter, or one compiled from an empty expression, lets every frame through
// without calling libpcap.
#pragma once

#include <pcap/pcap.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace netring::dump {

class frame_filter {
public:
    frame_filter() = default;
    frame_filter(frame_filter &&other) noexcept;
    frame_filter &operator=(frame_filter &&other) noexcept;
    frame_filter(const frame_filter &) = delete;
    frame_filter &operator=(const frame_filter &) = delete;
    ~frame_filter();

    // For Ethernet frames kept to `snaplen` bytes, optimized, netmask unknown (so "ip broadcast"
    // is refused, as tcpdump refuses it on an interface without an address).
    static std::optional<frame_filter> compile(const std::string &expression, uint32_t snaplen,
                                               std::string &why);

    // `kept`: the bytes captured of the frame; `len`: its length on the wire.
    bool accepts(std::span<const unsigned char> kept, uint32_t len) const;
    bool passes_all() const { return !compiled_; }
    const std::string &expression() const { return expression_; }

private:
    void release();

    bpf_program program_{}; // owned: pcap_freecode (paired with pcap_compile)
    bool compiled_ = false;
    std::string expression_;
};

} // namespace netring::dump
