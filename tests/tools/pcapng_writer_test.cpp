// tools/dump/pcapng_writer.hpp: a file with two interfaces, frames of known times, lengths and
// directions, and statistics. Read back three ways: libpcap (count, bytes, nanosecond times),
// a block-by-block parse (names, epb_flags, drops, padding), and tshark when it is installed.
#include "dump_test_support.hpp"
#include "pcapng_reader.hpp"
#include "pcapng_writer.hpp"

#include <gtest/gtest.h>
#include <pcap/pcap.h>

#include <sstream>

using namespace netring::dump;
using namespace netring::dump::testing;

namespace {

struct sample {
    uint32_t iface;
    uint64_t ts_ns;
    uint32_t kept; // bytes written
    uint32_t len;  // on the wire
    frame_direction dir;
};

constexpr uint32_t snaplen = 100;

// Lengths 60, 61, 63 and 62 leave every amount of padding; the third is cut to the snaplen; the
// second is one nanosecond after the first.
const sample samples[] = {
    {0, 1700000000123456789ull, 60, 60, frame_direction::outbound},
    {1, 1700000000123456790ull, 61, 61, frame_direction::inbound},
    {0, 1700000001000000001ull, snaplen, 1514, frame_direction::outbound},
    {1, 1700000002999999999ull, 62, 62, frame_direction::inbound},
    {1, 1700000003000000000ull, 63, 63, frame_direction::unknown},
};

// Frame i: byte k is i * 31 + k, so a frame written in the wrong place shows.
std::vector<unsigned char> frame_bytes(size_t i, uint32_t n)
{
    std::vector<unsigned char> f(n);
    for (uint32_t k = 0; k < n; k++)
        f[k] = static_cast<unsigned char>(i * 31 + k);
    return f;
}

void write_sample_file(const std::string &path)
{
    std::FILE *out = std::fopen(path.c_str(), "wb");
    ASSERT_NE(out, nullptr);
    pcapng_writer w(out);
    w.write_section("netring-dump test");
    w.write_interface({"netmap:p{1 tx0", "frames netmap:p{1 transmits", "udp port 9", snaplen});
    w.write_interface({"netmap:p{1 rx0", "", "", snaplen});
    EXPECT_EQ(w.interfaces(), 2u);
    for (size_t i = 0; i < std::size(samples); i++) {
        const sample &s = samples[i];
        const std::vector<unsigned char> f = frame_bytes(i, s.kept);
        w.write_packet(s.iface, s.ts_ns, f, s.len, s.dir);
    }
    w.write_statistics(0, 1700000004000000000ull,
                       {1700000000000000000ull, 1700000004000000000ull, 10, 7, 3, 2});
    w.write_statistics(1, 1700000004000000000ull,
                       {1700000000000000000ull, 1700000004000000000ull, 3, 0, 3, 3});
    EXPECT_TRUE(w.ok());
    EXPECT_EQ(std::fclose(out), 0);
}

} // namespace

TEST(PcapngWriter, LibpcapReadsFramesAndNanoseconds)
{
    temp_file file("two_ifaces.pcapng");
    write_sample_file(file.path());
    char errbuf[PCAP_ERRBUF_SIZE] = {};
    pcap_t *p =
        pcap_open_offline_with_tstamp_precision(file.path().c_str(), PCAP_TSTAMP_PRECISION_NANO, errbuf);
    ASSERT_NE(p, nullptr) << errbuf;
    EXPECT_EQ(pcap_datalink(p), DLT_EN10MB);
    size_t n = 0;
    pcap_pkthdr *h = nullptr;
    const u_char *data = nullptr;
    while (pcap_next_ex(p, &h, &data) == 1) {
        ASSERT_LT(n, std::size(samples));
        const sample &s = samples[n];
        EXPECT_EQ(static_cast<uint64_t>(h->ts.tv_sec), s.ts_ns / 1000000000u) << "frame " << n;
        EXPECT_EQ(static_cast<uint64_t>(h->ts.tv_usec), s.ts_ns % 1000000000u) << "frame " << n;
        EXPECT_EQ(h->caplen, s.kept) << "frame " << n;
        EXPECT_EQ(h->len, s.len) << "frame " << n;
        const std::vector<unsigned char> want = frame_bytes(n, s.kept);
        EXPECT_TRUE(std::equal(want.begin(), want.end(), data)) << "frame " << n;
        n++;
    }
    EXPECT_EQ(n, std::size(samples));
    pcap_close(p);
}

