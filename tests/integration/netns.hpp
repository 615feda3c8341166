// Network namespaces and veth pairs for the NIC scenarios, owned by the test that made them.
//
//   auto net = netns::create("a", 4);     // netns nrt<pid>a; veth nrt<pid>a0 (here) <-> nrt<pid>a1 (inside)
//   if (!net) GTEST_SKIP() << net.err().describe();
//   net->bound_if();                      // the end netringd binds: stays in this (the root) namespace
//   net->peer_if();                       // the end inside the namespace, where nic_peer runs
//   net->exec({"nic_peer", "send", ...}); // {"ip", "netns", "exec", NS, "nic_peer", ...}
//
// Both ends are up, have IPv6 turned off (so no router solicitation or MLD report lands among the test
// frames) and, when `queues` > 1, that many rx and tx queues. The destructor deletes the veth pair and
// the namespace by their names, nothing else. Names stay within IFNAMSIZ: "nrt" + pid + tag + digit.
#pragma once

#include <netring/error.hpp>

#include <string>
#include <vector>

namespace netring::itest {

// Runs argv (searched in PATH) and waits; `out` gets stdout and stderr together. Returns the exit
// status (-1 when it could not run or was killed).
int run_command(const std::vector<std::string> &argv, std::string *out = nullptr);

// True when `ip` can be found (in PATH or /usr/sbin, /sbin).
bool have_ip_tool();

class netns {
public:
    // tag: a few letters that make the names unique within this process.
    static result<netns> create(const std::string &tag, unsigned queues = 1);

    netns(netns &&other) noexcept;
    netns &operator=(netns &&) = delete;
    netns(const netns &) = delete;
    ~netns();

    const std::string &name() const { return name_; }
    const std::string &bound_if() const { return bound_; }
    const std::string &peer_if() const { return peer_; }
    const std::string &bound_mac() const { return bound_mac_; }
    const std::string &peer_mac() const { return peer_mac_; }

    // The command line that runs argv inside the namespace.
    std::vector<std::string> exec(const std::vector<std::string> &argv) const;
    // Runs a command inside the namespace and waits for it.
    int run(const std::vector<std::string> &argv, std::string *out = nullptr) const;

    // `ip -d link show` of the bound end (to look for an attached XDP program).
    std::string bound_link_details() const;

private:
    netns() = default;
    void destroy();

    std::string name_;
    std::string bound_;
    std::string peer_;
    std::string bound_mac_;
    std::string peer_mac_;
    bool owned_ = false;
};

} // namespace netring::itest
