#include "options.hpp"

namespace netring::pktgen {

namespace {

bool is_power_of_two(uint64_t v) { return v && (v & (v - 1)) == 0; }

constexpr tools::option_spec specs[] = {
    {"-i", "a port name"},
    {"-f", "tx, rx, ping or pong"},
    {"-l", "a frame length from 60 to the buffer size"},
    {"-n", "a positive count"},
    {"-b", "a batch from 1 to 1048576"},
    {"-T", "a positive number of seconds"},
    {"-R", "a positive packet rate"},
    {"-S", "a MAC address like 02:00:00:00:00:01"},
    {"-D", "a MAC address like 02:00:00:00:00:01"},
    {"--sync", "shm or socket"},
    {"--wait", "poll or busy"},
    {"--payload", "full or header"},
    {"--slots", "a power of two from 2 to 1048576"},
    {"--spin", "a number of empty checks"},
    {"--gaps", "milliseconds"},
    {"--json", ""},
    {"--socket", "a path"},
};

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
           "  --gaps MS            rx: report every stretch of MS ms or more with no frame\n"
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
    tools::arg_scanner a(args, specs, tools::operands::refused);
    while (a.next()) {
        if (a.is("-i")) {
            a.take_text(o.port);
        } else if (a.is("-f")) {
            have_mode = a.take_choice(o.mode, {{"tx", run_mode::tx},
                                               {"rx", run_mode::rx},
                                               {"ping", run_mode::ping},
                                               {"pong", run_mode::pong}});
        } else if (a.is("-l")) {
            a.take_number(o.len, min_frame_len, 65535);
        } else if (a.is("-n")) {
            have_count = a.take_number(o.count, 1, UINT64_MAX);
        } else if (a.is("-b")) {
            a.take_number(o.batch, 1, 1u << 20);
        } else if (a.is("-T")) {
            a.take_seconds(o.seconds, false);
        } else if (a.is("-R")) {
            a.take_number(o.rate, 1, UINT64_MAX);
        } else if (a.is("-S") || a.is("-D")) {
            if (!parse_mac(a.value(), a.is("-S") ? o.src : o.dst))
                a.refuse();
        } else if (a.is("--sync")) {
            a.take_choice(o.sync, {{"shm", sync_mode::shm}, {"socket", sync_mode::socket}});
        } else if (a.is("--wait")) {
            a.take_choice(o.wait, {{"poll", wait_kind::poll}, {"busy", wait_kind::busy}});
        } else if (a.is("--payload")) {
            a.take_choice(o.payload, {{"full", payload_kind::full}, {"header", payload_kind::header}});
        } else if (a.is("--slots")) {
            if (a.take_number(o.slots, 2, 1u << 20) && !is_power_of_two(o.slots))
                a.refuse();
        } else if (a.is("--spin")) {
            a.take_number(o.spin, 0, UINT32_MAX);
        } else if (a.is("--gaps")) {
            a.take_number(o.gaps_ms, 1, 3600000);
        } else if (a.is("--json")) {
            o.json = true;
        } else if (a.is("--socket")) {
            a.take_text(o.socket_path);
        }
    }
    if (!a.finish(out))
        return out;

    if (o.port.empty())
        out.error = "a port is required (-i PORT)";
    else if (!have_mode)
        out.error = "a mode is required (-f tx|rx|ping|pong)";
    else if (o.mode == run_mode::ping && !have_count && o.seconds == 0)
        o.count = default_ping_count;
    return out;
}

} // namespace netring::pktgen
