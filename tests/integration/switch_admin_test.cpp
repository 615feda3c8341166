// Objective: netring-switch does what each command says and refuses what it must, with the error
// named: creating what exists (already exists), removing what is absent (not found) or in use
// (port busy), attaching to a switch that does not exist (not found), and any administration by a
// user who is not an admin (access denied) while `list` stays open to that user. A persistent port
// outlives its clients and can be opened again; `list --json` counts exactly what was sent.
// Steps: netringd with vale* open to uid 65534 and gid 0 as the switch admin; netring-switch runs
// as root (the admin) or as uid 65534; switch_peer processes (uid 65534) hold ports and move
// payload-checked frames. The device-dependent errors (attach twice, detach) are in
// switch_nic_test.cpp, which has a NIC to attach.
#include "switch_fixture.hpp"

#include <string>

namespace netring::itest {
namespace {

using namespace std::chrono_literals;

constexpr const char *mac_p = "02:00:00:00:00:21";
constexpr const char *mac_bcast = "ff:ff:ff:ff:ff:ff";

class switch_admin : public switch_fixture<daemon_test> {
protected:
    // Runs netring-switch and expects exit 0.
    void ok(std::vector<std::string> args)
    {
        const child_result r = switch_cmd(args);
        EXPECT_TRUE(r.exited && r.exit_code == 0) << join(args) << ": " << r.describe();
    }
    // Runs netring-switch and expects exit 1 with `why` (the code's text) on stderr.
    void refused(std::vector<std::string> args, const std::string &why, bool as_nobody = false)
    {
        const child_result r = switch_cmd(args, as_nobody);
        EXPECT_TRUE(r.exited && r.exit_code == 1) << join(args) << ": " << r.describe();
        EXPECT_NE(r.err.find(why), std::string::npos)
            << join(args) << " should say '" << why << "': " << r.err;
    }
    static std::string join(const std::vector<std::string> &v)
    {
        std::string s = "netring-switch";
        for (const auto &a : v)
            s += " " + a;
        return s;
    }
};

TEST_F(switch_admin, commands_and_their_errors)
{
    // Nothing yet.
    child_result r = switch_cmd({"list"});
    EXPECT_TRUE(r.exited && r.exit_code == 0) << r.describe();
    EXPECT_EQ(r.out, "no switches\n");
    EXPECT_EQ(list_json(), "{\"switches\":[]}\n");

    ok({"create", "vale1"});
    refused({"create", "vale1"}, "already exists");
    refused({"create", "bogus"}, "bad port name");
    refused({"destroy", "vale9"}, "not found");
    refused({"add", "vale9:p1"}, "not found");
    ok({"add", "vale1:p1"});
    refused({"add", "vale1:p1"}, "already exists");
    refused({"destroy", "vale1"}, "port busy");
    refused({"delete", "vale1:nope"}, "not found");
    refused({"delete", "vale9:p1"}, "not found");
    refused({"attach", "vale9", "netmap:lo"}, "not found");
    refused({"detach", "vale1", "netmap:lo"}, "not found");
    // Usage errors: exit 2, before any daemon call.
    for (const std::vector<std::string> &bad : {std::vector<std::string>{"create"},
                                                {"frobnicate", "vale1"},
                                                {"add", "vale1"},
                                                {"create", "vale1", "--json"}}) {
        r = switch_cmd(bad);
        EXPECT_TRUE(r.exited && r.exit_code == 2) << join(bad) << ": " << r.describe();
    }

    std::string json = list_json();
    EXPECT_EQ(json_string(list_switch(json, "vale1"), "name"), "vale1") << json;
    EXPECT_NE(list_switch(json, "vale1").find("\"persistent\":true"), std::string::npos) << json;
    std::string p1 = list_port(json, "vale1", "p1");
    EXPECT_EQ(json_string(p1, "kind"), "persistent") << json;
    EXPECT_EQ(json_number(p1, "clients"), 0.0) << json;

    // Not an admin: every administrative command is refused; list works.
    refused({"create", "vale2"}, "access denied", true);
    refused({"destroy", "vale1"}, "access denied", true);
    refused({"add", "vale1:p2"}, "access denied", true);
    refused({"delete", "vale1:p1"}, "access denied", true);
    refused({"attach", "vale1", "netmap:lo"}, "access denied", true);
    refused({"detach", "vale1", "netmap:lo"}, "access denied", true);
    r = switch_cmd({"list", "--json"}, true);
    EXPECT_TRUE(r.exited && r.exit_code == 0) << r.describe();
    EXPECT_EQ(r.out, json);
    r = switch_cmd({"list", "vale1"}, true);
    EXPECT_TRUE(r.exited && r.exit_code == 0) << r.describe();
    EXPECT_NE(r.out.find("p1"), std::string::npos) << r.out;
    // Nothing changed.
    EXPECT_EQ(list_json(), json);

    // A port a client holds cannot be deleted, persistent or not; an ephemeral port goes with its
    // client, and the switch stays (it is persistent).
    auto holder = start_peer("vale1:p1");
    auto eph = start_peer("vale1:e1");
    ASSERT_TRUE(holder && eph);
    refused({"delete", "vale1:p1"}, "port busy");
    refused({"delete", "vale1:e1"}, "port busy");
    json = list_json();
    EXPECT_EQ(json_number(list_port(json, "vale1", "p1"), "clients"), 1.0) << json;
    EXPECT_EQ(json_string(list_port(json, "vale1", "e1"), "kind"), "ephemeral") << json;
    ASSERT_TRUE(eph->quit());
    EXPECT_TRUE(eventually([&] { return list_port(list_json(), "vale1", "e1").empty(); }, 10s))
        << list_json();
    ASSERT_TRUE(holder->quit());
    EXPECT_TRUE(eventually(
        [&] { return json_number(list_port(list_json(), "vale1", "p1"), "clients") == 0.0; }, 10s));

    // A switch made by a client goes with its last port.
    auto onfly = start_peer("vale3:x");
    ASSERT_TRUE(onfly);
    json = list_json();
    EXPECT_NE(list_switch(json, "vale3").find("\"persistent\":false"), std::string::npos) << json;
    ASSERT_TRUE(onfly->quit());
    EXPECT_TRUE(eventually([&] { return list_switch(list_json(), "vale3").empty(); }, 10s)) << list_json();

    // Tear down in order: the port, then the switch.
    ok({"delete", "vale1:p1"});
    refused({"delete", "vale1:p1"}, "not found");
    ok({"destroy", "vale1"});
    refused({"destroy", "vale1"}, "not found");
    EXPECT_EQ(list_json(), "{\"switches\":[]}\n");
}

TEST_F(switch_admin, persistent_port_survives_its_clients_and_counts_what_it_sent)
{
    constexpr uint64_t n1 = 500, n2 = 700, len1 = 100, len2 = 1000;
    ok({"create", "vale4"});
    ok({"add", "vale4:keep"});
    auto rx = start_peer("vale4:rx");
    ASSERT_TRUE(rx);

    // A first client on the persistent port sends, then leaves.
    auto tx = start_peer("vale4:keep");
    ASSERT_TRUE(tx);
    ASSERT_TRUE(tx->command("send " + std::to_string(n1) + " " + mac_p + " " + mac_bcast + " " +
                            std::to_string(len1)));
    ASSERT_TRUE(tx->wait([](const peer_state &s) { return s.done == 1; }));
    ASSERT_TRUE(tx->quit());
    ASSERT_TRUE(rx->wait([&](const peer_state &s) {
        const auto c = s.from(mac_p);
        return c && c->received >= n1;
    })) << rx->state().json;
    auto got = rx->state().from(mac_p);
    EXPECT_EQ(got->received, n1);
    EXPECT_EQ(got->next, n1);
    EXPECT_EQ(got->corrupt + got->lost + got->duplicate, 0u) << rx->state().json;

    std::string json, keep, port_rx;
    EXPECT_TRUE(eventually(
        [&] {
            json = list_json();
            keep = list_port(json, "vale4", "keep");
            port_rx = list_port(json, "vale4", "rx");
            return json_number(keep, "clients") == 0.0 &&
                   json_number(port_rx, "tx_packets") == static_cast<double>(n1);
        },
        10s))
        << json;
    EXPECT_EQ(json_string(keep, "kind"), "persistent") << keep;
    EXPECT_EQ(json_number(keep, "rx_packets"), static_cast<double>(n1)) << keep;
    EXPECT_EQ(json_number(keep, "rx_bytes"), static_cast<double>(n1 * len1)) << keep;
    EXPECT_EQ(json_number(keep, "tx_packets"), 0.0) << keep;
    EXPECT_EQ(json_number(keep, "drops"), 0.0) << keep;
    EXPECT_EQ(json_number(port_rx, "tx_bytes"), static_cast<double>(n1 * len1)) << port_rx;
    EXPECT_EQ(json_number(port_rx, "rx_packets"), 0.0) << port_rx;
    EXPECT_EQ(json_number(port_rx, "drops"), 0.0) << port_rx;

    // Another client opens the same port again, where the first left its rings, and sends more.
    ASSERT_TRUE(rx->command("reset"));
    ASSERT_TRUE(rx->wait([](const peer_state &s) { return s.epoch == 1; }));
    auto tx2 = start_peer("vale4:keep");
    ASSERT_TRUE(tx2);
    ASSERT_TRUE(tx2->command("send " + std::to_string(n2) + " " + mac_p + " " + mac_bcast + " " +
                             std::to_string(len2)));
    ASSERT_TRUE(tx2->wait([](const peer_state &s) { return s.done == 1; })) << tx2->proc().read_err();
    ASSERT_TRUE(rx->wait([&](const peer_state &s) {
        const auto c = s.from(mac_p);
        return c && c->received >= n2;
    })) << rx->state().json;
    got = rx->state().from(mac_p);
    EXPECT_EQ(got->received, n2);
    EXPECT_EQ(got->next, n2);
    EXPECT_EQ(got->corrupt + got->lost + got->duplicate, 0u) << rx->state().json;

    EXPECT_TRUE(eventually(
        [&] {
            json = list_json();
            return json_number(list_port(json, "vale4", "rx"), "tx_packets") == static_cast<double>(n1 + n2);
        },
        10s))
        << json;
    keep = list_port(json, "vale4", "keep");
    port_rx = list_port(json, "vale4", "rx");
    EXPECT_EQ(json_number(keep, "clients"), 1.0) << keep;
    EXPECT_EQ(json_number(keep, "rx_packets"), static_cast<double>(n1 + n2)) << keep;
    EXPECT_EQ(json_number(keep, "rx_bytes"), static_cast<double>(n1 * len1 + n2 * len2)) << keep;
    EXPECT_EQ(json_number(port_rx, "tx_bytes"), static_cast<double>(n1 * len1 + n2 * len2)) << port_rx;
    EXPECT_EQ(json_number(port_rx, "drops"), 0.0) << port_rx;
    // The text listing shows the same numbers.
    const child_result text = switch_cmd({"list", "vale4"});
    EXPECT_NE(text.out.find(std::to_string(n1 * len1 + n2 * len2)), std::string::npos) << text.out;

    ASSERT_TRUE(tx2->quit());
    ASSERT_TRUE(rx->quit());
    EXPECT_TRUE(eventually([&] { return list_port(list_json(), "vale4", "rx").empty(); }, 10s));
    EXPECT_FALSE(list_port(list_json(), "vale4", "keep").empty());
    ok({"delete", "vale4:keep"});
    ok({"destroy", "vale4"});
}

} // namespace
} // namespace netring::itest
