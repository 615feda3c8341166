#include "options.hpp"

#include <netring/netring.hpp>

namespace netring::dump {

namespace {

// One option a line, as the usage lists them.
// clang-format off
constexpr tools::option_spec specs[] = {
    {"-i", "a port name"},
    {"-w", "a file name, or - for stdout"},
    {"-F", "pcapng or pcap"},
    {"-c", "a positive count"},
    {"-s", "a snapshot length from 0 to 262144"},
    {"-B", "a power of two of slots from 2 to 1048576"},
    {"-q", ""},
    {"--socket", "a path"},
};
// clang-format on

// The monitor of `text`: its own monitor flags kept, /rt added when it has none. Only the flags
// are looked at here: tools reach the public API alone (tests/layering), and port::open parses the
// whole name before it connects, so a typo still fails at once, in the library's words.
bool monitor_name(const std::string &text, dump_options &o, std::string &error)
{
    const size_t slash = text.find('/'); // no port name has a '/' before its flags
    const std::string base = text.substr(0, slash);
    const std::string flags = slash == std::string::npos ? "" : text.substr(slash + 1);
    if (flags.find_first_of("rt") != std::string::npos) {
        o.port = text;
    } else if (flags.empty()) {
        o.port = base + "/rt";
    } else {
        error = "-i: " + text + " is no monitor: a monitor takes the flags r, t or rt, not '" + flags + "'";
        return false;
    }
    o.watched = base;
    return true;
}

} // namespace

std::string dump_usage()
{
    return "usage: netring-dump -i PORT [-w FILE|-] [-F pcapng|pcap] [-c COUNT] [-s SNAPLEN] [-B SLOTS]\n"
           "                    [-q] [--socket PATH] [FILTER EXPRESSION...]\n"
           "  -i PORT              the port to watch, e.g. netmap:pipeA{1; /r, /t or /rt (the default)\n"
           "                       chooses the frames it receives, transmits, or both\n"
           "  -w FILE              write frames to FILE (- for stdout) instead of one line per frame\n"
           "  -F pcapng|pcap       -w's format (default pcapng; pcap cannot record the direction)\n"
           "  -c COUNT             stop after COUNT frames written\n"
           "  -s SNAPLEN           bytes kept per frame (default and 0: 262144)\n"
           "  -B SLOTS             slots per monitor ring, a power of two (default 8192, within the\n"
           "                       daemon's max_slots): what absorbs a burst while the dump is busy\n"
           "  -q                   no per-frame lines, only the closing count\n"
           "  --socket PATH        netringd's socket (default $NETRING_SOCKET or " +
           std::string(default_socket_path) +
           ")\n"
           "  FILTER EXPRESSION    a libpcap filter (pcap-filter(7)), e.g. tcp port 80\n";
}

dump_parse parse_dump_options(const std::vector<std::string> &args)
{
    dump_parse out;
    dump_options &o = out.opts;
    std::string port_text;
    std::string bad_slots;
    bool have_format = false;
    tools::arg_scanner a(args, specs, tools::operands::allowed);
    while (a.next()) {
        if (a.at_operand()) {
            if (!o.filter.empty())
                o.filter += ' ';
            o.filter += a.value();
        } else if (a.is("-i")) {
            a.take_text(port_text);
        } else if (a.is("-w")) {
            a.take_text(o.output);
        } else if (a.is("-F")) {
            have_format =
                a.take_choice(o.format, {{"pcapng", file_format::pcapng}, {"pcap", file_format::pcap}});
        } else if (a.is("-c")) {
            a.take_number(o.count, 1, UINT64_MAX);
        } else if (a.is("-s")) {
            // tcpdump's -s 0 means "the default"; scripts written for it keep working.
            if (a.take_number(o.snaplen, 0, default_snaplen) && o.snaplen == 0)
                o.snaplen = default_snaplen;
        } else if (a.is("-B")) {
            o.slots_given = true;
            if (a.take_number(o.slots, 2, 1u << 20) && (o.slots & (o.slots - 1)) != 0)
                bad_slots = "-B: expected a power of two of slots, not " + std::to_string(o.slots);
        } else if (a.is("-q")) {
            o.quiet = true;
        } else if (a.is("--socket")) {
            a.take_text(o.socket_path);
        }
    }
    if (!a.finish(out))
        return out;

    if (!bad_slots.empty())
        out.error = bad_slots;
    else if (port_text.empty())
        out.error = "a port is required (-i PORT)";
    else if (have_format && o.output.empty())
        out.error = "-F chooses the format of a capture file: give -w FILE too";
    else
        monitor_name(port_text, o, out.error);
    return out;
}

} // namespace netring::dump
