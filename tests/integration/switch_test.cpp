// Objective: a switch made on the fly by three clients forwards as a learning bridge: unknown
// unicast, broadcast and multicast flood to every port but the source, known unicast reaches only
// the port its address was learned on, an address that shows up on another port moves there, and a
// receiver that never reads only loses its own frames (counted as drops), never anyone else's.
// Steps: netringd with vale* open to uid 65534. Three switch_peer processes (uid 65534) open
// vale0:a, vale0:b, vale0:c and hold them for the whole test (the port set, and so the learned
// table, stays put). Each step: every peer forgets its counts (reset); one peer sends N payload-
// checked netring-pktgen frames with given source and destination MACs; once the switch has taken
// them, a barrier: every peer sends a broadcast marker from an address of its own, and the test
// waits until each peer has seen the last marker of the others. The switch keeps every port's
// order, so a peer that has seen a later marker has seen whatever was forwarded to it before.
// Then exact counts per peer and source: N intact, in order, or nothing at all. At the end, the
// metrics endpoint's flooded counter of each port equals the floods that port sent.
// Slow receivers: vale1:c is opened by a process that never reads (a 256-slot rx ring); a sends
// broadcasts in bursts, b receives every one (waiting for each burst before the next), and
// `netring-switch list --json` shows c got exactly 255 (a full ring) and dropped the rest once
// stalled. On vale2 with `switch_stall_ms 60000` c holds the sender back instead, drops nothing
// for a second, and once it leaves every held frame reaches the other port in order.
#include "http_probe.hpp"
#include "switch_fixture.hpp"

#include <signal.h>

#include <array>
#include <functional>
#include <string>

namespace netring::itest {
namespace {

using namespace std::chrono_literals;

constexpr const char *mac_a = "02:00:00:00:00:0a";
constexpr const char *mac_b = "02:00:00:00:00:0b";
constexpr const char *mac_c = "02:00:00:00:00:0c";
constexpr const char *mac_bcast = "ff:ff:ff:ff:ff:ff";
constexpr const char *mac_mcast = "01:00:5e:00:00:fb";
constexpr uint64_t step_frames = 300; // fewer than a ring holds: a reading peer never drops
constexpr uint32_t step_len = 130;

class switch_forwarding : public switch_fixture<daemon_test> {
protected:
    std::string config_text() const override
    {
        return switch_fixture<daemon_test>::config_text() + "metrics_listen 127.0.0.1:" +
               std::to_string(metrics_port_) + "\n";
    }

    void SetUp() override
    {
        metrics_port_ = free_port();
        ASSERT_NE(metrics_port_, 0);
        switch_fixture<daemon_test>::SetUp();
        if (IsSkipped() || HasFatalFailure())
            return;
        for (const char *name : {"a", "b", "c"}) {
            peers_.push_back(start_peer(std::string("vale0:") + name));
            ASSERT_TRUE(peers_.back()) << "peer " << name;
        }
    }

    void TearDown() override
    {
        for (auto &p : peers_)
            if (p)
                p->quit();
        peers_.clear();
        switch_fixture<daemon_test>::TearDown();
    }

    // One step: peer `from` sends step_frames from `src` to `dst`; `expect[i]` says whether peer i
    // must receive all of them (else nothing).
    void step(size_t from, const std::string &src, const std::string &dst, std::array<bool, 3> expect)
    {
        SCOPED_TRACE("peer " + std::to_string(from) + " sends " + src + " -> " + dst);
        epoch_++;
        for (auto &p : peers_) {
            ASSERT_TRUE(p->command("reset"));
            ASSERT_TRUE(p->wait([&](const peer_state &s) { return s.epoch == epoch_; })) << p->port();
        }
        const uint64_t done = peers_[from]->state().done + 1;
        ASSERT_TRUE(peers_[from]->command("send " + std::to_string(step_frames) + " " + src + " " + dst +
                                          " " + std::to_string(step_len)));
        ASSERT_TRUE(peers_[from]->wait([&](const peer_state &s) { return s.done == done; }))
            << "the switch did not take the frames: " << peers_[from]->proc().read_err();
        barrier();
        for (size_t i = 0; i < peers_.size(); i++) {
            const peer_state s = peers_[i]->state();
            if (!expect[i]) {
                EXPECT_TRUE(s.nothing_received())
                    << peers_[i]->port() << " should have got nothing: " << s.json;
                continue;
            }
            const auto c = s.from(src);
            ASSERT_TRUE(c) << peers_[i]->port() << " got nothing from " << src << ": " << s.json;
            EXPECT_EQ(c->received, step_frames) << peers_[i]->port() << ": " << s.json;
            EXPECT_EQ(c->next, step_frames) << peers_[i]->port() << ": " << s.json;
            EXPECT_EQ(c->corrupt, 0u) << peers_[i]->port() << ": " << s.json;
            EXPECT_EQ(c->lost, 0u) << peers_[i]->port() << ": " << s.json;
            EXPECT_EQ(c->duplicate, 0u) << peers_[i]->port() << ": " << s.json;
            EXPECT_EQ(s.other, 0u) << peers_[i]->port() << ": " << s.json;
        }
    }

