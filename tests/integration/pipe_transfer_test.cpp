// Objective: two unprivileged processes move millions of packets over a netring pipe with no loss,
// no corruption and no duplicates, on both sync paths (shared memory and socket round trips).
// Steps: start netringd; as uid 65534 start `netring-pktgen -f rx` on one end of a pipe and wait
// until it is registered; start `netring-pktgen -f tx` on the other end; wait for both; check both
// exit 0 and the receiver's JSON report: every packet arrived, lost == corrupt == duplicate == 0.
// Cases: 10M x 60 B with --sync shm; 10M x 60 B with --sync socket (-b 256); 1M x 1500 B with
// --payload full (every byte checked).
#include "harness.hpp"

#include <string>
#include <vector>

namespace netring::itest {
namespace {

using namespace std::chrono_literals;

class pipe_transfer : public daemon_test {
protected:
    void transfer(const std::string &pipe, long count, const std::vector<std::string> &extra_rx,
                  const std::vector<std::string> &extra_tx)
    {
        const std::string n = std::to_string(count);
        std::vector<std::string> rx_args = {"-i", "netmap:" + pipe + "}1", "-f", "rx", "-n", n, "-T", "300", "--json"};
        rx_args.insert(rx_args.end(), extra_rx.begin(), extra_rx.end());
        auto rx = pktgen(rx_args);
        ASSERT_TRUE(rx);
        ASSERT_TRUE(wait_registered(rx->pid())) << "receiver never registered: " << rx->read_err();

        std::vector<std::string> tx_args = {"-i", "netmap:" + pipe + "{1", "-f", "tx", "-n", n, "--json"};
        tx_args.insert(tx_args.end(), extra_tx.begin(), extra_tx.end());
        auto tx = pktgen(tx_args);
        ASSERT_TRUE(tx);

        const child_result t = tx->wait(320s);
        const child_result r = rx->wait(320s);

        ASSERT_TRUE(t.exited && t.exit_code == 0) << "tx: " << t.describe();
        ASSERT_TRUE(r.exited && r.exit_code == 0) << "rx: " << r.describe();
        EXPECT_EQ(json_number(t.out, "packets"), static_cast<double>(count)) << t.out;
        EXPECT_EQ(json_number(r.out, "packets"), static_cast<double>(count)) << r.out;
        EXPECT_EQ(json_number(r.out, "lost"), 0.0) << r.out;
        EXPECT_EQ(json_number(r.out, "corrupt"), 0.0) << r.out;
        EXPECT_EQ(json_number(r.out, "duplicate"), 0.0) << r.out;
    }
};

TEST_F(pipe_transfer, ten_million_small_packets_over_shared_memory_sync)
{
    transfer("pipeT", 10'000'000, {"--sync", "shm"}, {"-l", "60", "--sync", "shm"});
}

TEST_F(pipe_transfer, ten_million_small_packets_over_socket_sync)
{
    transfer("pipeT", 10'000'000, {"--sync", "socket", "-b", "256"}, {"-l", "60", "--sync", "socket", "-b", "256"});
}

TEST_F(pipe_transfer, one_million_full_size_packets_with_full_payload_check)
{
    transfer("pipeF", 1'000'000, {"--payload", "full"}, {"-l", "1500", "--payload", "full"});
}

} // namespace
} // namespace netring::itest
