#include "options.hpp"

#include <netring/netring.hpp>

namespace netring::bridge {
namespace {

constexpr tools::option_spec specs[] = {
    {"-i", "a port name"},
    {"-b", "a batch from 1 to 1048576"},
    {"-w", "a number of seconds"},
    {"-T", "a positive number of seconds"},
    {"--spin", "a number of empty passes"},
    {"--json", ""},
    {"--socket", "a path"},
};

} // namespace

std::string bridge_usage()
{
    return "usage: netring-bridge -i PORT_A -i PORT_B [options]\n"
           "  -i PORT          the two ports to join, e.g. -i netmap:eth0 -i netmap:eth0^\n"
           "  -b BATCH         frames per direction per pass at most (default " +
           std::to_string(default_batch) +
           ")\n"
           "  -w SECONDS       wait this long after opening the ports before forwarding\n"
           "  -T SECONDS       stop after this long (default: until SIGINT/SIGTERM)\n"
           "  --spin N         empty passes before sleeping in poll() (default " +
           std::to_string(default_spin) +
           ")\n"
           "  --json           print the totals as one JSON object on stdout at exit\n"
           "  --socket PATH    netringd's socket (default $NETRING_SOCKET or " +
           std::string(default_socket_path) + ")\n";
}

bridge_parse parse_bridge_options(const std::vector<std::string> &args)
{
    bridge_parse out;
    bridge_options &o = out.opts;
    std::vector<std::string> ports;
    tools::arg_scanner a(args, specs, tools::operands::refused);
    while (a.next()) {
        if (a.is("-i")) {
            if (std::string port; a.take_text(port))
                ports.push_back(port);
        } else if (a.is("-b")) {
            a.take_number(o.batch, 1, 1u << 20);
        } else if (a.is("-w")) {
            a.take_seconds(o.wait_seconds, true);
        } else if (a.is("-T")) {
            a.take_seconds(o.seconds, false);
        } else if (a.is("--spin")) {
            a.take_number(o.spin, 0, UINT32_MAX);
        } else if (a.is("--json")) {
            o.json = true;
        } else if (a.is("--socket")) {
            a.take_text(o.socket_path);
        }
    }
    if (!a.finish(out))
        return out;
    if (ports.size() != 2) {
        out.error =
            "two ports are required (-i PORT_A -i PORT_B), " + std::to_string(ports.size()) + " given";
    } else if (ports[0] == ports[1]) {
        out.error = "the two ports are the same (" + ports[0] + ")";
    } else {
        o.port_a = ports[0];
        o.port_b = ports[1];
    }
    return out;
}

} // namespace netring::bridge
