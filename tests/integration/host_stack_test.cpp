// Objective: with netring-bridge joining a NIC and its host-stack rings (netmap:IF <-> netmap:IF^),
// the kernel stays reachable through the bound interface: every frame crosses user space (NIC rx ->
// host tx -> the TAP; TAP -> host rx -> NIC tx), zero-copy since both live in one region.
// Steps: the fixture makes netns nrt<pid><tag> with the veth's peer end and starts netringd (AF_XDP,
// then AF_PACKET). The peer gets 10.78.N.2/24 (N from the pid) and its tx checksum offload off (a
// veth hands frames over with the TCP checksum unfilled, which nothing on this path fills in: a real
// NIC's wire carries complete checksums). netring-bridge -i netmap:IF -i netmap:IF^ runs as uid
// 65534; once its TAP nr-IF exists it gets 10.78.N.1/24. The bound veth end gets rp_filter 1 and
// arp_ignore 8, so the kernel ignores what it might see on it directly (AF_PACKET mode) and answers
// only through the TAP.
// Then, from inside the namespace: 3 ICMP echoes to 10.78.N.1 are answered with their payload, and
// 4 MiB of pseudo-random bytes sent over TCP to a listener on 10.78.N.1 arrive byte for byte.
// Finally the bridge stops on SIGINT (exit 0) reporting zero-copy and traffic both ways. Run with
// AF_XDP (one queue, then two: ports with different ring counts) and with AF_PACKET.
#include "host_net.hpp"
#include "nic_fixture.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace netring::itest {
namespace {

using namespace std::chrono_literals;

constexpr uint64_t tcp_bytes = 4u << 20;
constexpr uint64_t stream_seed = 0x6e7274686f737431ull;

// The byte stream the client sends and the listener checks: splitmix64 words, little-endian.
class stream_gen {
public:
    uint8_t next()
    {
        if (left_ == 0) {
            state_ += 0x9e3779b97f4a7c15ull;
            uint64_t z = state_;
            z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
            z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
            word_ = z ^ (z >> 31);
            left_ = 8;
        }
        const uint8_t b = static_cast<uint8_t>(word_);
        word_ >>= 8;
        left_--;
        return b;
    }

private:
    uint64_t state_ = stream_seed;
    uint64_t word_ = 0;
    unsigned left_ = 0;
};

// Inside the namespace: tx checksum offload off on `ifname` (as `ethtool -K IF tx off` does), which
// takes TSO with it. Exit 0 on success.
int tx_checksum_off(const char *ifname)
{
    const int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    ethtool_value ev{};
    ev.cmd = ETHTOOL_STXCSUM;
    ev.data = 0;
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, ifname, IFNAMSIZ - 1);
    ifr.ifr_data = reinterpret_cast<char *>(&ev);
    const int rc = ::ioctl(s, SIOCETHTOOL, &ifr);
    ::close(s);
    return rc == 0 ? 0 : 10;
}

// Inside the namespace: connect to dst:port and send tcp_bytes of the stream. Exit 0 when sent.
int tcp_send(const char *dst, uint16_t port)
{
    const int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(port);
    ::inet_pton(AF_INET, dst, &to.sin_addr);
    timeval tv{20, 0};
    ::setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (::connect(s, reinterpret_cast<sockaddr *>(&to), sizeof to) != 0)
        return 30;
    stream_gen gen;
    uint8_t chunk[16384];
    for (uint64_t sent = 0; sent < tcp_bytes;) {
        const size_t n = std::min<uint64_t>(sizeof chunk, tcp_bytes - sent);
        for (size_t i = 0; i < n; i++)
            chunk[i] = gen.next();
        for (size_t off = 0; off < n;) {
            const ssize_t w = ::send(s, chunk + off, n - off, MSG_NOSIGNAL);
            if (w <= 0)
                return 31;
            off += static_cast<size_t>(w);
        }
        sent += n;
    }
    ::shutdown(s, SHUT_WR);
    // Wait for the listener's close, so every byte was taken before this process goes.
    uint8_t b;
    timeval rv{20, 0};
    ::setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &rv, sizeof rv);
    (void)::recv(s, &b, 1, 0);
    ::close(s);
    return 0;
}

struct received {
    uint64_t bytes = 0;
    uint64_t first_mismatch = UINT64_MAX;
    std::string problem;
};

