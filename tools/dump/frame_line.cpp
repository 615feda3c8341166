#include "frame_line.hpp"

#include "tools/common/text_format.hpp"

#include <cinttypes>
#include <ctime>

namespace netring::dump {

namespace {

constexpr size_t mac_len = 6;
constexpr size_t ether_header_len = 14;
constexpr size_t vlan_tag_len = 4;
constexpr uint16_t min_ethertype = 0x0600; // below: an 802.3 length, not a type
constexpr uint16_t ethertype_vlan = 0x8100;
constexpr uint16_t ethertype_qinq = 0x88a8;

uint16_t read_be16(const unsigned char *p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }

const char *ethertype_name(uint16_t type)
{
    switch (type) {
    case 0x0800: return "IPv4";
    case 0x0806: return "ARP";
    case 0x86dd: return "IPv6";
    case 0x8100: return "802.1Q";
    case 0x88a8: return "802.1ad";
    case 0x88cc: return "LLDP";
    case 0x8847: return "MPLS";
    case 0x88f7: return "PTP";
    default: return nullptr;
    }
}

void append_mac(std::string &out, const unsigned char *m)
{
    tools::append_format(out, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

void append_type(std::string &out, uint16_t type)
{
    if (const char *name = ethertype_name(type))
        tools::append_format(out, "ethertype %s (0x%04x)", name, type);
    else
        tools::append_format(out, "ethertype 0x%04x", type);
}

void append_ethernet(std::string &out, std::span<const unsigned char> kept)
{
    if (kept.size() < ether_header_len) {
        out += "truncated Ethernet header";
        return;
    }
    append_mac(out, kept.data() + mac_len);
    out += " > ";
    append_mac(out, kept.data());
    out += ", ";
    const uint16_t type = read_be16(kept.data() + 2 * mac_len);
    if (type < min_ethertype) {
        tools::append_format(out, "802.3 length %u", type);
        return;
    }
    append_type(out, type);
    if (type != ethertype_vlan && type != ethertype_qinq)
        return;
    if (kept.size() < ether_header_len + vlan_tag_len) {
        out += ", truncated tag";
        return;
    }
    const unsigned char *tag = kept.data() + ether_header_len;
    tools::append_format(out, ", vlan %u, ", read_be16(tag) & 0x0fffu);
    append_type(out, read_be16(tag + 2));
}

} // namespace

const char *direction_word(frame_direction dir)
{
    switch (dir) {
    case frame_direction::inbound: return "in";
    case frame_direction::outbound: return "out";
    case frame_direction::unknown: break;
    }
    return "-";
}

void append_frame_line(std::string &out, uint64_t ts_ns, std::string_view iface, frame_direction dir,
                       std::span<const unsigned char> kept, uint32_t len)
{
    const auto seconds = static_cast<time_t>(ts_ns / 1000000000u);
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    tools::append_format(out, "%02d:%02d:%02d.%09" PRIu64 " %.*s %s length %" PRIu32 ": ", utc.tm_hour,
                         utc.tm_min, utc.tm_sec, ts_ns % 1000000000u, static_cast<int>(iface.size()),
                         iface.data(), direction_word(dir), len);
    append_ethernet(out, kept);
    out += '\n';
}

} // namespace netring::dump
