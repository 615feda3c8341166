#include "report.hpp"

#include "tools/common/json_writer.hpp"
#include "tools/common/text_format.hpp"

#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdio>

namespace netring::pktgen {

double run_result::mpps() const
{
    const double s = seconds();
    return s > 0 ? packets / s * 1e-6 : 0.0;
}

double run_result::gbps() const
{
    const double s = seconds();
    return s > 0 ? bytes * 8.0 / s * 1e-9 : 0.0;
}

double run_result::ns_per_packet() const
{
    return packets ? static_cast<double>(last_ns - first_ns) / static_cast<double>(packets) : 0.0;
}

std::string format_json(const run_result &r, const pktgen_options &o)
{
    tools::json_writer j;
    j.begin_object();
    j.field("mode", mode_name(o.mode));
    j.field("port", o.port);
    j.field("packets", r.packets);
    j.field("bytes", r.bytes);
    j.field("seconds", r.seconds(), 6);
    j.field("mpps", r.mpps(), 4);
    j.field("gbps", r.gbps(), 4);
    j.field("ns_per_packet", r.ns_per_packet(), 2);
    j.field("lost", r.lost);
    j.field("corrupt", r.corrupt);
    j.field("duplicate", r.duplicate);
    j.field("batch", o.batch);
    j.field("len", r.frame_len ? r.frame_len : o.len);
    j.field("sync", sync_name(o.sync));
    j.field("wait", wait_name(o.wait));
    j.field("payload", o.payload == payload_kind::full ? "full" : "header");
    if (o.gaps_ms) {
        j.field("max_gap_ms", r.max_gap_ns * 1e-6, 3);
        j.key("gaps"); // [[began_s, length_ms], ...], began on the steady clock
        j.begin_array();
        for (const auto &[at, len] : r.gaps) {
            j.begin_array();
            j.value(at * 1e-9, 6);
            j.value(len * 1e-6, 3);
            j.end_array();
        }
        j.end_array();
    }
    if (r.has_rtt) {
        j.field("rtt_us_p50", r.rtt_us_p50, 3);
        j.field("rtt_us_p99", r.rtt_us_p99, 3);
    }
    j.end_object();
    return j.str();
}

std::string format_text(const run_result &r, const pktgen_options &o)
{
    std::string out;
    tools::append_format(out,
                         "%s %s: %" PRIu64 " packets, %" PRIu64 " bytes in %.3f s: %.3f Mpps, %.3f Gbps, "
                         "%.1f ns/packet\n"
                         "  lost %" PRIu64 ", corrupt %" PRIu64 ", duplicate %" PRIu64
                         "; len %u, batch %u, sync %s, wait %s, payload %s\n",
                         mode_name(o.mode), o.port.c_str(), r.packets, r.bytes, r.seconds(), r.mpps(),
                         r.gbps(), r.ns_per_packet(), r.lost, r.corrupt, r.duplicate,
                         r.frame_len ? r.frame_len : o.len, o.batch, sync_name(o.sync), wait_name(o.wait),
                         o.payload == payload_kind::full ? "full" : "header");
    if (r.has_rtt)
        tools::append_format(out, "  rtt p50 %.2f us, p99 %.2f us\n", r.rtt_us_p50, r.rtt_us_p99);
    return out;
}

std::string format_rate_line(run_mode m, uint64_t packets, uint64_t bytes, uint64_t interval_ns,
                             uint64_t total)
{
    const double s = interval_ns * 1e-9;
    const double mpps = s > 0 ? packets / s * 1e-6 : 0.0;
    const double gbps = s > 0 ? bytes * 8.0 / s * 1e-9 : 0.0;
    char buf[160];
    std::snprintf(buf, sizeof buf, "netring-pktgen: %s %.2f Mpps %.2f Gbps (total %" PRIu64 ")\n", mode_name(m),
                  mpps, gbps, total);
    return buf;
}

uint64_t quantile_sorted(const std::vector<uint64_t> &sorted, double q)
{
    if (sorted.empty())
        return 0;
    // Nearest rank: the smallest sample with at least q of all samples at or below it.
    auto rank = static_cast<size_t>(std::ceil(q * static_cast<double>(sorted.size())));
    rank = std::clamp<size_t>(rank, 1, sorted.size());
    return sorted[rank - 1];
}

uint32_t token_bucket::available(uint64_t now_ns, uint32_t want)
{
    if (now_ns > last_ns_) {
        tokens_ = std::min<double>(capacity_, tokens_ + static_cast<double>(now_ns - last_ns_) * rate_ * 1e-9);
        last_ns_ = now_ns;
    }
    const double whole = std::floor(tokens_);
    return whole <= 0 ? 0 : std::min<uint32_t>(want, static_cast<uint32_t>(whole));
}

uint64_t token_bucket::ns_until(uint32_t n) const
{
    if (tokens_ >= n || rate_ == 0)
        return 0;
    return static_cast<uint64_t>(std::ceil((n - tokens_) * 1e9 / static_cast<double>(rate_)));
}

uint32_t paced_burst(uint64_t rate, uint32_t batch)
{
    const uint64_t per_100us = rate / 10000;
    return static_cast<uint32_t>(std::clamp<uint64_t>(per_100us, 1, batch));
}

uint32_t paced_capacity(uint64_t rate, uint32_t batch)
{
    const uint64_t one_ms = rate / 1000;
    return static_cast<uint32_t>(std::min<uint64_t>(std::max<uint64_t>(uint64_t{paced_burst(rate, batch)} * 4, one_ms),
                                                    UINT32_MAX));
}

} // namespace netring::pktgen
