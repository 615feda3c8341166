// The NIC fixture: namespace and veth before the daemon, the daemon's NIC config, nic_peer/nic_flow_rx.
#include "nic_fixture.hpp"

#include <algorithm>

#include <net/if.h>
#include <signal.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <sstream>

namespace netring::itest {

using namespace std::chrono_literals;

void nic_test::SetUp()
{
    if (::geteuid() != 0)
        GTEST_SKIP() << "NIC scenarios need root (network namespaces, veth pairs, netringd binding a NIC)";
    if (!have_ip_tool())
        GTEST_SKIP() << "NIC scenarios need the `ip` tool (iproute2)";
    // A tag per test in this process: consecutive tests must not meet each other's leftovers.
    static unsigned counter = 0;
    std::string tag(1, static_cast<char>('a' + counter++ % 26));
    auto made = netns::create(tag, queues());
    ASSERT_TRUE(made) << "cannot set up the test network: " << made.err().describe();
    net_ = std::make_unique<netns>(std::move(made.value()));
    daemon_test::SetUp();
}

void nic_test::TearDown()
{
    daemon_test::TearDown(); // the daemon lets go of the interface before it disappears
    net_.reset();
}

std::string nic_test::config_text() const
{
    std::string text = default_limits();
    if (!nic_mode().empty())
        text += "nic_mode " + nic_mode() + "\n";
    return text + "allow uid=65534 netmap:" + net_->bound_if() + "*\n";
}

std::string nic_test::nic_port(const std::string &suffix) const
{
    return "netmap:" + net_->bound_if() + suffix;
}

std::unique_ptr<child> nic_test::peer_send(std::vector<std::string> args)
{
    args.insert(args.begin(), {binary_path("/tests/integration/nic_peer"), "send", "--if", net_->peer_if()});
    return spawn(net_->exec(args), false);
}

std::unique_ptr<child> nic_test::peer_capture(std::vector<std::string> args)
{
    args.insert(args.begin(),
                {binary_path("/tests/integration/nic_peer"), "capture", "--if", net_->peer_if()});
    args.push_back("--json");
    return spawn(net_->exec(args), false);
}

std::unique_ptr<child> nic_test::flow_rx(const std::string &port, std::vector<std::string> args,
                                         const std::string &socket)
{
    args.insert(args.begin(), {binary_path("/tests/integration/nic_flow_rx"), "--port", port, "--socket",
                               socket.empty() ? socket_path() : socket});
    return spawn(args, true);
}

bool nic_test::wait_ready(child &c, std::chrono::milliseconds timeout)
{
    return eventually([&] { return c.read_err().find("ready") != std::string::npos || !c.running(); },
                      timeout) &&
           c.running();
}

std::optional<region_stats> nic_test::nic_region(const daemon_stats &s) const
{
    for (const auto &r : s.regions)
        if (r.name.find(net_->bound_if()) != std::string::npos)
            return r;
    return std::nullopt;
}

bool nic_test::xdp_attached() const
{
    // `ip -d link` prints "prog/xdp id N" (or xdpgeneric/xdpdrv) while a program is attached.
    return net_->bound_link_details().find("xdp") != std::string::npos;
}

int nic_test::xsk_count() const
{
    // ss learns about AF_XDP sockets from the xsk_diag netlink family; a kernel built without
    // CONFIG_XDP_SOCKETS_DIAG answers with an empty list, which must not read as "none".
    std::string config;
    if (run_command({"zcat", "/proc/config.gz"}, &config) == 0 &&
        config.find("CONFIG_XDP_SOCKETS_DIAG=") == std::string::npos)
        return -1;
    std::string out;
    if (run_command({"ss", "--xdp", "-a", "-e"}, &out) != 0)
        return -1;
    // Lines name the interface, or give "ifindex:N" depending on the iproute2 version.
    const std::string index = "ifindex:" + std::to_string(::if_nametoindex(net_->bound_if().c_str()));
    std::istringstream in(out);
    int n = 0;
    for (std::string line; std::getline(in, line);) {
        const size_t at = line.find(index);
        const bool by_index =
            at != std::string::npos && (at + index.size() == line.size() ||
                                        !std::isdigit(static_cast<unsigned char>(line[at + index.size()])));
        if (by_index || line.find(net_->bound_if()) != std::string::npos)
            n++;
    }
    return n;
}

std::string nic_test::ring_summary()
{
    auto s = query_stats(socket_path());
    if (!s)
        return "STATS: " + s.err().describe();
    std::string text = "daemon rings (registration dir ring: packets drops errors):";
    for (const auto &r : s.value().rings)
        text += "\n  " + std::to_string(r.registration) + (r.dir ? " rx " : " tx ") +
                std::to_string(r.ringid) + ": " + std::to_string(r.packets) + " " + std::to_string(r.drops) +
                " " + std::to_string(r.errors);
    return text;
}

std::map<uint32_t, uint64_t> per_flow_counts(const std::string &json)
{
    std::map<uint32_t, uint64_t> m;
    const size_t at = json.find("\"per_flow\":{");
    if (at == std::string::npos)
        return m;
    const char *p = json.c_str() + at + 12;
    while (*p == '"') {
        char *end = nullptr;
        const unsigned long flow = std::strtoul(p + 1, &end, 10);
        if (*end != '"' || end[1] != ':')
            break;
        p = end + 2;
        const unsigned long long count = std::strtoull(p, &end, 10);
        m[static_cast<uint32_t>(flow)] = count;
        p = *end == ',' ? end + 1 : end;
    }
    return m;
}

} // namespace netring::itest