    // Every peer broadcasts a marker from an address used for nothing else (never learned as a
    // destination), one after the other; each must see the others' last marker.
    void barrier()
    {
        const uint64_t first = marks_ + 1;
        for (size_t i = 0; i < peers_.size(); i++) {
            const uint64_t done = peers_[i]->state().done + 1;
            ASSERT_TRUE(peers_[i]->command("mark " + std::to_string(++marks_) + " 02:00:00:00:01:0" +
                                           std::to_string(i)));
            ASSERT_TRUE(peers_[i]->wait([&](const peer_state &s) { return s.done == done; }))
                << peers_[i]->port();
        }
        const uint64_t last = marks_;
        for (size_t i = 0; i < peers_.size(); i++) {
            // The last marker came from the last peer; that one waits for the one before.
            const uint64_t want = i + 1 == peers_.size() ? last - 1 : last;
            ASSERT_GE(want, first);
            ASSERT_TRUE(peers_[i]->wait([&](const peer_state &s) { return s.mark >= want; }))
                << peers_[i]->port() << " never saw marker " << want << ": " << peers_[i]->state().json;
        }
    }

    // The port's netring_switch_port_flooded_total from the metrics endpoint, or -1.
    double flooded(const std::string &port) const
    {
        return sample_value(body_of(http_get(metrics_port_, "/metrics")),
                            "netring_switch_port_flooded_total{switch=\"vale0\",port=\"" + port + "\",");
    }

    std::vector<std::unique_ptr<switch_peer_proc>> peers_;
    uint16_t metrics_port_ = 0;
    uint64_t epoch_ = 0;
    uint64_t marks_ = 0;
};

TEST_F(switch_forwarding, learns_floods_forwards_and_moves)
{
    enum { a, b, c };
    // Nothing learned yet: a's frames to b's address flood to b and c, never back to a.
    step(a, mac_a, mac_b, {false, true, true});
    // a's address was learned: b's reply reaches a only.
    step(b, mac_b, mac_a, {true, false, false});
    // b's address was learned too: unicast from a reaches b only.
    step(a, mac_a, mac_b, {false, true, false});
    // Broadcast and multicast flood to the other ports.
    step(a, mac_a, mac_bcast, {false, true, true});
    step(a, mac_a, mac_mcast, {false, true, true});
    // b's address now sends from c: it moves, and unicast to it follows to c.
    step(c, mac_b, mac_a, {true, false, false});
    step(a, mac_a, mac_b, {false, false, true});
    // A frame to an address learned on its own source port (b's, now behind c) goes nowhere.
    step(c, mac_c, mac_b, {false, false, false});
    // So does a frame to its own source address, even one learned elsewhere until this frame (a's).
    step(c, mac_a, mac_a, {false, false, false});

    // No reading port dropped anything; the table holds a, b, c and the three marker addresses.
    const std::string json = list_json();
    for (const char *p : {"a", "b", "c"}) {
        const std::string port = list_port(json, "vale0", p);
        ASSERT_FALSE(port.empty()) << json;
        EXPECT_EQ(json_number(port, "drops"), 0.0) << port;
        EXPECT_EQ(json_string(port, "kind"), "ephemeral") << port;
        EXPECT_EQ(json_number(port, "clients"), 1.0) << port;
    }
    EXPECT_EQ(json_number(list_switch(json, "vale0"), "mac_entries"), 6.0) << json;

    // Flooded, per source port: every peer's nine markers (one per step), and a's three steps to
    // an unknown, the broadcast and the multicast address. Nothing else: known unicast and frames
    // that stay behind their own port are not floods.
    const double markers = 9;
    EXPECT_EQ(flooded("a"), 3 * step_frames + markers);
    EXPECT_EQ(flooded("b"), markers);
    EXPECT_EQ(flooded("c"), markers);
}

// Two peers that read, a and b, and c, which never reads and has stalled_slots slots, on one switch.
class slow_receiver_fixture : public switch_fixture<daemon_test> {
protected:
    static constexpr uint32_t stalled_slots = 256;
    static constexpr uint64_t len = 200;

    bool start_peers(const std::string &sw)
    {
        sw_ = sw;
        a = start_peer(sw + ":a");
        b = start_peer(sw + ":b");
        c = start_idle_peer(sw + ":c", stalled_slots);
        return a && b && c;
    }
    bool send_from_a(uint64_t count, uint64_t first_seq)
    {
        return a->command("send " + std::to_string(count) + " " + mac_a + " " + mac_bcast + " " +
                          std::to_string(len) + " " + std::to_string(first_seq));
    }
    // Reads `netring-switch list --json` until port `port` satisfies `pred` or `timeout` passes;
    // json and port_json keep the last reading.
    bool port_until(const std::string &port, const std::function<bool(const std::string &)> &pred,
                    std::chrono::milliseconds timeout)
    {
        return eventually(
            [&] {
                json = list_json();
                port_json = list_port(json, sw_, port);
                return pred(port_json);
            },
            timeout);
    }
    // b has exactly frames 0..total-1 from a: intact, in order.
    void expect_b_has_all(uint64_t total)
    {
        const auto got = b->state().from(mac_a);
        ASSERT_TRUE(got);
        EXPECT_EQ(got->received, total);
        EXPECT_EQ(got->next, total);
        EXPECT_EQ(got->corrupt, 0u);
        EXPECT_EQ(got->lost, 0u);
        EXPECT_EQ(got->duplicate, 0u);
    }

