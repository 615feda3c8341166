#include "options.hpp"

#include <netring/netring.hpp>

#include <charconv>
#include <cmath>
#include <cstdlib>

namespace netring::bridge {
namespace {

bool parse_u64(const std::string &s, uint64_t &out)
{
    if (s.empty())
        return false;
    const char *end = s.data() + s.size();
    const auto r = std::from_chars(s.data(), end, out);
    return r.ec == std::errc() && r.ptr == end;
}

// Non-negative seconds, fractions allowed; `allow_zero` for -w.
bool parse_seconds(const std::string &s, double &out, bool allow_zero)
{
    if (s.empty())
        return false;
    char *end = nullptr;
    const double v = std::strtod(s.c_str(), &end);
    if (end != s.c_str() + s.size() || !std::isfinite(v) || v < 0 || (v == 0 && !allow_zero) || v > 1e9)
        return false;
    out = v;
    return true;
}

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
    auto fail = [&](std::string msg) {
        out.error = std::move(msg);
        return out;
    };

    for (size_t i = 0; i < args.size(); i++) {
        std::string opt = args[i];
        std::string val;
        bool inline_val = false;
        // --name=value and -xVALUE, as getopt accepts them.
        if (opt.rfind("--", 0) == 0) {
            if (const auto eq = opt.find('='); eq != std::string::npos) {
                val = opt.substr(eq + 1);
                opt = opt.substr(0, eq);
                inline_val = true;
            }
        } else if (opt.size() > 2 && opt[0] == '-') {
            val = opt.substr(2);
            opt = opt.substr(0, 2);
            inline_val = true;
        }
        if (opt == "-h" || opt == "--help") {
            out.help = true;
            return out;
        }
        if (opt == "--json") {
            if (inline_val)
                return fail("--json takes no value");
            o.json = true;
            continue;
        }
        if (opt != "-i" && opt != "-b" && opt != "-w" && opt != "-T" && opt != "--spin" && opt != "--socket")
            return fail("unknown option '" + args[i] + "'");
        if (!inline_val) {
            if (i + 1 >= args.size())
                return fail("option " + opt + " needs a value");
            val = args[++i];
        }
        uint64_t n = 0;
        if (opt == "-i") {
            if (val.empty())
                return fail("-i needs a port name");
            ports.push_back(val);
        } else if (opt == "-b") {
            if (!parse_u64(val, n) || n == 0 || n > 1u << 20)
                return fail("-b: expected a batch from 1 to 1048576, not '" + val + "'");
            o.batch = static_cast<uint32_t>(n);
        } else if (opt == "-w") {
            if (!parse_seconds(val, o.wait_seconds, true))
                return fail("-w: expected a number of seconds, not '" + val + "'");
        } else if (opt == "-T") {
            if (!parse_seconds(val, o.seconds, false))
                return fail("-T: expected a positive number of seconds, not '" + val + "'");
        } else if (opt == "--spin") {
            if (!parse_u64(val, n) || n > UINT32_MAX)
                return fail("--spin: expected a number of empty passes, not '" + val + "'");
            o.spin = static_cast<uint32_t>(n);
        } else if (opt == "--socket") {
            if (val.empty())
                return fail("--socket needs a path");
            o.socket_path = val;
        }
    }
    if (ports.size() != 2)
        return fail("two ports are required (-i PORT_A -i PORT_B), " + std::to_string(ports.size()) +
                    " given");
    if (ports[0] == ports[1])
        return fail("the two ports are the same (" + ports[0] + ")");
    o.port_a = ports[0];
    o.port_b = ports[1];
    return out;
}

} // namespace netring::bridge
