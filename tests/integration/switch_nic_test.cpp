// Objective: a NIC attached to a switch is one more port of it: frames from the wire reach a client
// port intact, frames from a client port reach the wire intact, and with the host rings attached
// too (netmap:IF*) the kernel stack behind the TAP nr-IF answers pings from the wire through the
// switch. Attaching twice is refused (already exists), detaching what is not attached too (not
// found).
// Steps: the NIC fixture makes netns nrt<pid><tag> with the veth's peer end and starts netringd
// (AF_XDP, then AF_PACKET) binding the root-namespace end IF. As root: netring-switch create
// vale0, attach vale0 netmap:IF. RX: netring-pktgen -f rx on vale0:app (uid 65534) while nic_peer
// sends N pktgen frames (broadcast) in the namespace: all N arrive, in order, every byte checked.
// TX: nic_peer capture while netring-pktgen -f tx sends N frames on vale0:app: all N arrive, checked.
// Host stack: attach vale0 netmap:IF*; the peer gets 10.79.N.2/24, the TAP 10.79.N.1/24 (IF gets
// rp_filter 1 and arp_ignore 8, so only the TAP answers); 3 ICMP echoes from the namespace come back
// with their payload; list shows the NIC and host ports carried them.
// Restarts (AF_XDP): 20000 frames from the wire to vale0:app while netring-ctl restart replaces the
// daemon twice; the attachment stays listed and every frame arrives once, in order, intact.
#include "host_net.hpp"
#include "nic_fixture.hpp"
#include "switch_fixture.hpp"

#include <net/if.h>

#include <string>
#include <thread>
#include <vector>

namespace netring::itest {
namespace {

using namespace std::chrono_literals;

class switch_nic : public switch_fixture<nic_test> {
protected:
    std::string tap_name() const { return ("nr-" + net().bound_if()).substr(0, IFNAMSIZ - 1); }

    void expect_ok(std::vector<std::string> args)
    {
        const child_result r = switch_cmd(args);
        EXPECT_TRUE(r.exited && r.exit_code == 0) << "netring-switch " << args[0] << ": " << r.describe();
    }
    void expect_refused(std::vector<std::string> args, const std::string &why)
    {
        const child_result r = switch_cmd(args);
        EXPECT_TRUE(r.exited && r.exit_code == 1) << "netring-switch " << args[0] << ": " << r.describe();
        EXPECT_NE(r.err.find(why), std::string::npos) << "should say '" << why << "': " << r.err;
    }