    std::unique_ptr<switch_peer_proc> a, b;
    std::unique_ptr<child> c;
    std::string json, port_json;

private:
    std::string sw_;
};

class switch_slow_receiver : public slow_receiver_fixture {};

TEST_F(switch_slow_receiver, stalled_port_drops_only_its_own_frames)
{
    constexpr uint64_t bursts = 12, burst = 250;
    constexpr uint64_t total = bursts * burst;
    ASSERT_TRUE(start_peers("vale1"));

    for (uint64_t k = 0; k < bursts; k++) {
        ASSERT_TRUE(send_from_a(burst, k * burst));
        const uint64_t want = (k + 1) * burst;
        ASSERT_TRUE(b->wait([&](const peer_state &s) {
            const auto got = s.from(mac_a);
            return got && got->received >= want;
        })) << "burst "
            << k << ": b has " << b->state().json << "; a: " << a->state().json;
    }
    ASSERT_TRUE(a->wait([&](const peer_state &s) { return s.done == bursts; }));
    expect_b_has_all(total);

    // Counters are published at the end of a forwarding pass: wait until c's add up.
    EXPECT_TRUE(port_until(
        "c",
        [&](const std::string &c_json) {
            return json_number(c_json, "tx_packets").value_or(0) + json_number(c_json, "drops").value_or(0) ==
                   static_cast<double>(total);
        },
        10s))
        << json;
    EXPECT_EQ(json_number(port_json, "tx_packets"), static_cast<double>(stalled_slots - 1)) << port_json;
    EXPECT_EQ(json_number(port_json, "tx_bytes"), static_cast<double>((stalled_slots - 1) * len))
        << port_json;
    EXPECT_EQ(json_number(port_json, "drops"), static_cast<double>(total - (stalled_slots - 1))) << port_json;
    const std::string port_b = list_port(json, "vale1", "b");
    EXPECT_EQ(json_number(port_b, "tx_packets"), static_cast<double>(total)) << port_b;
    EXPECT_EQ(json_number(port_b, "drops"), 0.0) << port_b;
    const std::string port_a = list_port(json, "vale1", "a");
    EXPECT_EQ(json_number(port_a, "rx_packets"), static_cast<double>(total)) << port_a;
    EXPECT_EQ(json_number(port_a, "rx_bytes"), static_cast<double>(total * len)) << port_a;

    EXPECT_TRUE(a->quit());
    EXPECT_TRUE(b->quit());
    c->signal(SIGTERM);
    c->wait(10s);
}

// With a stall grace longer than the test (switch_stall_ms 60000), a full port holds the sender
// back instead of dropping: the frames wait in the sender's tx ring, nothing is dropped, and once
// the full port goes away they all reach the other port, in order.
class switch_long_stall : public slow_receiver_fixture {
protected:
    std::string config_text() const override
    {
        return slow_receiver_fixture::config_text() + "switch_stall_ms 60000\n";
    }
};

TEST_F(switch_long_stall, full_port_holds_the_sender_back_without_dropping)
{
    constexpr uint64_t total = 500;
    ASSERT_TRUE(start_peers("vale2"));

    // Broadcast: every frame is for b and c. c takes stalled_slots - 1 and is then full.
    ASSERT_TRUE(send_from_a(total, 0));
    ASSERT_TRUE(port_until(
        "c",
        [](const std::string &c_json) { return json_number(c_json, "tx_packets") == stalled_slots - 1.0; },
        10s))
        << json;
    // Held back, not dropped: for a whole second (50 times the default grace) c drops nothing, a
    // is not done, and b sees no more than a ring's worth.
    EXPECT_FALSE(port_until(
        "c", [](const std::string &c_json) { return json_number(c_json, "drops").value_or(0) > 0; }, 1s))
        << "a full port dropped within its 60 s grace: " << port_json;
    const auto sender = a->state();
    ASSERT_TRUE(sender.valid) << "no state from the sender";
    EXPECT_EQ(sender.done, 0u) << "the sender finished although a port it sends to is full";
    const auto held = b->state();
    const auto got = held.from(mac_a);
    EXPECT_LE(got ? got->received : 0, uint64_t{stalled_slots}) << held.json;

    // The full port leaves: the held frames go on to b, every one of them, in order.
    c->signal(SIGTERM);
    c->wait(10s);
    ASSERT_TRUE(b->wait([&](const peer_state &s) {
        const auto g = s.from(mac_a);
        return g && g->received >= total;
    })) << b->state().json;
    expect_b_has_all(total);
    EXPECT_TRUE(a->wait([](const peer_state &s) { return s.done == 1; }));
    EXPECT_TRUE(a->quit());
    EXPECT_TRUE(b->quit());
}

} // namespace
} // namespace netring::itest