// Accepts one connection on `listener` and checks what arrives against the stream, until EOF.
received tcp_check(int listener, std::chrono::milliseconds timeout)
{
    received r;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    auto wait_in = [&](int fd) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        pollfd p{fd, POLLIN, 0};
        return left.count() > 0 && ::poll(&p, 1, static_cast<int>(left.count())) > 0;
    };
    if (!wait_in(listener)) {
        r.problem = "no connection arrived";
        return r;
    }
    const int c = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) {
        r.problem = std::string("accept: ") + std::strerror(errno);
        return r;
    }
    stream_gen gen;
    std::vector<uint8_t> buf(65536);
    for (;;) {
        if (!wait_in(c)) {
            r.problem = "timed out after " + std::to_string(r.bytes) + " bytes";
            break;
        }
        const ssize_t n = ::recv(c, buf.data(), buf.size(), 0);
        if (n == 0)
            break;
        if (n < 0) {
            r.problem = std::string("recv: ") + std::strerror(errno);
            break;
        }
        for (ssize_t i = 0; i < n; i++)
            if (gen.next() != buf[static_cast<size_t>(i)] && r.first_mismatch == UINT64_MAX)
                r.first_mismatch = r.bytes + static_cast<uint64_t>(i);
        r.bytes += static_cast<uint64_t>(n);
    }
    ::close(c);
    return r;
}

class host_stack : public nic_test {
protected:
    // The TAP netringd makes for the host rings: "nr-" + IF, cut to fit IFNAMSIZ.
    std::string tap_name() const { return ("nr-" + net().bound_if()).substr(0, IFNAMSIZ - 1); }

    void expect_kernel_reachable();
};

void host_stack::expect_kernel_reachable()
{
    const std::string peer = net().peer_if();
    const std::string peer_ip = test_subnet(78) + "2", host_ip = test_subnet(78) + "1";
    std::string out;
    ASSERT_EQ(net().run({"ip", "addr", "add", peer_ip + "/24", "dev", peer}, &out), 0) << out;
    ASSERT_EQ(run_in_netns(
                  net().name(), [&] { return tx_checksum_off(peer.c_str()); }, 10s),
              0)
        << "cannot turn tx checksum offload off on " << peer;
    // Per device only: the bound end must not answer or accept for the TAP's address itself.
    const std::string conf = "/proc/sys/net/ipv4/conf/" + net().bound_if() + "/";
    ASSERT_TRUE(write_proc(conf + "rp_filter", "1"));
    ASSERT_TRUE(write_proc(conf + "arp_ignore", "8"));

    auto bridge = spawn({binary_path("/tools/netring-bridge"), "-i", nic_port(), "-i", nic_port("^"),
                         "--socket", socket_path(), "--json"},
                        true);
    ASSERT_TRUE(bridge);
    const std::string tap = tap_name();
    ASSERT_TRUE(eventually([&] { return ::if_nametoindex(tap.c_str()) != 0 || !bridge->running(); }, 20s) &&
                bridge->running())
        << "the TAP " << tap << " never appeared; bridge: " << bridge->read_err();
    write_proc("/proc/sys/net/ipv6/conf/" + tap + "/disable_ipv6",
               "1"); // keeps the rings to the test's frames
    ASSERT_EQ(run_command({"ip", "addr", "add", host_ip + "/24", "dev", tap}, &out), 0) << out;
    ASSERT_EQ(run_command({"ip", "link", "set", tap, "up"}, &out), 0) << out;

    EXPECT_EQ(run_in_netns(
                  net().name(), [&] { return ping(host_ip.c_str(), 3); }, 30s),
              0)
        << "ping " << host_ip << " from the namespace failed; bridge: " << bridge->read_err();

    const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(listener, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    ::inet_pton(AF_INET, host_ip.c_str(), &addr.sin_addr);
    ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr *>(&addr), sizeof addr), 0) << std::strerror(errno);
    ASSERT_EQ(::listen(listener, 1), 0);
    socklen_t len = sizeof addr;
    ::getsockname(listener, reinterpret_cast<sockaddr *>(&addr), &len);
    const uint16_t port = ntohs(addr.sin_port);

    // The sender runs in a child; this process listens and checks meanwhile.
    const std::string path = "/run/netns/" + net().name();
    const int nsfd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    ASSERT_GE(nsfd, 0) << path << ": " << std::strerror(errno);
    const pid_t sender = ::fork();
    if (sender == 0) {
        ::close(listener);
        if (::setns(nsfd, CLONE_NEWNET) != 0)
            ::_exit(90);
        ::_exit(tcp_send(host_ip.c_str(), port));
    }
    ::close(nsfd);
    ASSERT_GT(sender, 0);
    const received got = tcp_check(listener, 60s);
    ::close(listener);
    auto status = detail::wait_pid(sender, 30s);
    if (!status) {
        ::kill(sender, SIGKILL);
        detail::wait_pid(sender, 5s);
    }
    EXPECT_TRUE(status && WIFEXITED(*status) && WEXITSTATUS(*status) == 0)
        << "TCP sender in the namespace failed (exit "
        << (status && WIFEXITED(*status) ? WEXITSTATUS(*status) : -1) << ")";
    EXPECT_EQ(got.problem, "");
    EXPECT_EQ(got.bytes, tcp_bytes);
    EXPECT_EQ(got.first_mismatch, UINT64_MAX) << "the stream differs from byte " << got.first_mismatch;

    bridge->signal(SIGINT);
    const child_result r = bridge->wait(20s);
    EXPECT_TRUE(r.exited && r.exit_code == 0) << "netring-bridge: " << r.describe();
    EXPECT_NE(r.out.find("\"mode\":\"zero-copy\""), std::string::npos) << r.out;
    // The TCP data crossed NIC -> host; the handshake's answers and the echo replies host -> NIC.
    EXPECT_GE(json_number(r.out, "a_to_b_bytes").value_or(0), static_cast<double>(tcp_bytes)) << r.out;
    EXPECT_GT(json_number(r.out, "b_to_a_packets").value_or(0), 3.0) << r.out;
    EXPECT_EQ(json_number(r.out, "a_to_b_dropped"), 0.0) << r.out;
    EXPECT_EQ(json_number(r.out, "b_to_a_dropped"), 0.0) << r.out;
}