    void expect_wire_both_ways();
    void expect_kernel_answers_ping();
    void expect_wire_across_restarts();
};

void switch_nic::expect_wire_both_ways()
{
    constexpr uint64_t n = 2000;
    constexpr uint32_t len = 300;
    const std::string count = std::to_string(n);
    expect_ok({"create", "vale0"});
    expect_ok({"attach", "vale0", nic_port()});
    expect_refused({"attach", "vale0", nic_port()}, "already exists");
    expect_refused({"attach", "vale0", nic_port("*")}, "already exists");
    expect_ok({"create", "vale5"});
    expect_refused({"attach", "vale5", nic_port()}, "already exists");
    expect_refused({"detach", "vale5", nic_port()}, "not found");
    std::string json = list_json();
    EXPECT_EQ(json_string(list_port(json, "vale0", nic_port()), "kind"), "nic") << json;
    EXPECT_TRUE(list_port(json, "vale0", nic_port("^")).empty()) << json;

    // Wire -> switch -> vale0:app. A 4096-slot ring rides out a receiver that is slow to wake.
    {
        auto rx =
            pktgen({"-i", "vale0:app", "-f", "rx", "-n", count, "-T", "60", "--slots", "4096", "--json"});
        ASSERT_TRUE(rx);
        ASSERT_TRUE(wait_registered(rx->pid(), 20s)) << rx->read_err();
        auto tx = peer_send({"--count", count, "--len", std::to_string(len), "--rate", "10000"});
        ASSERT_TRUE(tx);
        const child_result t = tx->wait(120s);
        EXPECT_TRUE(t.exited && t.exit_code == 0) << "nic_peer send: " << t.describe();
        const child_result r = rx->wait(90s);
        expect_received_whole(r, n, list_json());
        EXPECT_EQ(json_number(r.out, "len"), static_cast<double>(len)) << r.out;
    }
    // vale0:app -> switch -> wire.
    {
        auto cap = peer_capture({"--count", count, "--timeout-s", "90"});
        ASSERT_TRUE(cap);
        ASSERT_TRUE(wait_ready(*cap, 20s)) << cap->read_err();
        auto tx = pktgen({"-i", "vale0:app", "-f", "tx", "-n", count, "-l", std::to_string(len), "-R",
                          "10000", "-S", "02:00:00:00:00:31", "--json"});
        ASSERT_TRUE(tx);
        const child_result t = tx->wait(120s);
        EXPECT_TRUE(t.exited && t.exit_code == 0) << "pktgen tx: " << t.describe();
        const child_result c = cap->wait(120s);
        EXPECT_TRUE(c.exited && c.exit_code == 0) << "nic_peer capture: " << c.describe() << "\n"
                                                  << list_json();
        EXPECT_EQ(json_number(c.out, "received"), static_cast<double>(n)) << c.out;
        EXPECT_EQ(json_number(c.out, "corrupt"), 0.0) << c.out;
        EXPECT_EQ(json_number(c.out, "lost"), 0.0) << c.out;
        EXPECT_EQ(json_number(c.out, "duplicate"), 0.0) << c.out;
    }
    // The NIC port took the n frames from the wire and delivered the n frames to it (the kernel's
    // own frames on the veth, if any, add to these).
    json = list_json();
    const std::string nic = list_port(json, "vale0", nic_port());
    EXPECT_GE(json_number(nic, "rx_packets").value_or(0), static_cast<double>(n)) << nic;
    EXPECT_GE(json_number(nic, "tx_packets").value_or(0), static_cast<double>(n)) << nic;
    EXPECT_EQ(json_number(nic, "drops"), 0.0) << nic;

    expect_refused({"destroy", "vale0"}, "port busy");
    expect_ok({"detach", "vale0", nic_port()});
    expect_refused({"detach", "vale0", nic_port()}, "not found");
    EXPECT_TRUE(list_port(list_json(), "vale0", nic_port()).empty());
    expect_ok({"destroy", "vale0"});
    expect_ok({"destroy", "vale5"});
}

void switch_nic::expect_kernel_answers_ping()
{
    expect_ok({"create", "vale0"});
    expect_ok({"attach", "vale0", nic_port("*")});
    std::string json = list_json();
    EXPECT_EQ(json_string(list_port(json, "vale0", nic_port()), "kind"), "nic") << json;
    EXPECT_EQ(json_string(list_port(json, "vale0", nic_port("^")), "kind"), "host") << json;
    // A client port on the same switch sees the flooded ARP too; it must not disturb anything.
    auto app = start_peer("vale0:app");
    ASSERT_TRUE(app);

    const std::string tap = tap_name();
    ASSERT_TRUE(eventually([&] { return ::if_nametoindex(tap.c_str()) != 0; }, 20s)) << "no TAP " << tap;
    std::string out;
    const std::string peer_ip = test_subnet(79) + "2", host_ip = test_subnet(79) + "1";
    ASSERT_EQ(net().run({"ip", "addr", "add", peer_ip + "/24", "dev", net().peer_if()}, &out), 0) << out;
    const std::string conf = "/proc/sys/net/ipv4/conf/" + net().bound_if() + "/";
    ASSERT_TRUE(write_proc(conf + "rp_filter", "1"));
    ASSERT_TRUE(write_proc(conf + "arp_ignore", "8"));
    write_proc("/proc/sys/net/ipv6/conf/" + tap + "/disable_ipv6",
               "1"); // keeps the switch to the test's frames
    ASSERT_EQ(run_command({"ip", "addr", "add", host_ip + "/24", "dev", tap}, &out), 0) << out;
    ASSERT_EQ(run_command({"ip", "link", "set", tap, "up"}, &out), 0) << out;

    EXPECT_EQ(run_in_netns(
                  net().name(), [&] { return ping(host_ip.c_str(), 3); }, 60s),
              0)
        << "ping " << host_ip << " from the namespace\n"
        << list_json() << "\n"
        << ring_summary();

    json = list_json();
    const std::string host = list_port(json, "vale0", nic_port("^"));
    const std::string nic = list_port(json, "vale0", nic_port());
    // Three requests in and three replies out at least (plus ARP), each way through the switch.
    EXPECT_GE(json_number(host, "tx_packets").value_or(0), 3.0) << json;
    EXPECT_GE(json_number(host, "rx_packets").value_or(0), 3.0) << json;
    EXPECT_GE(json_number(nic, "rx_packets").value_or(0), 3.0) << json;
    EXPECT_GE(json_number(nic, "tx_packets").value_or(0), 3.0) << json;
    EXPECT_TRUE(app->quit());

    expect_ok({"detach", "vale0", nic_port("*")});
    json = list_json();
    EXPECT_TRUE(list_port(json, "vale0", nic_port()).empty()) << json;
    EXPECT_TRUE(list_port(json, "vale0", nic_port("^")).empty()) << json;
}

// A planned restart keeps the attachment: frames from the wire keep reaching vale0:app while
// netring-ctl restart replaces the daemon twice, every one of them once, in order and intact.
void switch_nic::expect_wire_across_restarts()
{
    constexpr uint64_t n = 20000;
    const std::string count = std::to_string(n);
    expect_ok({"create", "vale0"});
    expect_ok({"attach", "vale0", nic_port()});
    auto rx = pktgen({"-i", "vale0:app", "-f", "rx", "-n", count, "-T", "90", "--slots", "4096", "--json"});
    ASSERT_TRUE(rx);
    ASSERT_TRUE(wait_registered(rx->pid(), 20s)) << rx->read_err();
    auto tx = peer_send({"--count", count, "--len", "60", "--rate", "5000"});
    ASSERT_TRUE(tx);
    for (int round = 0; round < 2; round++) {
        std::this_thread::sleep_for(1s);
        auto c = ctl({"restart", "--timeout", "30"});
        ASSERT_TRUE(c);
        const child_result r = c->wait(60s);
        ASSERT_TRUE(r.exited && r.exit_code == 0) << r.describe();
        EXPECT_EQ(json_string(list_port(list_json(), "vale0", nic_port()), "kind"), "nic")
            << "the attachment did not survive restart " << round + 1;
    }
    const child_result t = tx->wait(120s);
    EXPECT_TRUE(t.exited && t.exit_code == 0) << "nic_peer send: " << t.describe();
    expect_received_whole(rx->wait(120s), n, list_json());
}

using switch_nic_afxdp = in_nic_mode<switch_nic, nic_afxdp>;
using switch_nic_afpacket = in_nic_mode<switch_nic, nic_afpacket>;

TEST_F(switch_nic_afxdp, wire_to_port_and_port_to_wire) { expect_wire_both_ways(); }
TEST_F(switch_nic_afxdp, kernel_stack_answers_ping_through_the_switch) { expect_kernel_answers_ping(); }
TEST_F(switch_nic_afpacket, wire_to_port_and_port_to_wire) { expect_wire_both_ways(); }
TEST_F(switch_nic_afpacket, kernel_stack_answers_ping_through_the_switch) { expect_kernel_answers_ping(); }
TEST_F(switch_nic_afxdp, wire_to_port_survives_two_restarts) { expect_wire_across_restarts(); }

} // namespace
} // namespace netring::itest
