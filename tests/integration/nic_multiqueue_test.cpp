// Objective: a 4-queue NIC in AF_XDP mode serves one process per queue: every frame reaches exactly
// one queue's client, a flow's frames all land on the same queue, nothing is lost or duplicated
// across the four, and the flows spread over more than one queue (veth picks the sending end's TX
// queue by flow hash, and the receiving end's RX queue is that index). An exclusive open of a queue
// keeps a second opener out with port_busy.
// Steps: veth pair with `numrxqueues 4 numtxqueues 4` on both ends, netringd with `nic_mode afxdp`.
// Four nic_flow_rx processes (uid 65534) on netmap:<veth>-0..3, all registered before nic_peer sends
// 64 UDP flows (source ports 10000..10063) round-robin, 200 frames each, to the bound end's MAC. Each
// receiver checks every byte and per-flow sequence, and reports per-flow counts. Then, in-process:
// netmap:<veth>-1/x opened twice, the second open must fail with errc::port_busy.
#include "nic_fixture.hpp"

#include <set>

namespace netring::itest {
namespace {

using namespace std::chrono_literals;

class nic_multiqueue : public nic_test {
protected:
    std::string nic_mode() const override { return "afxdp"; }
    unsigned queues() const override { return 4; }
};

TEST_F(nic_multiqueue, each_flow_lands_on_one_queue_and_every_frame_once)
{
    constexpr uint32_t flows = 64;
    constexpr uint64_t per_flow = 200;
    std::vector<std::unique_ptr<child>> rx;
    for (unsigned q = 0; q < 4; q++) {
        std::string suffix = "-"; // appended, not `"-" + ...`: GCC 12 -Wrestrict false positive at -O3
        suffix += std::to_string(q);
        rx.push_back(flow_rx(nic_port(suffix), {"--idle-ms", "4000", "--max-s", "120"}));
        ASSERT_TRUE(rx.back());
    }
    for (unsigned q = 0; q < 4; q++)
        ASSERT_TRUE(wait_registered(rx[q]->pid(), 20s)) << "queue " << q << ": " << rx[q]->read_err();

    auto tx = peer_send({"--count", std::to_string(flows * per_flow), "--format", "udp", "--flows",
                         std::to_string(flows), "--len", "128", "--dst-mac", net().bound_mac(), "--rate", "20000"});
    ASSERT_TRUE(tx);
    const child_result t = tx->wait(120s);
    ASSERT_TRUE(t.exited && t.exit_code == 0) << "nic_peer send: " << t.describe();

    std::map<uint32_t, std::set<unsigned>> queues_of_flow;
    std::map<uint32_t, uint64_t> total_of_flow;
    unsigned busy_queues = 0;
    uint64_t total = 0;
    for (unsigned q = 0; q < 4; q++) {
        const child_result r = rx[q]->wait(60s);
        EXPECT_TRUE(r.exited && r.exit_code == 0) << "queue " << q << ": " << r.describe();
        EXPECT_EQ(json_number(r.out, "corrupt"), 0.0) << "queue " << q << ": " << r.out;
        EXPECT_EQ(json_number(r.out, "duplicate"), 0.0) << "queue " << q << ": " << r.out;
        EXPECT_EQ(json_number(r.out, "lost"), 0.0) << "queue " << q << ": " << r.out;
        const auto counts = per_flow_counts(r.out);
        if (!counts.empty())
            busy_queues++;
        for (const auto &[flow, n] : counts) {
            queues_of_flow[flow].insert(q);
            total_of_flow[flow] += n;
            total += n;
        }
    }
    EXPECT_EQ(total, flows * per_flow) << "frames received over all queues";
    EXPECT_EQ(total_of_flow.size(), flows) << "flows seen";
    for (const auto &[flow, qs] : queues_of_flow) {
        EXPECT_EQ(qs.size(), 1u) << "flow " << flow << " arrived on " << qs.size() << " queues";
        EXPECT_EQ(total_of_flow[flow], per_flow) << "flow " << flow;
    }
    // 64 flows hashed over 4 queues all landing on one would take a broken hash (or none).
    EXPECT_GT(busy_queues, 1u) << "all flows arrived on one queue";
}

TEST_F(nic_multiqueue, exclusive_queue_refuses_a_second_opener)
{
    auto first = port::open(nic_port("-1/x"), options());
    ASSERT_TRUE(first) << first.err().describe();
    auto second = port::open(nic_port("-1/x"), options());
    ASSERT_FALSE(second) << "a second exclusive open of queue 1 succeeded";
    EXPECT_EQ(second.err().code, make_error_code(errc::port_busy)) << second.err().describe();
    // Another queue is another port: still free.
    auto other = port::open(nic_port("-2"), options());
    EXPECT_TRUE(other) << other.err().describe();
}

} // namespace
} // namespace netring::itest
