// tools/dump/sink.hpp: each output kind, fed through a capture and read back: pcapng (blocks and
// statistics), classic pcap through libpcap (nanosecond times kept), lines; and open_sink's
// choices and errors.
#include "capture.hpp"
#include "dump_test_support.hpp"
#include "pcapng_reader.hpp"
#include "sink.hpp"

#include <gtest/gtest.h>
#include <pcap/pcap.h>

#include <fstream>
#include <iterator>

using namespace netring;
using namespace netring::dump;
using namespace netring::dump::testing;

namespace {

const std::vector<capture_interface> two_rings = {
    describe_monitor_ring("netmap:p{1", {true, false, 0}),
    describe_monitor_ring("netmap:p{1", {false, false, 0}),
};

constexpr uint64_t t0 = 1700000000ull * 1000000000ull;

// Three frames: tx0 UDP at t0+1, rx0 TCP at t0+2 (filtered out by "udp"), rx0 UDP of 1500 bytes at
// t0+3 (cut to the snaplen, 100).
void feed(capture &cap)
{
    const auto a = ipv4_frame(ip_proto_udp, 9);
    const auto b = ipv4_frame(ip_proto_tcp, 9);
    const auto c = ipv4_frame(ip_proto_udp, 9, 1500);
    EXPECT_TRUE(cap.offer(0, t0 + 1, a.data(), static_cast<uint32_t>(a.size())));
    EXPECT_TRUE(cap.offer(1, t0 + 2, b.data(), static_cast<uint32_t>(b.size())));
    EXPECT_TRUE(cap.offer(1, t0 + 3, c.data(), static_cast<uint32_t>(c.size())));
}

frame_filter udp_filter()
{
    std::string why;
    auto f = frame_filter::compile("udp", 100, why);
    EXPECT_TRUE(f) << why;
    return f ? std::move(*f) : frame_filter();
}

std::string file_text(const std::string &path)
{
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

} // namespace

TEST(DumpSink, PcapngFileWithStatistics)
{
    temp_file file("sink.pcapng");
    std::FILE *out = std::fopen(file.path().c_str(), "wb");
    ASSERT_NE(out, nullptr);
    opened_sink s = make_pcapng_sink(out, true, file.path(), two_rings, 100, "udp");
    ASSERT_TRUE(s.error.empty()) << s.error;
    const frame_filter filter = udp_filter();
    capture cap(filter, s.sink.get(), 100, 0, two_rings.size());
    feed(cap);
    cap.set_dropped(1, 4);
    ASSERT_TRUE(s.sink->finish(cap.counts(), t0, t0 + 10)) << s.sink->error();

    const pcapng_file f = read_pcapng(file.path());
    ASSERT_TRUE(f.error.empty()) << f.error;
    const auto idbs = f.of_type(idb_type);
    ASSERT_EQ(idbs.size(), 2u);
    EXPECT_EQ(idbs[0]->option(2)->bytes, "netmap:p{1 tx0");
    EXPECT_EQ(idbs[1]->option(2)->bytes, "netmap:p{1 rx0");
    EXPECT_EQ(idbs[1]->option(11)->bytes, std::string(1, '\0') + "udp");
    const auto epbs = f.of_type(epb_type);
    ASSERT_EQ(epbs.size(), 2u);
    EXPECT_EQ(epbs[0]->option(2)->u32(), 2u); // tx0: outbound
    EXPECT_EQ(epbs[1]->option(2)->u32(), 1u); // rx0: inbound
    EXPECT_EQ(epbs[1]->u32_at(12), 100u);
    EXPECT_EQ(epbs[1]->u32_at(16), 1500u);
    const auto isbs = f.of_type(isb_type);
    ASSERT_EQ(isbs.size(), 2u);
    EXPECT_EQ(isbs[1]->option(4)->u64(), 6u); // ifrecv: 2 read + 4 dropped
    EXPECT_EQ(isbs[1]->option(5)->u64(), 4u); // ifdrop
    EXPECT_EQ(isbs[1]->option(6)->u64(), 1u); // filteraccept
    EXPECT_EQ(isbs[1]->option(8)->u64(), 1u); // usrdeliv
    EXPECT_EQ(isbs[0]->option(5)->u64(), 0u);
}

TEST(DumpSink, PcapFileKeepsNanoseconds)
{
    temp_file file("sink.pcap");
    opened_sink s = make_pcap_sink(file.path(), 100);
    ASSERT_TRUE(s.error.empty()) << s.error;
    const frame_filter filter = udp_filter();
    capture cap(filter, s.sink.get(), 100, 0, two_rings.size());
    feed(cap);
    ASSERT_TRUE(s.sink->finish(cap.counts(), t0, t0 + 10)) << s.sink->error();

    char errbuf[PCAP_ERRBUF_SIZE] = {};
    pcap_t *p =
        pcap_open_offline_with_tstamp_precision(file.path().c_str(), PCAP_TSTAMP_PRECISION_NANO, errbuf);
    ASSERT_NE(p, nullptr) << errbuf;
    EXPECT_EQ(pcap_datalink(p), DLT_EN10MB);
    EXPECT_EQ(pcap_snapshot(p), 100);
    pcap_pkthdr *h = nullptr;
    const u_char *data = nullptr;
    ASSERT_EQ(pcap_next_ex(p, &h, &data), 1);
    EXPECT_EQ(static_cast<uint64_t>(h->ts.tv_sec), 1700000000u);
    EXPECT_EQ(h->ts.tv_usec, 1);
    EXPECT_EQ(h->caplen, 60u);
    const auto a = ipv4_frame(ip_proto_udp, 9);
    EXPECT_TRUE(std::equal(a.begin(), a.end(), data));
    ASSERT_EQ(pcap_next_ex(p, &h, &data), 1);
    EXPECT_EQ(h->ts.tv_usec, 3);
    EXPECT_EQ(h->caplen, 100u);
    EXPECT_EQ(h->len, 1500u);
    EXPECT_EQ(pcap_next_ex(p, &h, &data), PCAP_ERROR_BREAK); // the end of the file
    pcap_close(p);
}

TEST(DumpSink, LinesOnePerFrame)
{
    temp_file file("sink.txt");
    std::FILE *out = std::fopen(file.path().c_str(), "w");
    ASSERT_NE(out, nullptr);
    opened_sink s = make_line_sink(out, two_rings);
    const frame_filter filter = udp_filter();
    capture cap(filter, s.sink.get(), 100, 0, two_rings.size());
    feed(cap);
    ASSERT_TRUE(s.sink->finish(cap.counts(), t0, t0 + 10)) << s.sink->error();
    std::fclose(out);
    EXPECT_EQ(file_text(file.path()),
              "22:13:20.000000001 netmap:p{1 tx0 out length 60: 02:00:00:00:00:01 > 02:00:00:00:00:02, "
              "ethertype IPv4 (0x0800)\n"
              "22:13:20.000000003 netmap:p{1 rx0 in length 1500: 02:00:00:00:00:01 > 02:00:00:00:00:02, "
              "ethertype IPv4 (0x0800)\n");
}

TEST(DumpSink, OpenSinkChoosesByOptions)
{
    dump_options o;
    o.quiet = true;
    opened_sink quiet = open_sink(o, two_rings);
    EXPECT_TRUE(quiet.error.empty());
    EXPECT_EQ(quiet.sink, nullptr); // -q without -w: nothing to write, only counts

    temp_file file("open.pcapng");
    o.output = file.path();
    opened_sink ng = open_sink(o, two_rings);
    ASSERT_TRUE(ng.error.empty()) << ng.error;
    ASSERT_TRUE(ng.sink->finish({}, t0, t0));
    EXPECT_EQ(file_text(file.path()).substr(0, 4), std::string("\x0a\x0d\x0d\x0a", 4));

    o.format = file_format::pcap;
    opened_sink pcap = open_sink(o, two_rings);
    ASSERT_TRUE(pcap.error.empty()) << pcap.error;
    ASSERT_TRUE(pcap.sink->finish({}, t0, t0));
    EXPECT_EQ(file_text(file.path()).substr(0, 4), std::string("\x4d\x3c\xb2\xa1", 4)); // nanosecond pcap
}

TEST(DumpSink, UnwritablePathIsAnError)
{
    dump_options o;
    o.output = "/nonexistent-dir/cap.pcapng";
    opened_sink ng = open_sink(o, two_rings);
    EXPECT_EQ(ng.sink, nullptr);
    EXPECT_EQ(ng.error, "cannot open /nonexistent-dir/cap.pcapng: No such file or directory");
    o.format = file_format::pcap;
    opened_sink pcap = open_sink(o, two_rings);
    EXPECT_EQ(pcap.sink, nullptr);
    EXPECT_NE(pcap.error.find("/nonexistent-dir/cap.pcapng"), std::string::npos) << pcap.error;
}
