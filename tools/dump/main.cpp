// netring-dump: captures what crosses a netring port through a monitor of it (docs/TOOLS.md), as
// tcpdump does on an interface: to a pcapng or pcap file, or one line per frame, with libpcap's
// filters. Exit status: 0 done (-c reached, SIGINT/SIGTERM, or the port went away); 1 the port
// could not be opened or read, or the output could not be written; 2 usage errors.
#include "capture.hpp"
#include "filter.hpp"
#include "options.hpp"
#include "run.hpp"
#include "sink.hpp"

#include <netring/netring.hpp>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

namespace {

using namespace netring;
using namespace netring::dump;

constexpr int exit_ok = 0;
constexpr int exit_fail = 1;

extern "C" void on_stop_signal(int) { stop_requested.store(true, std::memory_order_relaxed); }

void install_signal_handlers()
{
    struct sigaction sa = {};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; // no SA_RESTART: a sleeping poll() returns so the loop sees the flag
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
    // A reader that leaves (tshark quitting, head -n) makes a write fail with EPIPE instead of
    // killing the process, so the closing line is still printed.
    std::signal(SIGPIPE, SIG_IGN);
}

// CLOCK_REALTIME in ns, the clock the monitor stamps frames with: the statistics' start and end.
uint64_t realtime_ns()
{
    return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count());
}

} // namespace

int main(int argc, char **argv)
{
    const dump_parse parsed = parse_dump_options(std::vector<std::string>(argv + 1, argv + argc));
    if (parsed.help)
        return tools::show_usage(dump_usage());
    if (!parsed.error.empty())
        return tools::usage_error("netring-dump", parsed.error, dump_usage());
    const dump_options &o = parsed.opts;
    std::string why;
    const std::optional<frame_filter> filter = frame_filter::compile(o.filter, o.snaplen, why);
    if (!filter)
        return tools::usage_error("netring-dump", "bad filter '" + o.filter + "': " + why, dump_usage());
    install_signal_handlers();

    open_options opts;
    opts.socket_path = o.socket_path;
    opts.rx_slots = o.slots;
    result<port> opened = port::open(o.port, opts);
    // Without -B, a daemon that cannot give rings of the default size (its max_slots is lower, or
    // the region is short of buffers) gives its own default_slots: a capture with smaller rings
    // beats no capture. The closing line's drops tell whether they were too small.
    if (!opened && !o.slots_given &&
        (opened.err().code == make_error_code(errc::limit_exceeded) ||
         opened.err().code == make_error_code(errc::out_of_buffers))) {
        std::fprintf(stderr, "netring-dump: %u-slot rings refused (%s); using the daemon's default size\n",
                     o.slots, opened.err().message.c_str());
        opts.rx_slots = 0;
        opened = port::open(o.port, opts);
    }
    if (!opened) {
        std::fprintf(stderr, "netring-dump: cannot open %s: %s\n", o.port.c_str(),
                     opened.err().describe().c_str());
        return exit_fail;
    }
    port &p = opened.value();
    if (!p.is_monitor()) {
        std::fprintf(stderr, "netring-dump: %s did not open as a monitor\n", o.port.c_str());
        return exit_fail;
    }

    const std::vector<capture_interface> ifaces = describe_rings(p, o.watched);
    opened_sink out = open_sink(o, ifaces);
    if (!out.error.empty()) {
        std::fprintf(stderr, "netring-dump: %s\n", out.error.c_str());
        return exit_fail;
    }
    std::fprintf(stderr, "netring-dump: watching %s, %u ring%s, %u bytes kept per frame\n", o.port.c_str(),
                 p.rx_rings(), p.rx_rings() == 1 ? "" : "s", o.snaplen);

    capture cap(*filter, out.sink.get(), o.snaplen, o.count, ifaces.size());
    const uint64_t start_ns = realtime_ns();
    const capture_end end = run_capture(p, cap, out.sink.get(), o.output.empty() || o.output == "-");
    bool written = end != capture_end::sink_failed;
    if (out.sink && written)
        written = out.sink->finish(cap.counts(), start_ns, realtime_ns());
    std::fputs(closing_line(cap).c_str(), stderr);
    if (!written) {
        std::fprintf(stderr, "netring-dump: %s\n", out.sink->error().c_str());
        return exit_fail;
    }
    return end == capture_end::sync_failed ? exit_fail : exit_ok;
}
