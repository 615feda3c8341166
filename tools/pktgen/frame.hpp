// netring-pktgen's test frames: building them on tx and checking them on rx, with no I/O, so the
// per-packet code is small, inlined into the loops, and unit-tested without a daemon.
//
// Frame layout (len bytes, no FCS):
//   0  dst MAC (6)   6  src MAC (6)   12  ethertype 0x88b5, big-endian (IEEE local experimental)
//   14 magic u32     18 seq u64       26  len u16     28  check u32        (little-endian)
//   32 payload: 64-bit pattern words derived from seq (the last word cut to fit)
// `check` hashes magic, seq and len, so a frame whose header bytes were mixed with another's fails.
// payload_kind::header writes only bytes [0, 32) and checks [12, 32) (any MAC addresses): "only
// headers are touched".
// Ping frames carry the send time in payload word 0 and the pattern from word 1 on.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace netring::pktgen {

inline constexpr uint16_t test_ethertype = 0x88b5;
inline constexpr uint32_t frame_magic = 0x4750524eu; // "NRPG" in memory order
inline constexpr size_t off_ethertype = 12;
inline constexpr size_t off_magic = 14;
inline constexpr size_t off_seq = 18;
inline constexpr size_t off_len = 26;
inline constexpr size_t off_check = 28;
inline constexpr size_t header_bytes = 32;
inline constexpr uint32_t min_frame_len = 60; // the Ethernet minimum without FCS; holds the header
inline constexpr uint32_t default_frame_len = 60;

enum class payload_kind : uint8_t { full, header };

struct mac_addr {
    uint8_t b[6] = {};
    bool operator==(const mac_addr &) const = default;
};