TEST(PcapngWriter, BlocksCarryNamesDirectionsAndDrops)
{
    temp_file file("blocks.pcapng");
    write_sample_file(file.path());
    const pcapng_file f = read_pcapng(file.path());
    ASSERT_TRUE(f.error.empty()) << f.error;
    ASSERT_FALSE(f.blocks.empty());
    EXPECT_EQ(f.blocks[0].type, shb_type);
    EXPECT_EQ(f.blocks[0].u32_at(0), 0x1a2b3c4du);
    ASSERT_NE(f.blocks[0].option(4), nullptr);
    EXPECT_EQ(f.blocks[0].option(4)->bytes, "netring-dump test");

    const auto idbs = f.of_type(idb_type);
    ASSERT_EQ(idbs.size(), 2u);
    const char *names[] = {"netmap:p{1 tx0", "netmap:p{1 rx0"};
    for (size_t i = 0; i < 2; i++) {
        EXPECT_EQ(idbs[i]->u32_at(0) & 0xffff, 1u); // LINKTYPE_ETHERNET
        EXPECT_EQ(idbs[i]->u32_at(4), snaplen);
        ASSERT_NE(idbs[i]->option(2), nullptr);
        EXPECT_EQ(idbs[i]->option(2)->bytes, names[i]);
        ASSERT_NE(idbs[i]->option(9), nullptr);
        EXPECT_EQ(idbs[i]->option(9)->bytes, std::string(1, '\x09')); // if_tsresol: 10^-9
    }
    ASSERT_NE(idbs[0]->option(3), nullptr);
    EXPECT_EQ(idbs[0]->option(3)->bytes, "frames netmap:p{1 transmits");
    ASSERT_NE(idbs[0]->option(11), nullptr);
    EXPECT_EQ(idbs[0]->option(11)->bytes, std::string(1, '\0') + "udp port 9");
    EXPECT_EQ(idbs[1]->option(3), nullptr); // empty description, left out
    EXPECT_EQ(idbs[1]->option(11), nullptr);

    const auto epbs = f.of_type(epb_type);
    ASSERT_EQ(epbs.size(), std::size(samples));
    for (size_t i = 0; i < epbs.size(); i++) {
        const sample &s = samples[i];
        EXPECT_EQ(epbs[i]->u32_at(0), s.iface) << "frame " << i;
        EXPECT_EQ(uint64_t{epbs[i]->u32_at(4)} << 32 | epbs[i]->u32_at(8), s.ts_ns) << "frame " << i;
        EXPECT_EQ(epbs[i]->u32_at(12), s.kept) << "frame " << i;
        EXPECT_EQ(epbs[i]->u32_at(16), s.len) << "frame " << i;
        ASSERT_NE(epbs[i]->option(2), nullptr) << "frame " << i;
        EXPECT_EQ(epbs[i]->option(2)->u32(), static_cast<uint32_t>(s.dir)) << "frame " << i;
    }

    const auto isbs = f.of_type(isb_type);
    ASSERT_EQ(isbs.size(), 2u);
    EXPECT_EQ(isbs[0]->u32_at(0), 0u);
    EXPECT_EQ(uint64_t{isbs[0]->u32_at(4)} << 32 | isbs[0]->u32_at(8), 1700000004000000000ull);
    ASSERT_NE(isbs[0]->option(5), nullptr);
    EXPECT_EQ(isbs[0]->option(5)->u64(), 7u);                      // isb_ifdrop
    EXPECT_EQ(isbs[0]->option(4)->u64(), 10u);                     // isb_ifrecv
    EXPECT_EQ(isbs[0]->option(6)->u64(), 3u);                      // isb_filteraccept
    EXPECT_EQ(isbs[0]->option(8)->u64(), 2u);                      // isb_usrdeliv
    EXPECT_EQ(isbs[0]->option(2)->time(), 1700000000000000000ull); // isb_starttime
    EXPECT_EQ(isbs[0]->option(3)->time(), 1700000004000000000ull); // isb_endtime
    EXPECT_EQ(isbs[1]->u32_at(0), 1u);
    EXPECT_EQ(isbs[1]->option(5)->u64(), 0u);
}

TEST(PcapngWriter, TsharkSeesInterfacesAndDirections)
{
    if (!on_path("tshark"))
        GTEST_SKIP() << "tshark is not installed (scripts/deps.sh installs it)";
    temp_file file("tshark.pcapng");
    write_sample_file(file.path());
    int status = 0;
    const std::string out =
        command_output("tshark -r '" + file.path() +
                           "' -T fields -E separator=/t -e frame.interface_name"
                           " -e frame.packet_flags_direction -e frame.time_epoch -e frame.len",
                       status);
    ASSERT_EQ(status, 0) << out;
    // One line per frame: interface name, direction, seconds.nanoseconds, length. tshark 4.0
    // prints the direction as the flags field's value ("0x00000002"): read it as a number, so
    // another spelling of the same value passes too.
    std::istringstream lines(out);
    std::string line;
    size_t n = 0;
    while (std::getline(lines, line)) {
        ASSERT_LT(n, std::size(samples)) << line;
        const sample &s = samples[n];
        std::istringstream fields(line);
        std::string name, dir, time, len;
        std::getline(fields, name, '\t');
        std::getline(fields, dir, '\t');
        std::getline(fields, time, '\t');
        std::getline(fields, len, '\t');
        EXPECT_EQ(name, s.iface == 0 ? "netmap:p{1 tx0" : "netmap:p{1 rx0") << line;
        EXPECT_EQ(std::strtoul(dir.c_str(), nullptr, 0), static_cast<unsigned long>(s.dir)) << line;
        char want_time[32];
        std::snprintf(want_time, sizeof want_time, "%llu.%09llu",
                      static_cast<unsigned long long>(s.ts_ns / 1000000000u),
                      static_cast<unsigned long long>(s.ts_ns % 1000000000u));
        EXPECT_EQ(time, want_time) << line;
        EXPECT_EQ(len, std::to_string(s.len)) << line;
        n++;
    }
    EXPECT_EQ(n, std::size(samples));
}

TEST(PcapngWriter, WriteFailureIsReported)
{
    std::FILE *full = std::fopen("/dev/full", "wb");
    if (!full)
        GTEST_SKIP() << "no /dev/full";
    std::setvbuf(full, nullptr, _IONBF, 0); // unbuffered: the write itself fails, not a later flush
    pcapng_writer w(full);
    EXPECT_FALSE(w.write_section("x"));
    EXPECT_FALSE(w.ok());
    EXPECT_FALSE(w.write_interface({"a", "", "", 64})); // stays failed
    std::fclose(full);
}
