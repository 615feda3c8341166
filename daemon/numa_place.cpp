#include "numa_place.hpp"

#include <numa.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>

namespace netring::netringd {

int interface_node(const std::string &ifname)
{
    std::ifstream f("/sys/class/net/" + ifname + "/device/numa_node");
    int node = -1;
    if (!(f >> node))
        return -1;
    return node;
}

int numa_nodes()
{
    if (numa_available() < 0)
        return 0;
    return numa_num_configured_nodes();
}

namespace {

result<placement> precheck(int node)
{
    if (node < 0)
        return placement::no_node;
    const int nodes = numa_nodes();
    if (nodes <= 1)
        return placement::single_node;
    if (node > numa_max_node())
        return error::from(errc::internal, "NUMA node " + std::to_string(node) + " does not exist (max " +
                                               std::to_string(numa_max_node()) + ")");
    return placement::done;
}

} // namespace

result<placement> place_memory(void *base, size_t bytes, int node)
{
    auto p = precheck(node);
    if (!p || *p != placement::done)
        return p;
    errno = 0;
    numa_tonode_memory(base, bytes, node); // reports failures through errno only
    if (errno != 0)
        return error::from_errno(errno, "binding memory to NUMA node " + std::to_string(node));
    return placement::done;
}

result<placement> pin_to_node(int node)
{
    auto p = precheck(node);
    if (!p || *p != placement::done)
        return p;
    if (numa_run_on_node(node) != 0)
        return error::from_errno(errno, "running on NUMA node " + std::to_string(node));
    return placement::done;
}

} // namespace netring::netringd
