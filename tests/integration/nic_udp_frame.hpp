// The `udp` test frames of the NIC scenarios: Ethernet / IPv4 / UDP, built by nic_peer and checked by
// nic_peer capture and nic_flow_rx. A real IPv4/UDP frame lets the veth's flow hash spread flows
// over its queues, the way a NIC's RSS would.
//
// Layout (len bytes, no FCS):
//   0  dst MAC, src MAC, ethertype 0x0800
//   14 IPv4 header (20 bytes, valid checksum): 10.77.0.2 -> 10.77.0.1, protocol UDP, TTL 64
//   34 UDP header: src port 10000 + flow, dst port 7777, length, checksum 0 (none, allowed in IPv4)
//   42 payload: magic u32 "NRUF", flow u16, len u16, seq u64 (per flow), check u32, zero u32,
//   66 then pktgen's 64-bit pattern words derived from (flow, seq)
// The addresses are used on the test's own veth pair only; nothing routes them.
#pragma once

#include "frame.hpp" // netring-pktgen's pattern words and little-endian helpers

#include <cstdint>
#include <cstring>

namespace netring::itest::udp_frame {

inline constexpr uint32_t magic = 0x4655524eu; // "NRUF" in memory order
inline constexpr size_t off_ip = 14;
inline constexpr size_t off_udp = 34;
inline constexpr size_t off_payload = 42;
inline constexpr size_t payload_header = 24;
inline constexpr uint32_t min_len = off_payload + payload_header; // 66
inline constexpr uint16_t base_src_port = 10000;
inline constexpr uint16_t dst_port = 7777;
inline constexpr uint8_t src_ip[4] = {10, 77, 0, 2};
inline constexpr uint8_t dst_ip[4] = {10, 77, 0, 1};

// One sequence space per flow: the pattern's seed mixes the flow in.
inline uint64_t pattern_seed(uint32_t flow, uint64_t seq) { return (uint64_t{flow} << 40) ^ seq; }

inline uint32_t check_word(uint32_t flow, uint64_t seq, uint16_t len)
{
    const uint64_t h = (seq ^ (uint64_t{len} << 48) ^ (uint64_t{flow} << 32) ^ magic) * 0x9e3779b97f4a7c15ull;
    return static_cast<uint32_t>(h >> 32);
}

inline void put_be16(unsigned char *p, uint16_t v)
{
    p[0] = static_cast<unsigned char>(v >> 8);
    p[1] = static_cast<unsigned char>(v);
}

inline uint16_t get_be16(const unsigned char *p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }

// The IPv4 header checksum (RFC 791): ones' complement of the ones' complement sum of its 16-bit words.
inline uint16_t ip_checksum(const unsigned char *hdr, size_t n)
{
    uint32_t sum = 0;
    for (size_t i = 0; i + 1 < n; i += 2)
        sum += get_be16(hdr + i);
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return static_cast<uint16_t>(~sum);
}

// Writes frame (flow, seq) of len bytes (len >= min_len) into buf.
inline void write(unsigned char *buf, const uint8_t (&dst)[6], const uint8_t (&src)[6], uint16_t len, uint32_t flow,
                  uint64_t seq)
{
    std::memcpy(buf, dst, 6);
    std::memcpy(buf + 6, src, 6);
    put_be16(buf + 12, 0x0800);
    unsigned char *ip = buf + off_ip;
    std::memset(ip, 0, 20);
    ip[0] = 0x45; // version 4, 5 words
    put_be16(ip + 2, static_cast<uint16_t>(len - off_ip));
    put_be16(ip + 4, static_cast<uint16_t>(seq)); // identification
    put_be16(ip + 6, 0x4000);                     // don't fragment
    ip[8] = 64;
    ip[9] = 17; // UDP
    std::memcpy(ip + 12, src_ip, 4);
    std::memcpy(ip + 16, dst_ip, 4);
    put_be16(ip + 10, ip_checksum(ip, 20));
    unsigned char *udp = buf + off_udp;
    put_be16(udp, static_cast<uint16_t>(base_src_port + flow));
    put_be16(udp + 2, dst_port);
    put_be16(udp + 4, static_cast<uint16_t>(len - off_udp));
    put_be16(udp + 6, 0);
    unsigned char *pl = buf + off_payload;
    pktgen::store_le<uint32_t>(pl, magic);
    pktgen::store_le<uint16_t>(pl + 4, static_cast<uint16_t>(flow));
    pktgen::store_le<uint16_t>(pl + 6, len);
    pktgen::store_le<uint64_t>(pl + 8, seq);
    pktgen::store_le<uint32_t>(pl + 16, check_word(flow, seq, len));
    pktgen::store_le<uint32_t>(pl + 20, 0);
    pktgen::pattern_fill(pl + payload_header, len - min_len, pattern_seed(flow, seq));
}

// True when the frame is IPv4/UDP to our port at all (anything else is not a test frame).
inline bool is_test_frame(const unsigned char *p, uint32_t len)
{
    return len >= off_payload && get_be16(p + 12) == 0x0800 && p[off_ip + 9] == 17 &&
           get_be16(p + off_udp + 2) == dst_port;
}

struct verdict {
    bool ok = false;
    uint32_t flow = 0;
    uint64_t seq = 0;
    const char *why = "";
};

// Checks every byte a test frame carries: IPv4 header and checksum, UDP ports and length, the payload
// header and the pattern.
inline verdict inspect(const unsigned char *p, uint32_t len)
{
    verdict v;
    if (len < min_len)
        return v.why = "shorter than the test header", v;
    const unsigned char *ip = p + off_ip;
    if (ip[0] != 0x45 || ip_checksum(ip, 20) != 0 || get_be16(ip + 2) != len - off_ip ||
        std::memcmp(ip + 12, src_ip, 4) != 0 || std::memcmp(ip + 16, dst_ip, 4) != 0)
        return v.why = "bad IPv4 header", v;
    const unsigned char *pl = p + off_payload;
    if (pktgen::load_le<uint32_t>(pl) != magic)
        return v.why = "wrong magic", v;
    v.flow = pktgen::load_le<uint16_t>(pl + 4);
    v.seq = pktgen::load_le<uint64_t>(pl + 8);
    if (pktgen::load_le<uint16_t>(pl + 6) != len || get_be16(p + off_udp + 4) != len - off_udp)
        return v.why = "length mismatch", v;
    if (get_be16(p + off_udp) != base_src_port + v.flow)
        return v.why = "UDP source port does not match the flow", v;
    if (pktgen::load_le<uint32_t>(pl + 16) != check_word(v.flow, v.seq, static_cast<uint16_t>(len)) ||
        pktgen::load_le<uint32_t>(pl + 20) != 0)
        return v.why = "check word mismatch", v;
    if (!pktgen::pattern_check(pl + payload_header, len - min_len, pattern_seed(v.flow, v.seq)))
        return v.why = "payload pattern mismatch", v;
    v.ok = true;
    return v;
}

} // namespace netring::itest::udp_frame