inline constexpr mac_addr broadcast_mac{{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};
inline constexpr mac_addr default_src_mac{{0x02, 0x00, 0x00, 0x00, 0x00, 0x01}};

// "aa:bb:cc:dd:ee:ff" (hex digits, either case, one or two per byte).
bool parse_mac(std::string_view text, mac_addr &out);
std::string format_mac(const mac_addr &m);

// ---- little-endian loads and stores at any alignment (memcpy compiles to one mov) ----
template <class T>
inline void store_le(unsigned char *p, T v)
{
    if constexpr (std::endian::native == std::endian::big)
        v = static_cast<T>(__builtin_bswap64(static_cast<uint64_t>(v)) >> (64 - 8 * sizeof(T)));
    std::memcpy(p, &v, sizeof v);
}

template <class T>
inline T load_le(const unsigned char *p)
{
    T v;
    std::memcpy(&v, p, sizeof v);
    if constexpr (std::endian::native == std::endian::big)
        v = static_cast<T>(__builtin_bswap64(static_cast<uint64_t>(v)) >> (64 - 8 * sizeof(T)));
    return v;
}

// The check word: one multiplicative hash of the header fields (the high half of a 64-bit
// product), so a frame whose seq or len was mixed with another's fails. One multiply per frame:
// it runs on both sides for every packet of a benchmark.
inline uint32_t frame_check(uint64_t seq, uint16_t len)
{
    const uint64_t h = (seq ^ (uint64_t{len} << 48) ^ (uint64_t{frame_magic} << 16)) * 0x9e3779b97f4a7c15ull;
    return static_cast<uint32_t>(h >> 32);
}

// Frame bytes 16-31 of frame `seq`, `len` bytes long, as two little-endian words: the magic's upper
// half and seq's low 48 bits, then seq's top 16 bits, len and the check word. The writer stores
// them and the reader compares against them; one definition keeps the two in step.
struct header_words {
    uint64_t lo, hi;
};
inline header_words frame_header_words(uint64_t seq, uint16_t len)
{
    static_assert(off_ethertype + 2 == off_magic && off_magic + 4 == off_seq && off_seq + 8 == off_len &&
                  off_len + 2 == off_check && off_check + 4 == header_bytes);
    static_assert(std::endian::native == std::endian::little);
    return {(frame_magic >> 16) | (seq << 16),
            (seq >> 48) | (uint64_t{len} << 16) | (uint64_t{frame_check(seq, len)} << 32)};
}
// Frame bytes 12-15: the ethertype (big-endian) and the magic's lower half.
inline constexpr uint32_t frame_type_magic_lo =
    uint32_t{test_ethertype >> 8} | uint32_t{test_ethertype & 0xff} << 8 | (frame_magic & 0xffff) << 16;

// Payload word i of frame `seq`: base + i * step, a sequence that changes every byte of every word
// from one frame to the next and from one word to the next.
inline constexpr uint64_t pattern_step = 0x0123456789abcdefull;
inline uint64_t pattern_base(uint64_t seq) { return seq * 0x9e3779b97f4a7c15ull + 0x6a09e667f3bcc909ull; }

// Two pattern words at a time through GCC/Clang vector extensions: SSE2 (the x86-64 baseline)
// or NEON adds and stores 16 bytes per step, which the plain loop does not get at -O2.
using pattern_pair = uint64_t __attribute__((vector_size(16)));

// Writes the pattern into payload bytes [8 * first_word, n).
inline void pattern_fill(unsigned char *payload, size_t n, uint64_t seq, size_t first_word = 0)
{
    const uint64_t base = pattern_base(seq);
    const size_t words = n / 8;
    size_t i = first_word;
    if constexpr (std::endian::native == std::endian::little) {
        pattern_pair w = {base + i * pattern_step, base + (i + 1) * pattern_step};
        const pattern_pair inc = {2 * pattern_step, 2 * pattern_step};
        for (; i + 2 <= words; i += 2, w += inc)
            std::memcpy(payload + 8 * i, &w, sizeof w);
    }
    for (; i < words; i++)
        store_le<uint64_t>(payload + 8 * i, base + i * pattern_step);
    if (const size_t rest = n % 8; rest && i == words) {
        unsigned char tmp[8];
        store_le<uint64_t>(tmp, base + words * pattern_step);
        std::memcpy(payload + 8 * words, tmp, rest);
    }
}

// True when payload bytes [8 * first_word, n) hold frame `seq`'s pattern. No early exit: the
// differences are or-ed, 16 bytes at a time.
inline bool pattern_check(const unsigned char *payload, size_t n, uint64_t seq, size_t first_word = 0)
{
    const uint64_t base = pattern_base(seq);
    const size_t words = n / 8;
    uint64_t diff = 0;
    size_t i = first_word;
    if constexpr (std::endian::native == std::endian::little) {
        pattern_pair w = {base + i * pattern_step, base + (i + 1) * pattern_step};
        const pattern_pair inc = {2 * pattern_step, 2 * pattern_step};
        pattern_pair acc = {0, 0};
        for (; i + 2 <= words; i += 2, w += inc) {
            pattern_pair got;
            std::memcpy(&got, payload + 8 * i, sizeof got);
            acc |= got ^ w;
        }
        diff = acc[0] | acc[1];
    }
    for (; i < words; i++)
        diff |= load_le<uint64_t>(payload + 8 * i) ^ (base + i * pattern_step);
    if (const size_t rest = n % 8; rest && i == words) {
        unsigned char want[8];
        store_le<uint64_t>(want, base + words * pattern_step);
        diff |= static_cast<uint64_t>(std::memcmp(payload + 8 * words, want, rest) != 0);
    }
    return diff == 0;
}

// The constant part of every frame, prepared once; write() stamps seq (and the payload).
class frame_template {
public:
    frame_template(const mac_addr &dst, const mac_addr &src, uint16_t len, payload_kind kind);

    uint16_t len() const { return len_; }
    payload_kind kind() const { return kind_; }

    // Writes a whole frame of len() bytes for `seq` into buf. Ping frames skip payload word 0,
    // which the caller fills with its timestamp.
    void write(unsigned char *buf, uint64_t seq, size_t first_word = 0) const
    {
        write_header(buf, seq);
        if (kind_ == payload_kind::full)
            pattern_fill(buf + header_bytes, len_ - header_bytes, seq, first_word);
    }

    // Bytes [0, header_bytes) of write(): all of it for payload_kind::header.
    void write_header(unsigned char *buf, uint64_t seq) const
    {
        // Two 16-byte stores: the constant half, and the half with seq, len and check composed in
        // registers. The buffer's line is usually in the other core's cache, and the fewer stores
        // queue behind its transfer, the more frames the store buffer keeps in flight.
        const header_words w = frame_header_words(seq, len_);
        unsigned char second[16];
        std::memcpy(second, &w.lo, 8);
        std::memcpy(second + 8, &w.hi, 8);
        std::memcpy(buf, head_, 16);
        std::memcpy(buf + 16, second, 16);
    }

private:
    // The constant first half of the header (MACs, ethertype, the low half of the magic); the rest
    // comes from frame_header_words.
    alignas(16) unsigned char head_[16] = {};
    uint16_t len_;
    payload_kind kind_;
};

enum class frame_fault : uint8_t { none, too_short, ethertype, magic, length, check, payload };
const char *frame_fault_name(frame_fault f);

struct frame_verdict {
    frame_fault fault = frame_fault::none;
    uint64_t seq = 0; // meaningful when fault is none (or payload: the header itself was sound)
};

// The slow path of frame_inspect: which check failed.
inline frame_verdict frame_diagnose(const unsigned char *p, uint32_t len, payload_kind kind,
                                    size_t first_word)
{
    frame_verdict v;
    if (len < header_bytes) {
        v.fault = frame_fault::too_short;
        return v;
    }
    if (p[off_ethertype] != (test_ethertype >> 8) || p[off_ethertype + 1] != (test_ethertype & 0xff)) {
        v.fault = frame_fault::ethertype;
        return v;
    }
    if (load_le<uint32_t>(p + off_magic) != frame_magic) {
        v.fault = frame_fault::magic;
        return v;
    }
    const uint16_t flen = load_le<uint16_t>(p + off_len);
    v.seq = load_le<uint64_t>(p + off_seq);
    if (flen != len) {
        v.fault = frame_fault::length;
        return v;
    }
    if (load_le<uint32_t>(p + off_check) != frame_check(v.seq, flen)) {
        v.fault = frame_fault::check;
        return v;
    }
    if (kind == payload_kind::full && !pattern_check(p + header_bytes, len - header_bytes, v.seq, first_word))
        v.fault = frame_fault::payload;
    return v;
}

// True when bytes [12, 32) of a frame of slot length `len` are exactly what frame_template::write
// puts there for `seq` (any MAC addresses): a 4-byte and two 8-byte compares or-ed together, one
// branch.
// The rx loop's fast path asks this about the frame it expects next, so the expected bytes are
// computed while the frame's line is still on its way.
inline bool frame_header_is(const unsigned char *p, uint32_t len, uint64_t seq)
{
    // First, as in frame_diagnose: the slot's checks guarantee `len` bytes, the header needs 32.
    if (len < header_bytes || len > 0xffff) [[unlikely]]
        return false;
    const header_words want = frame_header_words(seq, static_cast<uint16_t>(len));
    const uint64_t diff = (load_le<uint32_t>(p + off_ethertype) ^ frame_type_magic_lo) |
                          (load_le<uint64_t>(p + 16) ^ want.lo) | (load_le<uint64_t>(p + 24) ^ want.hi);
    return diff == 0;
}

// Checks a received frame of slot length `len` (any MAC addresses are accepted): the header against
// the sequence number it carries (frame_header_is), then the payload; a mismatch takes
// frame_diagnose to name the fault.
inline frame_verdict frame_inspect(const unsigned char *p, uint32_t len, payload_kind kind,
                                   size_t first_word = 0)
{
    if (len < header_bytes) [[unlikely]]
        return frame_diagnose(p, len, kind, first_word);
    frame_verdict v;
    v.seq = load_le<uint64_t>(p + off_seq);
    if (!frame_header_is(p, len, v.seq)) [[unlikely]]
        return frame_diagnose(p, len, kind, first_word);
    if (kind == payload_kind::full && !pattern_check(p + header_bytes, len - header_bytes, v.seq, first_word))
        v.fault = frame_fault::payload;
    return v;
}

// Sequence accounting on rx: the next frame should carry last + 1. A jump forward counts the
// skipped numbers as lost; a number already passed counts as a duplicate (a reordered frame
// lands here too: pipes never reorder, so either way something is wrong).
struct seq_tracker {
    uint64_t expected = 0;
    uint64_t lost = 0;
    uint64_t duplicate = 0;

    void observe(uint64_t seq)
    {
        if (seq == expected) [[likely]] {
            expected++;
        } else if (seq > expected) {
            lost += seq - expected;
            expected = seq + 1;
        } else {
            duplicate++;
        }
    }
};

} // namespace netring::pktgen
