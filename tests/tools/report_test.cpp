// tools/pktgen/report.hpp: rates from counts and times, the summary's fields, percentiles, and the
// token bucket that paces tx.
#include "report.hpp"

#include <gtest/gtest.h>

using namespace netring;
using namespace netring::pktgen;

namespace {

pktgen_options rx_opts()
{
    pktgen_options o;
    o.port = "netmap:pipeA{1";
    o.mode = run_mode::rx;
    o.batch = 256;
    o.len = 64;
    return o;
}

} // namespace

TEST(Report, Rates)
{
    run_result r;
    r.packets = 10'000'000;
    r.bytes = r.packets * 64;
    r.first_ns = 1'000'000'000;
    r.last_ns = 2'000'000'000;
    EXPECT_DOUBLE_EQ(r.seconds(), 1.0);
    EXPECT_DOUBLE_EQ(r.mpps(), 10.0);
    EXPECT_DOUBLE_EQ(r.gbps(), 5.12);
    EXPECT_DOUBLE_EQ(r.ns_per_packet(), 100.0);
    run_result empty;
    EXPECT_EQ(empty.mpps(), 0.0);
    EXPECT_EQ(empty.ns_per_packet(), 0.0);
}

TEST(Report, JsonCarriesEveryField)
{
    run_result r;
    r.packets = 5;
    r.bytes = 320;
    r.first_ns = 0;
    r.last_ns = 500;
    r.lost = 1;
    r.corrupt = 2;
    r.duplicate = 3;
    const std::string j = format_json(r, rx_opts());
    EXPECT_EQ(j.front(), '{');
    EXPECT_EQ(j.back(), '}');
    EXPECT_EQ(j.find('\n'), std::string::npos);
    for (const char *want : {"\"mode\":\"rx\"", "\"port\":\"netmap:pipeA{1\"", "\"packets\":5", "\"bytes\":320",
                             "\"lost\":1", "\"corrupt\":2", "\"duplicate\":3", "\"batch\":256", "\"len\":64",
                             "\"sync\":\"shm\"", "\"wait\":\"poll\"", "\"ns_per_packet\":100.00", "\"mpps\":",
                             "\"gbps\":", "\"seconds\":"})
        EXPECT_NE(j.find(want), std::string::npos) << want << " in " << j;
    EXPECT_EQ(j.find("rtt_us"), std::string::npos);

    r.has_rtt = true;
    r.rtt_us_p50 = 1.5;
    r.rtt_us_p99 = 20.25;
    const std::string p = format_json(r, rx_opts());
    EXPECT_NE(p.find("\"rtt_us_p50\":1.500"), std::string::npos) << p;
    EXPECT_NE(p.find("\"rtt_us_p99\":20.250"), std::string::npos) << p;
}

TEST(Report, RateLine)
{
    EXPECT_EQ(format_rate_line(run_mode::rx, 12'340'000, 12'340'000ull * 64, 1'000'000'000, 99),
              "netring-pktgen: rx 12.34 Mpps 6.32 Gbps (total 99)\n");
}

TEST(Report, Quantiles)
{
    std::vector<uint64_t> v;
    EXPECT_EQ(quantile_sorted(v, 0.5), 0u);
    for (uint64_t i = 1; i <= 100; i++)
        v.push_back(i);
    EXPECT_EQ(quantile_sorted(v, 0.50), 50u);
    EXPECT_EQ(quantile_sorted(v, 0.99), 99u);
    EXPECT_EQ(quantile_sorted(v, 1.0), 100u);
    EXPECT_EQ(quantile_sorted({7}, 0.99), 7u);
}

TEST(TokenBucket, PacesToTheRate)
{
    // 1000 packets/s, room for 10: after the first 10, one token per millisecond.
    token_bucket b(1000, 10, 0);
    EXPECT_EQ(b.available(0, 100), 10u);
    b.consume(10);
    EXPECT_EQ(b.available(0, 100), 0u);
    EXPECT_EQ(b.ns_until(1), 1'000'000u);
    EXPECT_EQ(b.ns_until(4), 4'000'000u);
    EXPECT_EQ(b.available(3'000'000, 100), 3u);
    EXPECT_EQ(b.ns_until(3), 0u);
    b.consume(3);
    EXPECT_EQ(b.available(1'000'000'000, 100), 10u); // capped at the capacity
    EXPECT_EQ(b.available(1'000'000'000, 4), 4u);    // and at what is wanted
}

TEST(TokenBucket, LongRunRate)
{
    // Taking whatever is there at irregular times still sends rate * time packets.
    token_bucket b(250'000, 100, 0);
    b.consume(b.available(0, 1000));
    uint64_t sent = 0;
    uint64_t t = 0;
    for (int i = 0; i < 10000; i++) {
        t += 100'000 + (i % 7) * 30'000; // 100..280 us between batches
        const uint32_t n = b.available(t, 1000);
        b.consume(n);
        sent += n;
    }
    const double expected = 250'000.0 * t * 1e-9;
    EXPECT_NEAR(static_cast<double>(sent), expected, 2.0);
}

TEST(TokenBucket, Burst)
{
    EXPECT_EQ(paced_burst(100, 512), 1u);
    EXPECT_EQ(paced_burst(1'000'000, 512), 100u);
    EXPECT_EQ(paced_burst(100'000'000, 512), 512u);
    EXPECT_EQ(paced_capacity(100, 512), 4u);              // four bursts
    EXPECT_EQ(paced_capacity(1'000'000, 512), 1000u);      // 1 ms
    EXPECT_EQ(paced_capacity(100'000'000, 512), 100000u);
}
