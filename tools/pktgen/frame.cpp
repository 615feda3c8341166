#include "frame.hpp"

#include <cstdio>

namespace netring::pktgen {

namespace {

int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

} // namespace

bool parse_mac(std::string_view text, mac_addr &out)
{
    mac_addr m;
    size_t pos = 0;
    for (int byte = 0; byte < 6; byte++) {
        if (byte > 0) {
            if (pos >= text.size() || text[pos] != ':')
                return false;
            pos++;
        }
        int value = 0;
        int digits = 0;
        while (pos < text.size() && digits < 2 && hex_digit(text[pos]) >= 0) {
            value = value * 16 + hex_digit(text[pos]);
            pos++;
            digits++;
        }
        if (digits == 0)
            return false;
        m.b[byte] = static_cast<uint8_t>(value);
    }
    if (pos != text.size())
        return false;
    out = m;
    return true;
}

std::string format_mac(const mac_addr &m)
{
    char buf[18];
    std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", m.b[0], m.b[1], m.b[2], m.b[3], m.b[4],
                  m.b[5]);
    return buf;
}

frame_template::frame_template(const mac_addr &dst, const mac_addr &src, uint16_t len, payload_kind kind)
    : len_(len), kind_(kind)
{
    std::memcpy(head_, dst.b, 6);
    std::memcpy(head_ + 6, src.b, 6);
    store_le<uint32_t>(head_ + off_ethertype, frame_type_magic_lo); // ethertype, magic bytes 0-1
}

const char *frame_fault_name(frame_fault f)
{
    switch (f) {
    case frame_fault::none:
        return "ok";
    case frame_fault::too_short:
        return "shorter than the test header";
    case frame_fault::ethertype:
        return "wrong ethertype";
    case frame_fault::magic:
        return "wrong magic";
    case frame_fault::length:
        return "header length differs from the slot length";
    case frame_fault::check:
        return "check word mismatch";
    case frame_fault::payload:
        return "payload pattern mismatch";
    }
    return "?";
}

} // namespace netring::pktgen
