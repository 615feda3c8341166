// The NIC scenarios' fixture: a veth pair whose one end (bound_if) stays in the root namespace for
// netringd to bind and whose peer sits in a namespace of the test's own, plus netringd configured
// with a NIC mode and a policy that lets uid 65534 open netmap:<bound_if>*.
//
//   class my_test : public nic_test { unsigned queues() const override { return 4; } };
//   TEST_F(my_test, x) {
//       auto rx = pktgen({"-i", nic_port(), "-f", "rx", "-n", "100", "--json"});
//       auto tx = peer_send({"--count", "100"});
//   }
//
// Skips (with the reason) unless root with `ip` and setpriv. Teardown stops the daemon first, then
// removes the veth pair and the namespace.
#pragma once

#include "harness.hpp"
#include "netns.hpp"

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace netring::itest {

class nic_test : public daemon_test {
protected:
    void SetUp() override;
    void TearDown() override;
    std::string config_text() const override;

    // "afxdp", "afpacket", "auto", or "" (no nic_mode line: the daemon's default).
    virtual std::string nic_mode() const { return "afxdp"; }
    virtual unsigned queues() const { return 1; }

    const netns &net() const { return *net_; }
    // "netmap:" + bound_if + suffix ("-2", "/x", ...).
    std::string nic_port(const std::string &suffix = "") const;

    // nic_peer inside the namespace, on the peer end (as root: it needs a packet socket).
    std::unique_ptr<child> peer_send(std::vector<std::string> args);
    std::unique_ptr<child> peer_capture(std::vector<std::string> args);
    // nic_flow_rx as uid 65534 on `port` against `socket` (default: this fixture's daemon).
    std::unique_ptr<child> flow_rx(const std::string &port, std::vector<std::string> args = {},
                                   const std::string &socket = {});

    // Waits until `c` printed "ready" on stderr (nic_peer capture) or exited.
    static bool wait_ready(child &c, std::chrono::milliseconds timeout);
    // The NIC's region (a region whose name mentions bound_if), if STATS lists one.
    std::optional<region_stats> nic_region(const daemon_stats &s) const;
    // True when `ip -d link show` of bound_if shows an XDP program.
    bool xdp_attached() const;
    // The daemon's per-ring counters, for failure messages.
    std::string ring_summary();
    // AF_XDP sockets on bound_if per `ss --xdp` (-1 when ss cannot tell: no xsk_diag in the kernel).
    int xsk_count() const;

    // Scenario 1, RX: netring-pktgen -f rx on nic_port() (uid 65534) while nic_peer sends n pktgen
    // frames of len bytes at `rate` pps; every frame must arrive intact, once, in order.
    void expect_rx_intact(uint32_t len, uint64_t n, uint64_t rate = 20000);
    // Scenario 2, TX: nic_peer capture on the peer while netring-pktgen -f tx sends n frames through
    // nic_port(); the capture must see all n, every byte checked.
    void expect_tx_intact(uint32_t len, uint64_t n, uint64_t rate = 20000);
    // After the fixture's daemon is gone: a second netringd (same config, socket dir()/second.sock)
    // binds bound_if again and a receiver gets n intact frames through it; then it stops on SIGTERM
    // with exit 0 and leaves no XDP program.
    void expect_second_daemon_receives(uint64_t n);

private:
    std::unique_ptr<netns> net_;
};

// A NIC fixture run in one mode: `using host_stack_afpacket = in_nic_mode<host_stack, nic_afpacket>;`
// gives the same tests against the AF_PACKET path.
inline constexpr char nic_afxdp[] = "afxdp";
inline constexpr char nic_afpacket[] = "afpacket";

template <class Fixture, const char *Mode>
class in_nic_mode : public Fixture {
protected:
    std::string nic_mode() const override { return Mode; }
};

// "per_flow":{"3":10,"7":12} of a JSON line as flow -> count.
std::map<uint32_t, uint64_t> per_flow_counts(const std::string &json);

} // namespace netring::itest
