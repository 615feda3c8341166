// netring-pktgen: traffic generator and checker for netring ports (docs/TOOLS.md).
// Exit status: 0 ok; 1 corruption, duplicates, a shortfall against -n, lost pings or a failed
// sync; 2 usage or open errors.
#include "run.hpp"

#include <csignal>
#include <cstdio>
#include <string>
#include <vector>

namespace {

using namespace netring;
using namespace netring::pktgen;

constexpr int exit_ok = 0;
constexpr int exit_fail = 1;
constexpr int exit_usage = 2;

extern "C" void on_stop_signal(int)
{
    stop_requested.store(true, std::memory_order_relaxed);
}

void install_signal_handlers()
{
    struct sigaction sa = {};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; // no SA_RESTART: a sleeping poll() returns so the loop sees the flag
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
}

// Checks the port can carry what the options ask for; prints why not.
bool port_fits(const port &p, const pktgen_options &o)
{
    const bool needs_tx = o.mode != run_mode::rx;
    const bool needs_rx = o.mode != run_mode::tx;
    if ((needs_tx && p.tx_rings() == 0) || (needs_rx && p.rx_rings() == 0)) {
        std::fprintf(stderr, "netring-pktgen: %s has %u tx and %u rx rings; %s needs%s%s\n", o.port.c_str(),
                     p.tx_rings(), p.rx_rings(), mode_name(o.mode), needs_tx ? " a tx ring" : "",
                     needs_tx && needs_rx ? " and an rx ring" : (needs_rx ? " an rx ring" : ""));
        return false;
    }
    if (o.mode != run_mode::pong && o.len > p.buf_size()) {
        std::fprintf(stderr, "netring-pktgen: frame length %u exceeds the port's %u-byte buffers\n", o.len,
                     p.buf_size());
        return false;
    }
    return true;
}

int exit_status(const run_outcome &out, const pktgen_options &o)
{
    const run_result &r = out.result;
    if (out.failed || r.corrupt || r.duplicate || !out.complete)
        return exit_fail;
    if (o.mode == run_mode::ping && r.lost)
        return exit_fail;
    return exit_ok;
}

} // namespace

int main(int argc, char **argv)
{
    const parse_outcome parsed = parse_options(std::vector<std::string>(argv + 1, argv + argc));
    if (parsed.help)
        return tools::show_usage(usage_text());
    if (!parsed.error.empty())
        return tools::usage_error("netring-pktgen", parsed.error, usage_text());
    const pktgen_options &o = parsed.opts;
    install_signal_handlers();

    open_options opts;
    opts.tx_slots = opts.rx_slots = o.slots;
    opts.sync = o.sync;
    opts.socket_path = o.socket_path;
    if (o.spin >= 0)
        opts.spin_before_sleep = static_cast<uint32_t>(o.spin);
    result<port> opened = port::open(o.port, opts);
    if (!opened) {
        std::fprintf(stderr, "netring-pktgen: %s\n", opened.err().describe().c_str());
        return exit_usage;
    }
    port &p = opened.value();
    if (!port_fits(p, o))
        return exit_usage;

    run_context ctx(p, o);
    run_outcome out;
    switch (o.mode) {
    case run_mode::tx:
        out = run_tx(ctx);
        break;
    case run_mode::rx:
        out = run_rx(ctx);
        break;
    case run_mode::ping:
        out = run_ping(ctx);
        break;
    case run_mode::pong:
        out = run_pong(ctx);
        break;
    }

    const std::string summary = o.json ? format_json(out.result, o) + "\n" : format_text(out.result, o);
    std::fputs(summary.c_str(), stdout);
    std::fflush(stdout);
    if (!out.complete && !out.failed)
        std::fprintf(stderr, "netring-pktgen: %s moved %llu of the %llu packets asked for\n", mode_name(o.mode),
                     static_cast<unsigned long long>(out.result.packets), static_cast<unsigned long long>(o.count));
    return exit_status(out, o);
}
