// netring-bridge: joins two netring ports, forwarding every frame each way (docs/TOOLS.md), as
// netmap's bridge does. The classic use is a NIC and its host-stack rings (-i netmap:eth0
// -i netmap:eth0^): the interface keeps working for the kernel while every frame passes through
// user space. Ports of one region (a NIC, its host rings, pipes opened on it) are joined zero-copy.
// Exit status: 0 stopped by SIGINT/SIGTERM or -T; 1 a port failed while running; 2 usage or open errors.
#include "options.hpp"
#include "run.hpp"

#include "tools/common/json_writer.hpp"

#include <netring/netring.hpp>

#include <csignal>
#include <cstdio>
#include <ctime>
#include <string>
#include <vector>

namespace {

using namespace netring;
using namespace netring::bridge;

constexpr int exit_ok = 0;
constexpr int exit_fail = 1;
constexpr int exit_usage = 2;

extern "C" void on_stop_signal(int) { stop_requested.store(true, std::memory_order_relaxed); }

void install_signal_handlers()
{
    struct sigaction sa = {};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; // no SA_RESTART: a sleeping poll() or nanosleep() returns so the flag is seen
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
}

// True when both ports map one region: the daemon names the region each port lives in, and one
// name means one memfd, so a buffer index means the same buffer on both sides.
bool same_region(const bridge_options &o, const port &a, const port &b)
{
    auto ia = query_port_info(o.port_a, o.socket_path);
    auto ib = query_port_info(o.port_b, o.socket_path);
    if (!ia || !ib) {
        std::fprintf(stderr, "netring-bridge: cannot tell the ports' regions apart (%s); copying frames\n",
                     (!ia ? ia.err() : ib.err()).describe().c_str());
        return false;
    }
    return !ia->region_name.empty() && ia->region_name == ib->region_name && a.buf_size() == b.buf_size();
}

// -w: sleep before forwarding (a link coming up, a peer starting); a signal cuts it short.
void pause_before_start(double seconds)
{
    if (seconds <= 0)
        return;
    timespec left{static_cast<time_t>(seconds),
                  static_cast<long>((seconds - static_cast<double>(static_cast<time_t>(seconds))) * 1e9)};
    while (!stop_requested.load(std::memory_order_relaxed) && ::nanosleep(&left, &left) != 0) {
    }
}

void report(const bridge_options &o, const bridge_loop &loop, bool zero_copy)
{
    const traffic &ab = loop.ab().totals();
    const traffic &ba = loop.ba().totals();
    const double secs = loop.elapsed_seconds();
    std::fprintf(stderr,
                 "netring-bridge: %s -> %s: %llu packets, %llu bytes; %s -> %s: %llu packets, %llu bytes; "
                 "%s; %.3f s\n",
                 o.port_a.c_str(), o.port_b.c_str(), static_cast<unsigned long long>(ab.packets),
                 static_cast<unsigned long long>(ab.bytes), o.port_b.c_str(), o.port_a.c_str(),
                 static_cast<unsigned long long>(ba.packets), static_cast<unsigned long long>(ba.bytes),
                 zero_copy ? "zero-copy" : "copy", secs);
    if (ab.dropped || ba.dropped)
        std::fprintf(
            stderr, "netring-bridge: dropped %llu frames A->B and %llu B->A (slots outside their buffer)\n",
            static_cast<unsigned long long>(ab.dropped), static_cast<unsigned long long>(ba.dropped));
    if (!o.json)
        return;
    tools::json_writer j;
    j.begin_object();
    j.field("port_a", o.port_a);
    j.field("port_b", o.port_b);
    j.field("mode", zero_copy ? "zero-copy" : "copy");
    j.field("a_to_b_packets", ab.packets);
    j.field("a_to_b_bytes", ab.bytes);
    j.field("a_to_b_dropped", ab.dropped);
    j.field("b_to_a_packets", ba.packets);
    j.field("b_to_a_bytes", ba.bytes);
    j.field("b_to_a_dropped", ba.dropped);
    j.field("seconds", secs, 3);
    j.end_object();
    std::printf("%s\n", j.str().c_str());
    std::fflush(stdout);
}

result<port> open_port(const std::string &name, const bridge_options &o)
{
    open_options opts;
    opts.socket_path = o.socket_path;
    return port::open(name, opts);
}

} // namespace

int main(int argc, char **argv)
{
    const bridge_parse parsed = parse_bridge_options(std::vector<std::string>(argv + 1, argv + argc));
    if (parsed.help)
        return tools::show_usage(bridge_usage());
    if (!parsed.error.empty())
        return tools::usage_error("netring-bridge", parsed.error, bridge_usage());
    const bridge_options &o = parsed.opts;
    install_signal_handlers();

    result<port> a = open_port(o.port_a, o);
    if (!a) {
        std::fprintf(stderr, "netring-bridge: cannot open %s: %s\n", o.port_a.c_str(),
                     a.err().describe().c_str());
        return exit_usage;
    }
    result<port> b = open_port(o.port_b, o);
    if (!b) {
        std::fprintf(stderr, "netring-bridge: cannot open %s: %s\n", o.port_b.c_str(),
                     b.err().describe().c_str());
        return exit_usage;
    }
    for (const port *p : {&a.value(), &b.value()})
        if (p->rx_rings() == 0 || p->tx_rings() == 0) {
            std::fprintf(stderr,
                         "netring-bridge: %s has %u tx and %u rx rings; a bridge needs both directions\n",
                         p->name().c_str(), p->tx_rings(), p->rx_rings());
            return exit_usage;
        }
    const bool zero_copy = same_region(o, a.value(), b.value());
    std::fprintf(
        stderr, "netring-bridge: %s (%u rx / %u tx rings) <-> %s (%u rx / %u tx rings), %s\n",
        o.port_a.c_str(), a->rx_rings(), a->tx_rings(), o.port_b.c_str(), b->rx_rings(), b->tx_rings(),
        zero_copy ? "zero-copy (one region: buffer indices are swapped)" : "copy (separate regions)");
    pause_before_start(o.wait_seconds);

    bridge_loop loop(a.value(), b.value(), zero_copy, o);
    const bool ok = stop_requested.load() || loop.run();
    report(o, loop, zero_copy);
    return ok ? exit_ok : exit_fail;
}
