#include "pcapng_writer.hpp"

#include <algorithm>
#include <cstring>

namespace netring::dump {

namespace {

// Block types and option codes, from the draft's tables.
constexpr uint32_t block_section = 0x0a0d0d0a;
constexpr uint32_t block_interface = 0x00000001;
constexpr uint32_t block_statistics = 0x00000005;
constexpr uint32_t block_enhanced_packet = 0x00000006;
constexpr uint32_t byte_order_magic = 0x1a2b3c4d; // reads 4d 3c 2b 1a in a little-endian file

constexpr uint16_t opt_endofopt = 0;
constexpr uint16_t shb_userappl = 4;
constexpr uint16_t if_name = 2;
constexpr uint16_t if_description = 3;
constexpr uint16_t if_tsresol = 9;
constexpr uint16_t if_filter = 11;
constexpr uint16_t epb_flags = 2;
constexpr uint16_t isb_starttime = 2;
constexpr uint16_t isb_endtime = 3;
constexpr uint16_t isb_ifrecv = 4;
constexpr uint16_t isb_ifdrop = 5;
constexpr uint16_t isb_filteraccept = 6;
constexpr uint16_t isb_usrdeliv = 8;

constexpr uint16_t linktype_ethernet = 1;  // LINKTYPE_ETHERNET, libpcap's DLT_EN10MB
constexpr uint8_t tsresol_nanoseconds = 9; // 10^-9 s per timestamp unit
constexpr uint8_t filter_libpcap = 0;      // if_filter's first byte: the rest is a libpcap string
constexpr size_t max_option_len = 0xffff;  // an option's length field is 16 bits

} // namespace

void pcapng_writer::begin_block(uint32_t type)
{
    block_.clear();
    put32(type);
    put32(0); // the total length, filled in by end_block
}

void pcapng_writer::put16(uint16_t v) { put_bytes(&v, sizeof v); }
void pcapng_writer::put32(uint32_t v) { put_bytes(&v, sizeof v); }
void pcapng_writer::put64(uint64_t v) { put_bytes(&v, sizeof v); }

void pcapng_writer::put_time(uint64_t ns)
{
    put32(static_cast<uint32_t>(ns >> 32));
    put32(static_cast<uint32_t>(ns));
}

void pcapng_writer::put_bytes(const void *data, size_t len)
{
    const auto *p = static_cast<const unsigned char *>(data);
    block_.insert(block_.end(), p, p + len);
}

void pcapng_writer::pad_to_32_bits() { block_.resize((block_.size() + 3) & ~size_t{3}, 0); }

void pcapng_writer::option(uint16_t code, const void *data, size_t len)
{
    len = std::min(len, max_option_len);
    put16(code);
    put16(static_cast<uint16_t>(len));
    put_bytes(data, len);
    pad_to_32_bits();
}

void pcapng_writer::option_text(uint16_t code, std::string_view text)
{
    option(code, text.data(), text.size());
}
void pcapng_writer::option_u64(uint16_t code, uint64_t v) { option(code, &v, sizeof v); }

void pcapng_writer::option_time(uint16_t code, uint64_t ns)
{
    const uint32_t halves[2] = {static_cast<uint32_t>(ns >> 32), static_cast<uint32_t>(ns)};
    option(code, halves, sizeof halves);
}

// Every block written here carries options, so each ends with opt_endofopt.
bool pcapng_writer::end_block()
{
    put16(opt_endofopt);
    put16(0);
    const auto total = static_cast<uint32_t>(block_.size() + sizeof(uint32_t));
    put32(total);
    std::memcpy(block_.data() + sizeof(uint32_t), &total, sizeof total);
    if (ok_ && std::fwrite(block_.data(), 1, block_.size(), out_) != block_.size())
        ok_ = false;
    return ok_;
}

bool pcapng_writer::write_section(std::string_view application)
{
    begin_block(block_section);
    put32(byte_order_magic);
    put16(1);            // major version
    put16(0);            // minor version
    put64(~uint64_t{0}); // section length -1: not given, the section runs to the end of the file
    option_text(shb_userappl, application);
    return end_block();
}

bool pcapng_writer::write_interface(const pcapng_interface &iface)
{
    begin_block(block_interface);
    put16(linktype_ethernet);
    put16(0); // reserved
    put32(iface.snaplen);
    option_text(if_name, iface.name);
    if (!iface.description.empty())
        option_text(if_description, iface.description);
    option(if_tsresol, &tsresol_nanoseconds, 1);
    if (!iface.filter.empty()) {
        std::string value(1, static_cast<char>(filter_libpcap));
        value += iface.filter;
        option_text(if_filter, value);
    }
    interfaces_++;
    return end_block();
}

bool pcapng_writer::write_packet(uint32_t iface, uint64_t ts_ns, std::span<const unsigned char> data,
                                 uint32_t len, frame_direction dir)
{
    begin_block(block_enhanced_packet);
    put32(iface);
    put_time(ts_ns);
    put32(static_cast<uint32_t>(data.size()));
    put32(len);
    put_bytes(data.data(), data.size());
    pad_to_32_bits();
    const auto flags = static_cast<uint32_t>(dir);
    option(epb_flags, &flags, sizeof flags);
    return end_block();
}

bool pcapng_writer::write_statistics(uint32_t iface, uint64_t ts_ns, const pcapng_statistics &stats)
{
    begin_block(block_statistics);
    put32(iface);
    put_time(ts_ns);
    option_time(isb_starttime, stats.start_ns);
    option_time(isb_endtime, stats.end_ns);
    option_u64(isb_ifrecv, stats.received);
    option_u64(isb_ifdrop, stats.dropped);
    option_u64(isb_filteraccept, stats.accepted);
    option_u64(isb_usrdeliv, stats.delivered);
    return end_block();
}

} // namespace netring::dump
