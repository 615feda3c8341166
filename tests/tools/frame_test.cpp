// tools/pktgen/frame.hpp: frames written by tx pass rx's checks, and every kind of damage is
// caught and named; the sequence tracker counts gaps and repeats.
#include "frame.hpp"

#include <gtest/gtest.h>

#include <array>
#include <vector>

using namespace netring::pktgen;

namespace {

std::vector<unsigned char> make_frame(uint16_t len, uint64_t seq, payload_kind kind)
{
    std::vector<unsigned char> buf(2048, 0xee);
    frame_template(broadcast_mac, default_src_mac, len, kind).write(buf.data(), seq);
    return buf;
}

} // namespace

TEST(Frame, HeaderLayout)
{
    const auto f = make_frame(60, 0x1122334455667788ull, payload_kind::full);
    for (int i = 0; i < 6; i++)
        EXPECT_EQ(f[i], 0xff);
    EXPECT_EQ(f[6], 0x02);
    EXPECT_EQ(f[11], 0x01);
    EXPECT_EQ(f[12], 0x88);
    EXPECT_EQ(f[13], 0xb5);
    EXPECT_EQ(load_le<uint32_t>(f.data() + off_magic), frame_magic);
    EXPECT_EQ(load_le<uint64_t>(f.data() + off_seq), 0x1122334455667788ull);
    EXPECT_EQ(load_le<uint16_t>(f.data() + off_len), 60);
    EXPECT_EQ(load_le<uint32_t>(f.data() + off_check), frame_check(0x1122334455667788ull, 60));
}

TEST(Frame, RoundTripAllLengths)
{
    for (uint16_t len = min_frame_len; len <= 200; len++) {
        for (const payload_kind kind : {payload_kind::full, payload_kind::header}) {
            const auto f = make_frame(len, len * 7u, kind);
            const frame_verdict v = frame_inspect(f.data(), len, kind);
            ASSERT_EQ(v.fault, frame_fault::none) << "len " << len;
            EXPECT_EQ(v.seq, len * 7u);
        }
    }
    const auto big = make_frame(2048, 99, payload_kind::full);
    EXPECT_EQ(frame_inspect(big.data(), 2048, payload_kind::full).fault, frame_fault::none);
}

TEST(Frame, FullModeWritesEveryPayloadByteAndNothingBeyond)
{
    const auto f = make_frame(61, 5, payload_kind::full);
    // 29 payload bytes: 3 whole words and 5 bytes of the fourth, then untouched memory.
    EXPECT_TRUE(pattern_check(f.data() + header_bytes, 29, 5));
    EXPECT_FALSE(pattern_check(f.data() + header_bytes, 29, 6));
    EXPECT_EQ(f[61], 0xee);
}

TEST(Frame, HeaderModeLeavesPayloadAlone)
{
    const auto f = make_frame(100, 5, payload_kind::header);
    for (size_t i = header_bytes; i < 100; i++)
        ASSERT_EQ(f[i], 0xee) << i;
    // A header-mode reader accepts it; a full-mode reader sees the payload is not the pattern.
    EXPECT_EQ(frame_inspect(f.data(), 100, payload_kind::header).fault, frame_fault::none);
    EXPECT_EQ(frame_inspect(f.data(), 100, payload_kind::full).fault, frame_fault::payload);
}

TEST(Frame, EveryPayloadByteIsChecked)
{
    const uint16_t len = 75; // a partial last word
    for (size_t pos = header_bytes; pos < len; pos++) {
        auto f = make_frame(len, 42, payload_kind::full);
        f[pos] ^= 0x10;
        EXPECT_EQ(frame_inspect(f.data(), len, payload_kind::full).fault, frame_fault::payload) << pos;
    }
}

