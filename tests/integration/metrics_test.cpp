// Objective: netringd's Prometheus endpoint (metrics_listen) reports what moved through a pipe,
// in a format promtool accepts and a real Prometheus scrapes.
// Steps: start netringd with `metrics_listen 127.0.0.1:PORT` (PORT free a moment before); open the
// receiving end of a pipe in this process and keep its slots, so that `netring-pktgen -f tx -n N`
// (uid 65534) sends N frames and then waits, registered, for them to be released; GET /metrics
// until the sender's tx ring counts N; check the reply's status and content type, other paths (404)
// and a request that does not parse (400); pipe the body into `promtool check metrics` when it is
// installed. Second case: start Debian's `prometheus` scraping netringd every second (its storage
// in the test's directory) and poll its query API until it reports N for the same ring; stop it
// by PID. Both release the frames at the end so the sender exits 0.
#include "harness.hpp"
#include "http_probe.hpp"

#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

namespace netring::itest {
namespace {

using namespace std::chrono_literals;

constexpr long frames = 1000; // fewer than the receiver's slots: the sender never waits for room
const std::string tx_port = "netmap:pipeM{1";
const std::string rx_port = "netmap:pipeM}1";

std::string on_path(const std::string &tool)
{
    for (const char *dir : {"/usr/bin", "/usr/local/bin", "/bin"}) {
        const std::string p = std::string(dir) + "/" + tool;
        if (::access(p.c_str(), X_OK) == 0)
            return p;
    }
    return {};
}

class metrics : public daemon_test {
protected:
    std::string config_text() const override
    {
        return daemon_test::config_text() + "metrics_listen 127.0.0.1:" + std::to_string(metrics_port_) + "\n";
    }

    void SetUp() override
    {
        metrics_port_ = free_port();
        ASSERT_NE(metrics_port_, 0);
        daemon_test::SetUp();
    }

    // The receiver holds every frame, the sender has sent them all and waits for their release.
    void start_transfer()
    {
        auto rx = port::open(rx_port, options());
        ASSERT_TRUE(rx) << rx.err().message;
        rx_.emplace(std::move(*rx));
        tx_ = pktgen({"-i", tx_port, "-f", "tx", "-n", std::to_string(frames), "-T", "60", "--json"});
        ASSERT_TRUE(tx_);
    }

    // Releases the frames; the sender drains and exits 0.
    void finish_transfer()
    {
        ASSERT_TRUE(rx_);
        port &rx = *rx_;
        long got = 0;
        ASSERT_TRUE(eventually(
            [&] {
                rx.rxsync();
                nr_ring *r = rx.rx_ring(0);
                got += nr_ring_space(r);
                r->head = r->cur = r->tail;
                rx.rxsync();
                return got >= frames;
            },
            20s));
        const child_result t = tx_->wait(60s);
        EXPECT_TRUE(t.exited && t.exit_code == 0) << t.describe();
        EXPECT_EQ(json_number(t.out, "packets"), static_cast<double>(frames)) << t.out;
    }

    std::string tx_sample_prefix() const
    {
        return "netring_ring_packets_total{port=\"" + tx_port + "\",dir=\"tx\",ring=\"0\",";
    }

    uint16_t metrics_port_ = 0;
    std::optional<port> rx_;
    std::unique_ptr<child> tx_;
};

TEST_F(metrics, the_senders_tx_ring_counts_every_frame_and_promtool_accepts_the_page)
{
    start_transfer();
    std::string reply;
    ASSERT_TRUE(eventually(
        [&] {
            reply = http_get(metrics_port_, "/metrics");
            return sample_value(body_of(reply), tx_sample_prefix()) == static_cast<double>(frames);
        },
        20s))
        << reply;
    EXPECT_TRUE(reply.starts_with("HTTP/1.1 200")) << reply.substr(0, 200);
    EXPECT_NE(reply.find("Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"), std::string::npos);
    const std::string body = body_of(reply);
    EXPECT_EQ(sample_value(body, "netring_up "), 1);
    EXPECT_GE(sample_value(body, "netring_registrations "), 2);
    EXPECT_GT(sample_value(body, "netring_region_buffers{region=\"pipe:pipeM\"}"), 0);

    EXPECT_TRUE(http_get(metrics_port_, "/other").starts_with("HTTP/1.1 404"));
    EXPECT_TRUE(http_exchange(metrics_port_, "NOT HTTP AT ALL\r\n\r\n").starts_with("HTTP/1.1 400"));

    if (const std::string promtool = on_path("promtool"); !promtool.empty()) {
        const std::string page = dir() + "/metrics.txt";
        std::ofstream(page) << body;
        auto check = spawn({"/bin/sh", "-c", promtool + " check metrics < " + page}, false);
        const child_result r = check->wait(30s);
        EXPECT_TRUE(r.exited && r.exit_code == 0) << r.describe();
        EXPECT_EQ(r.out + r.err, "") << "promtool's findings";
    } else {
        std::printf("promtool not installed: the page's lint is not checked\n");
    }
    finish_transfer();
}

TEST_F(metrics, prometheus_scrapes_the_senders_counter)
{
    const std::string prometheus = on_path("prometheus");
    if (prometheus.empty())
        GTEST_SKIP() << "prometheus is not installed (Debian package prometheus)";
    start_transfer();
    const std::string home = dir() + "/prometheus";
    std::filesystem::create_directories(home + "/data");
    std::ofstream(home + "/prometheus.yml") << "global:\n"
                                              "  scrape_interval: 1s\n"
                                              "scrape_configs:\n"
                                              "  - job_name: netringd\n"
                                              "    static_configs:\n"
                                              "      - targets: ['127.0.0.1:"
                                           << metrics_port_ << "']\n";
    const uint16_t web = free_port();
    ASSERT_NE(web, 0);
    auto prom = spawn({prometheus, "--config.file=" + home + "/prometheus.yml", "--storage.tsdb.path=" + home + "/data",
                       "--web.listen-address=127.0.0.1:" + std::to_string(web)},
                      false);
    ASSERT_TRUE(prom);
    // netring_ring_packets_total{port="netmap:pipeM{1",dir="tx"}, URL-encoded.
    const std::string query = "/api/v1/query?query=netring_ring_packets_total%7Bport%3D%22netmap%3ApipeM%7B1%22"
                              "%2Cdir%3D%22tx%22%7D";
    const std::string want = ",\"" + std::to_string(frames) + "\"]";
    std::string answer;
    const bool seen = eventually(
        [&] {
            answer = body_of(http_get(web, query));
            return answer.find(want) != std::string::npos;
        },
        25s);
    EXPECT_TRUE(seen) << "last answer: " << answer << "\nprometheus: " << prom->read_err().substr(0, 4000);
    EXPECT_NE(answer.find("\"job\":\"netringd\""), std::string::npos) << answer;
    prom->signal(SIGTERM);
    const child_result r = prom->wait(20s);
    EXPECT_TRUE(r.exited) << r.describe();
    std::filesystem::remove_all(home);
    finish_transfer();
}

} // namespace
} // namespace netring::itest
