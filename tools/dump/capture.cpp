#include "capture.hpp"

#include "tools/common/text_format.hpp"

#include <algorithm>
#include <cinttypes>

namespace netring::dump {

capture_interface describe_monitor_ring(std::string_view watched, const monitor_source &src)
{
    capture_interface i;
    const char *dir = src.tx ? "tx" : "rx";
    const char *host = src.host ? "host-" : "";
    tools::append_format(i.name, "%.*s %s%s%" PRIu32, static_cast<int>(watched.size()), watched.data(), host,
                         dir, src.ring);
    tools::append_format(i.description, "frames %.*s %s on its %s%s ring %" PRIu32 " (netring monitor)",
                         static_cast<int>(watched.size()), watched.data(), src.tx ? "transmits" : "receives",
                         src.host ? "host " : "", dir, src.ring);
    i.dir = src.tx ? frame_direction::outbound : frame_direction::inbound;
    return i;
}

capture_interface describe_unknown_ring(std::string_view watched, uint32_t ring)
{
    capture_interface i;
    tools::append_format(i.name, "%.*s ring%" PRIu32, static_cast<int>(watched.size()), watched.data(), ring);
    i.description = "a ring of unknown source";
    return i;
}

capture::capture(const frame_filter &filter, capture_sink *sink, uint32_t snaplen, uint64_t count,
                 size_t interfaces)
    : filter_(filter), sink_(sink), snaplen_(snaplen), count_(count), counts_(interfaces)
{}

bool capture::offer(uint32_t iface, uint64_t ts_ns, const unsigned char *frame, uint32_t len)
{
    interface_counts &c = counts_[iface];
    c.received++;
    const std::span<const unsigned char> kept(frame, std::min(len, snaplen_));
    if (!filter_.accepts(kept, len))
        return true;
    c.accepted++;
    if (done())
        return true;
    if (sink_ && !sink_->write({iface, ts_ns, kept, len}))
        return false;
    c.delivered++;
    captured_++;
    return true;
}

uint64_t capture::filtered_out() const
{
    uint64_t n = 0;
    for (const interface_counts &c : counts_)
        n += c.received - c.accepted;
    return n;
}

uint64_t capture::dropped() const
{
    uint64_t n = 0;
    for (const interface_counts &c : counts_)
        n += c.dropped;
    return n;
}

std::string closing_line(const capture &cap)
{
    std::string line;
    tools::append_format(line,
                         "netring-dump: %" PRIu64 " frame%s captured, %" PRIu64
                         " dropped by the monitor, %" PRIu64 " filtered out\n",
                         cap.captured(), cap.captured() == 1 ? "" : "s", cap.dropped(), cap.filtered_out());
    return line;
}

} // namespace netring::dump