TEST(Frame, DamageIsNamed)
{
    const uint16_t len = 64;
    auto check = [&](size_t pos, frame_fault want) {
        auto f = make_frame(len, 1000, payload_kind::full);
        f[pos] ^= 0x01;
        EXPECT_EQ(frame_inspect(f.data(), len, payload_kind::full).fault, want) << "byte " << pos;
    };
    check(off_ethertype + 1, frame_fault::ethertype);
    check(off_magic, frame_fault::magic);
    check(off_seq, frame_fault::check); // a changed seq no longer matches the check word
    check(off_seq + 7, frame_fault::check);
    check(off_len, frame_fault::length);
    check(off_check + 3, frame_fault::check);

    const auto f = make_frame(len, 1000, payload_kind::full);
    EXPECT_EQ(frame_inspect(f.data(), len - 1, payload_kind::full).fault, frame_fault::length);
    EXPECT_EQ(frame_inspect(f.data(), header_bytes - 1, payload_kind::full).fault, frame_fault::too_short);
}

TEST(Frame, EveryHeaderBitIsCheckedAndNamedAsTheSlowPathNamesIt)
{
    const uint16_t len = 60;
    for (const payload_kind kind : {payload_kind::header, payload_kind::full}) {
        for (size_t pos = off_ethertype; pos < header_bytes; pos++) {
            for (int bit = 0; bit < 8; bit++) {
                auto f = make_frame(len, 0x0123456789abcdefull, kind);
                f[pos] ^= static_cast<unsigned char>(1u << bit);
                const frame_verdict fast = frame_inspect(f.data(), len, kind);
                EXPECT_NE(fast.fault, frame_fault::none) << "byte " << pos << " bit " << bit;
                EXPECT_EQ(fast.fault, frame_diagnose(f.data(), len, kind, 0).fault) << "byte " << pos;
            }
        }
        const auto f = make_frame(len, 0x0123456789abcdefull, kind);
        const frame_verdict v = frame_inspect(f.data(), len, kind);
        EXPECT_EQ(v.fault, frame_fault::none);
        EXPECT_EQ(v.seq, 0x0123456789abcdefull) << "all 64 bits of seq, across the two header words";
    }
}

TEST(Frame, HeaderIsMatchesOnlyTheExpectedFrame)
{
    const uint64_t seq = 0x0123456789abcdefull;
    for (const uint16_t len : {uint16_t{60}, uint16_t{1500}}) {
        const auto f = make_frame(len, seq, payload_kind::full);
        EXPECT_TRUE(frame_header_is(f.data(), len, seq));
        EXPECT_FALSE(frame_header_is(f.data(), len, seq + 1));
        EXPECT_FALSE(frame_header_is(f.data(), len, seq ^ (uint64_t{1} << 63))) << "the top bits of seq count";
        EXPECT_FALSE(frame_header_is(f.data(), len - 1, seq)) << "slot length differs from the frame's";
        for (size_t pos = off_ethertype; pos < header_bytes; pos++) {
            auto bad = f;
            bad[pos] ^= 0x40;
            EXPECT_FALSE(frame_header_is(bad.data(), len, seq)) << "byte " << pos;
        }
    }
    const auto f = make_frame(60, seq, payload_kind::header);
    EXPECT_FALSE(frame_header_is(f.data(), header_bytes - 1, seq));
    // A frame shorter than the header is refused before any byte past its length is read (the
    // sanitizer build would flag a read past this 20-byte buffer).
    const std::vector<unsigned char> tiny(20, 0);
    EXPECT_FALSE(frame_header_is(tiny.data(), 20, 0));
}

TEST(Frame, MacAddressesDoNotMatterToTheChecker)
{
    std::vector<unsigned char> f(128);
    mac_addr a, b;
    ASSERT_TRUE(parse_mac("0a:0b:0c:0d:0e:0f", a));
    ASSERT_TRUE(parse_mac("1:2:3:4:5:6", b));
    frame_template(a, b, 128, payload_kind::full).write(f.data(), 3);
    EXPECT_EQ(f[0], 0x0a);
    EXPECT_EQ(f[11], 0x06);
    EXPECT_EQ(frame_inspect(f.data(), 128, payload_kind::full).fault, frame_fault::none);
}

