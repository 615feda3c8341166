#include "options.hpp"

#include <charconv>
#include <cmath>
#include <cstdlib>

namespace netring::pktgen {

namespace {

bool parse_u64(const std::string &s, uint64_t &out)
{
    if (s.empty())
        return false;
    const char *end = s.data() + s.size();
    const auto r = std::from_chars(s.data(), end, out);
    return r.ec == std::errc() && r.ptr == end;
}

bool parse_seconds(const std::string &s, double &out)
{
    if (s.empty())
        return false;
    char *end = nullptr;
    const double v = std::strtod(s.c_str(), &end);
    if (end != s.c_str() + s.size() || !std::isfinite(v) || v <= 0)
        return false;
    out = v;
    return true;
}

bool is_power_of_two(uint64_t v) { return v && (v & (v - 1)) == 0; }

} // namespace

const char *mode_name(run_mode m)
{
    switch (m) {
    case run_mode::tx:
        return "tx";
    case run_mode::rx:
        return "rx";
    case run_mode::ping:
        return "ping";
    case run_mode::pong:
        return "pong";
    }
    return "?";
}

const char *sync_name(sync_mode s) { return s == sync_mode::shm ? "shm" : "socket"; }
const char *wait_name(wait_kind w) { return w == wait_kind::poll ? "poll" : "busy"; }

std::string usage_text()
{
    return "usage: netring-pktgen -i PORT -f tx|rx|ping|pong [options]\n"
           "  -i PORT              port name, e.g. netmap:pipeA{1\n"
           "  -f MODE              tx, rx, ping or pong\n"
           "  -l LEN               frame length without FCS (default 60, min 60, max buffer size)\n"
           "  -n COUNT             packets to send / receive / ping (ping default 100000)\n"
           "  -b BATCH             packets per sync at most (default 512)\n"
           "  -T SECONDS           stop after this long\n"
           "  -R PPS               pace tx to this many packets per second\n"
           "  -S MAC / -D MAC      source / destination MAC (default 02:00:00:00:00:01 / broadcast)\n"
           "  --sync shm|socket    shared-memory sync (default) or a daemon round trip per sync\n"
           "  --wait poll|busy     sleep when idle (default) or spin without sleeping\n"
           "  --payload full|header  write and check every byte (default) or the header only\n"
           "  --slots N            ring size to ask for (power of two)\n"
           "  --spin N             --wait poll: empty checks before sleeping (default: the library's)\n"
           "  --json               print the summary as one JSON object\n"
           "  --socket PATH        netringd's socket (default $NETRING_SOCKET or " +
           std::string(default_socket_path) + ")\n";
}

parse_outcome parse_options(const std::vector<std::string> &args)
{
    parse_outcome out;
    pktgen_options &o = out.opts;
    bool have_mode = false;
    bool have_count = false;
    auto fail = [&](std::string msg) {
        out.error = std::move(msg);
        return out;
    };

    for (size_t i = 0; i < args.size(); i++) {
        std::string opt = args[i];
        std::string val;
        bool inline_val = false;
        // --name=value and -xVALUE forms, as getopt accepts them.
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
        static const char *const with_value[] = {"-i", "-f", "-l", "-n", "-b", "-T", "-R", "-S", "-D",
                                                 "--sync", "--wait", "--payload", "--slots", "--spin", "--socket"};
        bool known = false;
        for (const char *w : with_value)
            known = known || opt == w;
        if (!known)
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
            o.port = val;
        } else if (opt == "-f") {
            if (val == "tx")
                o.mode = run_mode::tx;
            else if (val == "rx")
                o.mode = run_mode::rx;
            else if (val == "ping")
                o.mode = run_mode::ping;
            else if (val == "pong")
                o.mode = run_mode::pong;
            else
                return fail("-f: expected tx, rx, ping or pong, not '" + val + "'");
            have_mode = true;
        } else if (opt == "-l") {
            if (!parse_u64(val, n) || n < min_frame_len || n > 65535)
                return fail("-l: frame length must be a number from " + std::to_string(min_frame_len) +
                            " to the buffer size, not '" + val + "'");
            o.len = static_cast<uint32_t>(n);
        } else if (opt == "-n") {
            if (!parse_u64(val, n) || n == 0)
                return fail("-n: expected a positive count, not '" + val + "'");
            o.count = n;
            have_count = true;
        } else if (opt == "-b") {
            if (!parse_u64(val, n) || n == 0 || n > 1u << 20)
                return fail("-b: expected a batch from 1 to 1048576, not '" + val + "'");
            o.batch = static_cast<uint32_t>(n);
        } else if (opt == "-T") {
            if (!parse_seconds(val, o.seconds))
                return fail("-T: expected a positive number of seconds, not '" + val + "'");
        } else if (opt == "-R") {
            if (!parse_u64(val, n) || n == 0)
                return fail("-R: expected a positive packet rate, not '" + val + "'");
            o.rate = n;
        } else if (opt == "-S" || opt == "-D") {
            if (!parse_mac(val, opt == "-S" ? o.src : o.dst))
                return fail(opt + ": expected a MAC address like 02:00:00:00:00:01, not '" + val + "'");
        } else if (opt == "--sync") {
            if (val == "shm")
                o.sync = sync_mode::shm;
            else if (val == "socket")
                o.sync = sync_mode::socket;
            else
                return fail("--sync: expected shm or socket, not '" + val + "'");
        } else if (opt == "--wait") {
            if (val == "poll")
                o.wait = wait_kind::poll;
            else if (val == "busy")
                o.wait = wait_kind::busy;
            else
                return fail("--wait: expected poll or busy, not '" + val + "'");
        } else if (opt == "--payload") {
            if (val == "full")
                o.payload = payload_kind::full;
            else if (val == "header")
                o.payload = payload_kind::header;
            else
                return fail("--payload: expected full or header, not '" + val + "'");
        } else if (opt == "--slots") {
            if (!parse_u64(val, n) || !is_power_of_two(n) || n < 2 || n > 1u << 20)
                return fail("--slots: expected a power of two from 2 to 1048576, not '" + val + "'");
            o.slots = static_cast<uint32_t>(n);
        } else if (opt == "--spin") {
            if (!parse_u64(val, n) || n > UINT32_MAX)
                return fail("--spin: expected a number of empty checks, not '" + val + "'");
            o.spin = static_cast<int64_t>(n);
        } else if (opt == "--socket") {
            if (val.empty())
                return fail("--socket needs a path");
            o.socket_path = val;
        }
    }

    if (o.port.empty())
        return fail("a port is required (-i PORT)");
    if (!have_mode)
        return fail("a mode is required (-f tx|rx|ping|pong)");
    if (o.mode == run_mode::ping && !have_count && o.seconds == 0)
        o.count = default_ping_count;
    return out;
}

} // namespace netring::pktgen
