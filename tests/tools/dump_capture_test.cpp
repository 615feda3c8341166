// tools/dump/capture.hpp: the per-frame work between the rings and the output: the filter's
// verdict, the snapshot length, -c, the counters per interface and the closing line; and the names
// given to monitor rings.
#include "capture.hpp"
#include "dump_test_support.hpp"

#include <gtest/gtest.h>

using namespace netring;
using namespace netring::dump;
using namespace netring::dump::testing;

namespace {

// Records what reaches the output; fails on request.
class recording_sink final : public capture_sink {
public:
    struct entry {
        uint32_t iface;
        uint64_t ts_ns;
        size_t kept;
        uint32_t len;
    };
    std::vector<entry> frames;
    bool fail_writes = false;

    bool write(const captured_frame &f) override
    {
        if (fail_writes)
            return false;
        frames.push_back({f.iface, f.ts_ns, f.kept.size(), f.len});
        return true;
    }
    bool flush() override { return true; }
    bool finish(std::span<const interface_counts>, uint64_t, uint64_t) override { return true; }
    std::string error() const override { return fail_writes ? "refused" : ""; }
};

frame_filter compiled(const std::string &expression)
{
    std::string why;
    auto f = frame_filter::compile(expression, 262144, why);
    EXPECT_TRUE(f) << why;
    return f ? std::move(*f) : frame_filter();
}

bool offer(capture &cap, uint32_t iface, uint64_t ts, const std::vector<unsigned char> &frame)
{
    return cap.offer(iface, ts, frame.data(), static_cast<uint32_t>(frame.size()));
}

} // namespace

TEST(DumpCapture, FilterDecidesAndCountsPerInterface)
{
    const frame_filter f = compiled("udp port 9");
    recording_sink sink;
    capture cap(f, &sink, 262144, 0, 2);
    EXPECT_TRUE(offer(cap, 0, 100, ipv4_frame(ip_proto_udp, 9)));
    EXPECT_TRUE(offer(cap, 1, 200, ipv4_frame(ip_proto_tcp, 9)));
    EXPECT_TRUE(offer(cap, 1, 300, ipv4_frame(ip_proto_udp, 9, 90)));
    ASSERT_EQ(sink.frames.size(), 2u);
    EXPECT_EQ(sink.frames[0].iface, 0u);
    EXPECT_EQ(sink.frames[0].ts_ns, 100u);
    EXPECT_EQ(sink.frames[1].iface, 1u);
    EXPECT_EQ(sink.frames[1].ts_ns, 300u);
    EXPECT_EQ(sink.frames[1].len, 90u);
    EXPECT_EQ(cap.captured(), 2u);
    EXPECT_EQ(cap.filtered_out(), 1u);
    EXPECT_EQ(cap.counts()[0].received, 1u);
    EXPECT_EQ(cap.counts()[1].received, 2u);
    EXPECT_EQ(cap.counts()[1].accepted, 1u);
    EXPECT_EQ(cap.counts()[1].delivered, 1u);
    EXPECT_FALSE(cap.done());
}

TEST(DumpCapture, SnaplenCutsWhatIsKeptNotTheLength)
{
    const frame_filter all;
    recording_sink sink;
    capture cap(all, &sink, 64, 0, 1);
    offer(cap, 0, 1, ipv4_frame(ip_proto_udp, 9, 1500));
    offer(cap, 0, 2, ipv4_frame(ip_proto_udp, 9, 60));
    ASSERT_EQ(sink.frames.size(), 2u);
    EXPECT_EQ(sink.frames[0].kept, 64u);
    EXPECT_EQ(sink.frames[0].len, 1500u);
    EXPECT_EQ(sink.frames[1].kept, 60u);
}

TEST(DumpCapture, CountStopsAfterFramesWrittenNotSeen)
{
    const frame_filter f = compiled("tcp");
    recording_sink sink;
    capture cap(f, &sink, 262144, 2, 1);
    offer(cap, 0, 1, ipv4_frame(ip_proto_udp, 9)); // filtered out: does not count toward -c
    EXPECT_FALSE(cap.done());
    offer(cap, 0, 2, ipv4_frame(ip_proto_tcp, 80));
    EXPECT_FALSE(cap.done());
    offer(cap, 0, 3, ipv4_frame(ip_proto_tcp, 80));
    EXPECT_TRUE(cap.done());
    offer(cap, 0, 4, ipv4_frame(ip_proto_tcp, 80)); // past the count: not written
    EXPECT_EQ(sink.frames.size(), 2u);
    EXPECT_EQ(cap.captured(), 2u);
}

TEST(DumpCapture, WithoutSinkOnlyCounts)
{
    const frame_filter all;
    capture cap(all, nullptr, 262144, 0, 1);
    EXPECT_TRUE(offer(cap, 0, 1, ipv4_frame(ip_proto_udp, 9)));
    EXPECT_EQ(cap.captured(), 1u);
}

TEST(DumpCapture, SinkFailureStopsTheFrame)
{
    const frame_filter all;
    recording_sink sink;
    sink.fail_writes = true;
    capture cap(all, &sink, 262144, 0, 1);
    EXPECT_FALSE(offer(cap, 0, 1, ipv4_frame(ip_proto_udp, 9)));
    EXPECT_EQ(cap.captured(), 0u);
}

TEST(DumpCapture, ClosingLineSumsDropsAndFiltered)
{
    const frame_filter f = compiled("udp");
    capture cap(f, nullptr, 262144, 0, 2);
    offer(cap, 0, 1, ipv4_frame(ip_proto_udp, 9));
    offer(cap, 1, 2, ipv4_frame(ip_proto_tcp, 9));
    offer(cap, 1, 3, ipv4_frame(ip_proto_tcp, 9));
    cap.set_dropped(0, 5);
    cap.set_dropped(1, 7);
    EXPECT_EQ(cap.dropped(), 12u);
    EXPECT_EQ(closing_line(cap),
              "netring-dump: 1 frame captured, 12 dropped by the monitor, 2 filtered out\n");
    offer(cap, 0, 4, ipv4_frame(ip_proto_udp, 9));
    EXPECT_EQ(closing_line(cap),
              "netring-dump: 2 frames captured, 12 dropped by the monitor, 2 filtered out\n");
}

TEST(DumpCapture, MonitorRingNames)
{
    const capture_interface tx = describe_monitor_ring("netmap:p{1", {true, false, 0});
    EXPECT_EQ(tx.name, "netmap:p{1 tx0");
    EXPECT_EQ(tx.dir, frame_direction::outbound);
    EXPECT_EQ(tx.description, "frames netmap:p{1 transmits on its tx ring 0 (netring monitor)");
    const capture_interface rx = describe_monitor_ring("netmap:eth0", {false, false, 3});
    EXPECT_EQ(rx.name, "netmap:eth0 rx3");
    EXPECT_EQ(rx.dir, frame_direction::inbound);
    const capture_interface host = describe_monitor_ring("netmap:eth0*", {true, true, 0});
    EXPECT_EQ(host.name, "netmap:eth0* host-tx0");
    EXPECT_EQ(host.description, "frames netmap:eth0* transmits on its host tx ring 0 (netring monitor)");
    const capture_interface unknown = describe_unknown_ring("vale0:p1", 2);
    EXPECT_EQ(unknown.name, "vale0:p1 ring2");
    EXPECT_EQ(unknown.dir, frame_direction::unknown);
}