TEST(Frame, PingFramesKeepTheirTimestampWord)
{
    std::vector<unsigned char> f(60);
    frame_template(broadcast_mac, default_src_mac, 60, payload_kind::full).write(f.data(), 9, 1);
    store_le<uint64_t>(f.data() + header_bytes, 0xdeadbeefcafef00dull);
    EXPECT_EQ(frame_inspect(f.data(), 60, payload_kind::full, 1).fault, frame_fault::none);
    EXPECT_EQ(frame_inspect(f.data(), 60, payload_kind::full, 0).fault, frame_fault::payload);
}

TEST(Frame, PatternMatchesItsDefinition)
{
    // Word i of the payload is pattern_base(seq) + i * pattern_step, little-endian, cut at n;
    // words before first_word are left alone. Every length and start, against a plain loop.
    for (size_t first = 0; first < 3; first++) {
        for (size_t n = 0; n < 100; n++) {
            std::vector<unsigned char> got(112, 0xaa);
            pattern_fill(got.data(), n, 77, first);
            std::vector<unsigned char> want(112, 0xaa);
            for (size_t b = 8 * first; b < n; b++) {
                const uint64_t w = pattern_base(77) + (b / 8) * pattern_step;
                want[b] = static_cast<unsigned char>(w >> (8 * (b % 8)));
            }
            ASSERT_EQ(got, want) << "n " << n << " first " << first;
            EXPECT_TRUE(pattern_check(got.data(), n, 77, first));
            if (n > 8 * first) {
                got[n - 1] ^= 1;
                EXPECT_FALSE(pattern_check(got.data(), n, 77, first)) << "n " << n << " first " << first;
            }
        }
    }
}

TEST(Frame, CheckWordDependsOnSeqAndLen)
{
    EXPECT_NE(frame_check(1, 60), frame_check(2, 60));
    EXPECT_NE(frame_check(1, 60), frame_check(1, 61));
    EXPECT_NE(frame_check(0, 60), frame_check(uint64_t{1} << 63, 60));
}

TEST(Mac, ParseAndFormat)
{
    mac_addr m;
    EXPECT_TRUE(parse_mac("02:00:00:00:00:01", m));
    EXPECT_EQ(m, default_src_mac);
    EXPECT_EQ(format_mac(m), "02:00:00:00:00:01");
    EXPECT_TRUE(parse_mac("FF:ff:Ff:fF:ff:ff", m));
    EXPECT_EQ(m, broadcast_mac);
    for (const char *bad : {"", "02:00:00:00:00", "02:00:00:00:00:01:", "02:00:00:00:00:001", "02-00-00-00-00-01",
                            "g2:00:00:00:00:01", "02::00:00:00:01"})
        EXPECT_FALSE(parse_mac(bad, m)) << bad;
}

TEST(SeqTracker, InOrderGapsAndRepeats)
{
    seq_tracker t;
    for (uint64_t s = 0; s < 10; s++)
        t.observe(s);
    EXPECT_EQ(t.lost, 0u);
    EXPECT_EQ(t.duplicate, 0u);
    t.observe(15); // 10..14 missing
    EXPECT_EQ(t.lost, 5u);
    EXPECT_EQ(t.expected, 16u);
    t.observe(15); // the same again
    t.observe(3);  // long past
    EXPECT_EQ(t.duplicate, 2u);
    t.observe(16);
    EXPECT_EQ(t.lost, 5u);
    EXPECT_EQ(t.expected, 17u);
}

TEST(SeqTracker, LateStartCountsTheMissedBeginning)
{
    seq_tracker t;
    t.observe(100);
    EXPECT_EQ(t.lost, 100u);
}
