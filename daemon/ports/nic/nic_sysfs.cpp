#include "nic_sysfs.hpp"

#include <netring/unique_fd.hpp>

#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace netring::netringd {
namespace {

std::string read_sysfs(const std::string &ifname, const char *leaf)
{
    std::ifstream f("/sys/class/net/" + ifname + "/" + leaf);
    std::string s;
    std::getline(f, s);
    return s;
}

// rx-N directories under /sys/class/net/IF/queues: the queues an XSK can bind to.
uint32_t count_rx_queues(const std::string &ifname)
{
    std::error_code ec;
    uint32_t n = 0;
    for (const auto &e : std::filesystem::directory_iterator("/sys/class/net/" + ifname + "/queues", ec))
        if (e.path().filename().string().rfind("rx-", 0) == 0)
            n++;
    return n ? n : 1;
}

bool parse_mac(const std::string &s, uint8_t (&out)[6])
{
    unsigned v[6];
    if (std::sscanf(s.c_str(), "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6)
        return false;
    for (int i = 0; i < 6; i++)
        out[i] = static_cast<uint8_t>(v[i]);
    return true;
}

uint64_t sysfs_number(const std::string &ifname, const char *leaf, uint64_t fallback = 0)
{
    const std::string s = read_sysfs(ifname, leaf);
    if (s.empty())
        return fallback;
    char *end = nullptr;
    const long long v = std::strtoll(s.c_str(), &end, 0);
    return end == s.c_str() || v < 0 ? fallback : static_cast<uint64_t>(v);
}

} // namespace

// The interface as the kernel shows it now: link, speed, flags, counters.
void describe_interface(const std::string &ifname, nic_details &d)
{
    if (::if_nametoindex(ifname.c_str()) == 0)
        return;
    d.present = true;
    d.link_up = read_sysfs(ifname, "operstate") == "up";
    const std::string speed = read_sysfs(ifname, "speed"); // "-1" or unreadable (EINVAL) when unknown
    d.speed_mbps = speed.empty() || speed[0] == '-'
                       ? 0
                       : static_cast<uint32_t>(std::strtoul(speed.c_str(), nullptr, 10));
    d.mtu = static_cast<uint32_t>(sysfs_number(ifname, "mtu"));
    d.promisc = (sysfs_number(ifname, "flags") & IFF_PROMISC) != 0;
    const std::string node = read_sysfs(ifname, "device/numa_node");
    d.numa_node = node.empty() ? -1 : static_cast<int32_t>(std::strtol(node.c_str(), nullptr, 10));
    d.hw_queues = count_rx_queues(ifname);
    parse_mac(read_sysfs(ifname, "address"), d.mac);
    d.rx_packets = sysfs_number(ifname, "statistics/rx_packets");
    d.tx_packets = sysfs_number(ifname, "statistics/tx_packets");
    d.rx_bytes = sysfs_number(ifname, "statistics/rx_bytes");
    d.tx_bytes = sysfs_number(ifname, "statistics/tx_bytes");
    d.rx_dropped = sysfs_number(ifname, "statistics/rx_dropped");
    d.tx_dropped = sysfs_number(ifname, "statistics/tx_dropped");
}

status set_promiscuous(const std::string &ifname, bool on)
{
    if (ifname.size() >= IFNAMSIZ)
        return error::from(errc::bad_port_name, "interface name too long: " + ifname);
    unique_fd s(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!s.valid())
        return error::from_errno(errno, "socket for interface flags");
    ifreq ifr{};
    std::memcpy(ifr.ifr_name, ifname.c_str(), ifname.size());
    if (::ioctl(s.get(), SIOCGIFFLAGS, &ifr) < 0)
        return errno == ENODEV
                   ? error::from(errc::bad_port_name, ifname + ": no such interface in netringd's namespace")
                   : error::from_errno(errno, "SIOCGIFFLAGS " + ifname);
    ifr.ifr_flags = static_cast<short>(on ? (ifr.ifr_flags | IFF_PROMISC) : (ifr.ifr_flags & ~IFF_PROMISC));
    if (::ioctl(s.get(), SIOCSIFFLAGS, &ifr) < 0)
        return error::from_errno(errno, "SIOCSIFFLAGS " + ifname);
    return ok_status();
}

result<interface_facts> probe_interface(const std::string &ifname)
{
    if (::if_nametoindex(ifname.c_str()) == 0)
        return error::from(errc::bad_port_name,
                           "netmap:" + ifname + ": no such interface in netringd's namespace");
    interface_facts f;
    f.hw_queues = count_rx_queues(ifname);
    if (!parse_mac(read_sysfs(ifname, "address"), f.mac))
        return error::from(errc::internal, "cannot read the MAC address of " + ifname);
    f.mtu = static_cast<uint32_t>(sysfs_number(ifname, "mtu", 1500));
    return f;
}

} // namespace netring::netringd