using host_stack_afxdp = in_nic_mode<host_stack, nic_afxdp>;
using host_stack_afpacket = in_nic_mode<host_stack, nic_afpacket>;

// Two NIC queues, one host ring: the bridge drains both NIC rx rings into the host tx ring and
// spreads the host rx ring over whichever NIC tx ring has room.
class host_stack_afxdp_two_queues : public host_stack_afxdp {
protected:
    unsigned queues() const override { return 2; }
};

TEST_F(host_stack_afxdp, kernel_reachable_through_the_bridge) { expect_kernel_reachable(); }

TEST_F(host_stack_afxdp_two_queues, kernel_reachable_through_the_bridge) { expect_kernel_reachable(); }

TEST_F(host_stack_afpacket, kernel_reachable_through_the_bridge) { expect_kernel_reachable(); }

// SIGTERM with NIC and host rings bound: the daemon exits 0 and leaves neither the TAP nor the XDP
// program behind (its XSKs close with it: a new daemon can bind the queue again).
TEST_F(host_stack_afxdp, sigterm_removes_the_tap_and_the_xdp_program)
{
    auto client = spawn({binary_path("/tools/netring-bridge"), "-i", nic_port(), "-i", nic_port("^"),
                         "--socket", socket_path(), "--json"},
                        true);
    ASSERT_TRUE(client);
    const std::string tap = tap_name();
    ASSERT_TRUE(eventually([&] { return ::if_nametoindex(tap.c_str()) != 0 || !client->running(); }, 20s) &&
                client->running())
        << "the TAP " << tap << " never appeared: " << client->read_err();
    EXPECT_TRUE(xdp_attached()) << net().bound_link_details();

    ASSERT_EQ(::kill(daemon_pid(), SIGTERM), 0);
    siginfo_t info{};
    ASSERT_TRUE(eventually(
        [&] {
            info = {};
            return ::waitid(P_PID, daemon_pid(), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
                   info.si_pid == daemon_pid();
        },
        15s))
        << "netringd did not exit within 15 s of SIGTERM";
    EXPECT_TRUE(info.si_code == CLD_EXITED && info.si_status == 0);
    kill_daemon();
    EXPECT_TRUE(eventually([&] { return ::if_nametoindex(tap.c_str()) == 0; }, 5s))
        << "TAP " << tap << " left behind";
    EXPECT_TRUE(eventually([&] { return !xdp_attached(); }, 5s)) << "XDP program left:\n"
                                                                 << net().bound_link_details();
    const child_result r = client->wait(30s);
    EXPECT_TRUE(r.exited) << "the bridge did not notice the daemon going: " << r.describe();
    expect_second_daemon_receives(2000);
}

} // namespace
} // namespace netring::itest