namespace netring::itest {

using namespace std::chrono_literals;

namespace {

// A ThreadSanitizer build runs the daemon and pktgen (whose full payload check reads every byte)
// many times slower; the peer's kernel sends at the rate it is given whatever the receiver can
// take, so the rate is lowered there. These scenarios check integrity, not speed.
uint64_t paced(uint64_t rate)
{
#ifdef NETRING_TSAN_BUILD
    return std::min<uint64_t>(rate, 4000);
#else
    return rate;
#endif
}

} // namespace

void nic_test::expect_rx_intact(uint32_t len, uint64_t n, uint64_t rate)
{
    rate = paced(rate);
    const std::string count = std::to_string(n);
    // -T bounds a short receiver: it then reports what it got instead of being killed.
    auto rx = pktgen({"-i", nic_port(), "-f", "rx", "-n", count, "-T", "40", "--json"});
    ASSERT_TRUE(rx);
    ASSERT_TRUE(wait_registered(rx->pid(), 20s))
        << "receiver on " << nic_port() << " never registered: " << rx->read_err();
    auto tx = peer_send({"--count", count, "--len", std::to_string(len), "--rate", std::to_string(rate)});
    ASSERT_TRUE(tx);
    const child_result t = tx->wait(120s);
    EXPECT_TRUE(t.exited && t.exit_code == 0) << "nic_peer send: " << t.describe();
    // The daemon's ring counters while the receiver is still registered (a short one waits for -T).
    std::string counters = "(receiver done before the counters were read)";
    eventually(
        [&] {
            if (!rx->running())
                return true;
            counters = ring_summary();
            return false;
        },
        3s);
    expect_received_whole(rx->wait(60s), n, counters);
}

void nic_test::expect_tx_intact(uint32_t len, uint64_t n, uint64_t rate)
{
    rate = paced(rate);
    const std::string count = std::to_string(n);
    auto cap = peer_capture({"--count", count, "--timeout-s", "90"});
    ASSERT_TRUE(cap);
    ASSERT_TRUE(wait_ready(*cap, 20s)) << "nic_peer capture did not start: " << cap->read_err();
    auto tx = pktgen({"-i", nic_port(), "-f", "tx", "-n", count, "-l", std::to_string(len), "-R",
                      std::to_string(rate), "--json"});
    ASSERT_TRUE(tx);
    const child_result t = tx->wait(120s);
    EXPECT_TRUE(t.exited && t.exit_code == 0) << "netring-pktgen tx: " << t.describe();
    EXPECT_EQ(json_number(t.out, "packets"), static_cast<double>(n)) << t.describe();
    const child_result c = cap->wait(120s);
    EXPECT_TRUE(c.exited && c.exit_code == 0) << "nic_peer capture: " << c.describe() << "\n"
                                              << ring_summary();
    EXPECT_EQ(json_number(c.out, "corrupt"), 0.0) << c.describe();
    EXPECT_EQ(json_number(c.out, "lost"), 0.0) << c.describe();
    EXPECT_EQ(json_number(c.out, "duplicate"), 0.0) << c.describe();
    EXPECT_EQ(json_number(c.out, "received"), static_cast<double>(n)) << c.describe();
}

} // namespace netring::itest

namespace netring::itest {

using namespace std::chrono_literals;

void nic_test::expect_second_daemon_receives(uint64_t n)
{
    const std::string second = dir() + "/second.sock";
    auto daemon2 = spawn(
        {binary_path("/daemon/netringd"), "--socket", second, "--config", dir() + "/netringd.conf"}, false);
    ASSERT_TRUE(daemon2);
    ASSERT_TRUE(eventually([&] { return query_stats(second).ok() || !daemon2->running(); }, 10s) &&
                daemon2->running())
        << "second netringd did not start: " << daemon2->read_err();

    const std::string count = std::to_string(n);
    auto rx = spawn({binary_path("/tools/netring-pktgen"), "-i", nic_port(), "-f", "rx", "-n", count, "-T",
                     "40", "--json", "--socket", second},
                    true);
    ASSERT_TRUE(rx);
    const bool registered = eventually(
        [&] {
            auto s = query_stats(second);
            return s && has_registration_of(s.value(), rx->pid());
        },
        20s);
    ASSERT_TRUE(registered) << "receiver never registered with the second daemon: " << rx->read_err()
                            << "\ndaemon: " << daemon2->read_err();
    auto tx = peer_send({"--count", count, "--len", "60", "--rate", "20000"});
    ASSERT_TRUE(tx);
    const child_result t = tx->wait(60s);
    EXPECT_TRUE(t.exited && t.exit_code == 0) << t.describe();
    const child_result r = rx->wait(60s);
    EXPECT_TRUE(r.exited && r.exit_code == 0) << r.describe() << "\nsecond daemon: " << daemon2->read_err();
    EXPECT_EQ(json_number(r.out, "packets"), static_cast<double>(n)) << r.describe();
    EXPECT_EQ(json_number(r.out, "corrupt"), 0.0) << r.describe();
    EXPECT_EQ(json_number(r.out, "lost"), 0.0) << r.describe();

    daemon2->signal(SIGTERM);
    const child_result d = daemon2->wait(15s);
    EXPECT_TRUE(d.exited && d.exit_code == 0) << "second netringd after SIGTERM: " << d.describe();
    EXPECT_TRUE(eventually([&] { return !xdp_attached(); }, 5s)) << net().bound_link_details();
}

} // namespace netring::itest
