// tools/dump/options.hpp: the port becomes a monitor name, options land in their fields, the
// filter words are joined, and bad input is refused with a sentence (netring-dump exits 2 on it).
#include "options.hpp"

#include <gtest/gtest.h>

using namespace netring::dump;

namespace {

dump_parse parse(std::vector<std::string> args) { return parse_dump_options(args); }

} // namespace

TEST(DumpOptions, Defaults)
{
    const auto p = parse({"-i", "netmap:pipeA{1"});
    ASSERT_TRUE(p.error.empty()) << p.error;
    EXPECT_EQ(p.opts.port, "netmap:pipeA{1/rt");
    EXPECT_EQ(p.opts.watched, "netmap:pipeA{1");
    EXPECT_EQ(p.opts.output, "");
    EXPECT_EQ(p.opts.format, file_format::pcapng);
    EXPECT_EQ(p.opts.count, 0u);
    EXPECT_EQ(p.opts.snaplen, default_snaplen);
    EXPECT_EQ(p.opts.snaplen, 262144u);
    EXPECT_FALSE(p.opts.quiet);
    EXPECT_EQ(p.opts.filter, "");
    EXPECT_EQ(p.opts.socket_path, "");
}

TEST(DumpOptions, MonitorFlagsKeptOrAdded)
{
    EXPECT_EQ(parse({"-i", "netmap:eth0/r"}).opts.port, "netmap:eth0/r");
    EXPECT_EQ(parse({"-i", "netmap:eth0/t"}).opts.port, "netmap:eth0/t");
    EXPECT_EQ(parse({"-i", "netmap:eth0/rt"}).opts.port, "netmap:eth0/rt");
    EXPECT_EQ(parse({"-i", "netmap:eth0^"}).opts.port, "netmap:eth0^/rt");
    EXPECT_EQ(parse({"-i", "vale0:p1/t"}).opts.port, "vale0:p1/t");
    EXPECT_EQ(parse({"-i", "vale0:p1/t"}).opts.watched, "vale0:p1");
    EXPECT_EQ(parse({"-i", "netmap:eth0/"}).opts.port, "netmap:eth0/rt");
    EXPECT_EQ(parse({"-i", "netmap:pipeA}3/r"}).opts.watched, "netmap:pipeA}3");
}

TEST(DumpOptions, EveryOption)
{
    const auto p = parse({"-i", "vale0:p1/t", "-w", "cap.pcap", "-F", "pcap", "-c", "1000", "-s", "128", "-q",
                          "--socket", "/tmp/s"});
    ASSERT_TRUE(p.error.empty()) << p.error;
    const dump_options &o = p.opts;
    EXPECT_EQ(o.output, "cap.pcap");
    EXPECT_EQ(o.format, file_format::pcap);
    EXPECT_EQ(o.count, 1000u);
    EXPECT_EQ(o.snaplen, 128u);
    EXPECT_TRUE(o.quiet);
    EXPECT_EQ(o.socket_path, "/tmp/s");
}

TEST(DumpOptions, StdoutAndJoinedForms)
{
    const auto p = parse({"-inetmap:pipeB{2", "-w-", "-Fpcapng", "-c5", "--socket=/s"});
    ASSERT_TRUE(p.error.empty()) << p.error;
    EXPECT_EQ(p.opts.port, "netmap:pipeB{2/rt");
    EXPECT_EQ(p.opts.output, "-");
    EXPECT_EQ(p.opts.format, file_format::pcapng);
    EXPECT_EQ(p.opts.count, 5u);
    EXPECT_EQ(p.opts.socket_path, "/s");
    EXPECT_EQ(parse({"-i", "p", "-w", "-"}).opts.output, "-"); // "-" alone is a value, not an option
}

TEST(DumpOptions, FilterWordsJoinedWherever)
{
    EXPECT_EQ(parse({"-i", "p", "tcp", "port", "80"}).opts.filter, "tcp port 80");
    EXPECT_EQ(parse({"udp", "-i", "p", "and", "-c", "3", "port 9"}).opts.filter, "udp and port 9");
    EXPECT_EQ(parse({"-i", "p", "not", "arp"}).opts.count, 0u);
}

TEST(DumpOptions, SnaplenBounds)
{
    EXPECT_EQ(parse({"-i", "p", "-s", "1"}).opts.snaplen, 1u);
    EXPECT_EQ(parse({"-i", "p", "-s", "262144"}).opts.snaplen, 262144u);
    EXPECT_EQ(parse({"-i", "p", "-s", "0"}).opts.snaplen, default_snaplen); // tcpdump's "default"
    EXPECT_EQ(parse({"-i", "p", "-s", "262145"}).error,
              "-s: expected a snapshot length from 0 to 262144, not '262145'");
    EXPECT_EQ(parse({"-i", "p", "-s", "-1"}).error,
              "-s: expected a snapshot length from 0 to 262144, not '-1'");
}

TEST(DumpOptions, CountBounds)
{
    EXPECT_EQ(parse({"-i", "p", "-c", "1"}).opts.count, 1u);
    EXPECT_EQ(parse({"-i", "p", "-c", "18446744073709551615"}).opts.count, UINT64_MAX);
    EXPECT_EQ(parse({"-i", "p", "-c", "0"}).error, "-c: expected a positive count, not '0'");
    EXPECT_EQ(parse({"-i", "p", "-c", "many"}).error, "-c: expected a positive count, not 'many'");
    EXPECT_EQ(parse({"-i", "p", "-c"}).error, "-c needs a positive count");
}

TEST(DumpOptions, MonitorRingSlots)
{
    EXPECT_EQ(parse({"-i", "p"}).opts.slots, 8192u);
    EXPECT_FALSE(parse({"-i", "p"}).opts.slots_given);
    const auto p = parse({"-i", "p", "-B", "65536"});
    EXPECT_EQ(p.opts.slots, 65536u);
    EXPECT_TRUE(p.opts.slots_given);
    EXPECT_EQ(parse({"-i", "p", "-B", "1000"}).error, "-B: expected a power of two of slots, not 1000");
    EXPECT_EQ(parse({"-i", "p", "-B", "1"}).error,
              "-B: expected a power of two of slots from 2 to 1048576, not '1'");
}

TEST(DumpOptions, RefusedWithASentence)
{
    EXPECT_EQ(parse({}).error, "a port is required (-i PORT)");
    EXPECT_EQ(parse({"tcp"}).error, "a port is required (-i PORT)");
    EXPECT_EQ(parse({"-i", "p", "-F", "erf", "-w", "x"}).error, "-F: expected pcapng or pcap, not 'erf'");
    EXPECT_EQ(parse({"-i", "p", "-F", "pcap"}).error,
              "-F chooses the format of a capture file: give -w FILE too");
    EXPECT_EQ(parse({"-i", "p", "-w", ""}).error, "-w needs a file name, or - for stdout");
    EXPECT_EQ(parse({"-i", "p", "-x"}).error, "unknown option '-x'");
    EXPECT_EQ(parse({"-i", "p", "-qq"}).error, "-q takes no value");
    EXPECT_EQ(parse({"-i", "netmap:eth0/x"}).error,
              "-i: netmap:eth0/x is no monitor: a monitor takes the flags r, t or rt, not 'x'");
    EXPECT_EQ(parse({"-i", "netmap:eth0/T"}).error,
              "-i: netmap:eth0/T is no monitor: a monitor takes the flags r, t or rt, not 'T'");
}

TEST(DumpOptions, Help)
{
    EXPECT_TRUE(parse({"-h"}).help);
    EXPECT_TRUE(parse({"-i", "p", "--help"}).help);
    const std::string usage = dump_usage();
    for (const char *opt :
         {"-i PORT", "-w FILE", "-F pcapng|pcap", "-c COUNT", "-s SNAPLEN", "-q", "--socket PATH", "FILTER"})
        EXPECT_NE(usage.find(opt), std::string::npos) << opt;
}
