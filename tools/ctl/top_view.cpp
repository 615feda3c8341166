#include "top_view.hpp"

#include "tools/common/text_format.hpp"

#include <algorithm>
#include <cinttypes>
#include <map>

namespace netring::ctl {
namespace {

struct totals {
    uint64_t packets = 0, bytes = 0, drops = 0;
    uint32_t rings = 0, slots = 0, occupied = 0;
};

// Per registration id: tx and rx counters summed over its rings.
std::map<uint32_t, std::pair<totals, totals>> sums_by_reg_id(const daemon_stats &s)
{
    std::map<uint32_t, std::pair<totals, totals>> out;
    for (const ring_stats &r : s.rings) {
        if (r.registration >= s.registrations.size())
            continue;
        auto &both = out[s.registrations[r.registration].reg_id];
        totals &t = r.dir == NR_RING_DIR_TX ? both.first : both.second;
        t.packets += r.packets;
        t.bytes += r.bytes;
        t.drops += r.drops;
        t.rings++;
        t.slots += r.num_slots;
        t.occupied += r.occupied;
    }
    return out;
}

double per_second(uint64_t now, uint64_t then, double seconds)
{
    return now > then && seconds > 0 ? static_cast<double>(now - then) / seconds : 0.0;
}

top_rates_dir rates_of(const totals &now, const totals &then, double seconds)
{
    top_rates_dir d;
    d.packets_per_s = per_second(now.packets, then.packets, seconds);
    d.bits_per_s = per_second(now.bytes, then.bytes, seconds) * 8;
    d.drops_per_s = per_second(now.drops, then.drops, seconds);
    d.rings = now.rings;
    d.slots = now.slots;
    d.occupied = now.occupied;
    return d;
}

} // namespace

std::vector<top_row> top_rates(const daemon_stats &before, const daemon_stats &after, double seconds)
{
    const auto then = sums_by_reg_id(before);
    const auto now = sums_by_reg_id(after);
    std::vector<top_row> rows;
    for (const registration_stats &r : after.registrations) {
        top_row row;
        row.reg_id = r.reg_id;
        row.pid = r.pid;
        row.port = r.port_name;
        const auto n = now.find(r.reg_id);
        const std::pair<totals, totals> none;
        const auto &cur = n == now.end() ? none : n->second;
        const auto t = then.find(r.reg_id);
        const auto &old = t == then.end() ? none : t->second;
        row.tx = rates_of(cur.first, old.first, seconds);
        row.rx = rates_of(cur.second, old.second, seconds);
        rows.push_back(std::move(row));
    }
    std::stable_sort(rows.begin(), rows.end(), [](const top_row &a, const top_row &b) {
        const double ra = a.tx.packets_per_s + a.rx.packets_per_s, rb = b.tx.packets_per_s + b.rx.packets_per_s;
        return ra != rb ? ra > rb : a.reg_id < b.reg_id;
    });
    return rows;
}

std::string si_rate(double v)
{
    static const char *const prefixes[] = {"", "k", "M", "G", "T", "P"};
    size_t i = 0;
    while (v >= 999.5 && i + 1 < std::size(prefixes)) {
        v /= 1000;
        i++;
    }
    std::string out;
    if (i == 0)
        tools::append_format(out, "%.0f", v);
    else
        tools::append_format(out, v < 9.995 ? "%.2f%s" : v < 99.95 ? "%.1f%s" : "%.0f%s", v, prefixes[i]);
    return out;
}

std::string uptime_text(uint64_t ms)
{
    const uint64_t s = ms / 1000, m = s / 60, h = m / 60, d = h / 24;
    std::string out;
    if (d)
        tools::append_format(out, "%" PRIu64 "d%02" PRIu64 "h", d, h % 24);
    else if (h)
        tools::append_format(out, "%" PRIu64 "h%02" PRIu64 "m", h, m % 60);
    else if (m)
        tools::append_format(out, "%" PRIu64 "m%02" PRIu64 "s", m, s % 60);
    else
        tools::append_format(out, "%" PRIu64 "s", s);
    return out;
}

std::string top_screen(const daemon_stats &after, const std::vector<top_row> &rows, double seconds, size_t max_lines)
{
    top_rates_dir tx, rx;
    for (const top_row &r : rows) {
        tx.packets_per_s += r.tx.packets_per_s;
        tx.bits_per_s += r.tx.bits_per_s;
        tx.drops_per_s += r.tx.drops_per_s;
        rx.packets_per_s += r.rx.packets_per_s;
        rx.bits_per_s += r.rx.bits_per_s;
        rx.drops_per_s += r.rx.drops_per_s;
    }
    std::string out;
    tools::append_format(out, "netringd up %s, %u clients, %zu registrations, %zu regions; every %.1f s\n",
                         uptime_text(after.uptime_ms).c_str(), after.clients, after.registrations.size(),
                         after.regions.size(), seconds);
    tools::append_format(out, "total  tx %s pkt/s %sbit/s %s drop/s   rx %s pkt/s %sbit/s %s drop/s\n",
                         si_rate(tx.packets_per_s).c_str(), si_rate(tx.bits_per_s).c_str(),
                         si_rate(tx.drops_per_s).c_str(), si_rate(rx.packets_per_s).c_str(),
                         si_rate(rx.bits_per_s).c_str(), si_rate(rx.drops_per_s).c_str());
    out += "\n";
    tools::append_format(out, "%6s %7s %-24s %8s %8s %7s %8s %8s %7s %11s %11s\n", "REG", "PID", "PORT",
                         "TX pkt/s", "TX bit/s", "TX drop", "RX pkt/s", "RX bit/s", "RX drop", "TX occ", "RX occ");
    size_t lines = 4;
    for (const top_row &r : rows) {
        if (max_lines && lines >= max_lines)
            break;
        std::string port = r.port;
        if (port.size() > 24)
            port = port.substr(0, 23) + "~";
        // Occupancy as used/slots: how close each direction is to full.
        const std::string tx_occ = std::to_string(r.tx.occupied) + "/" + std::to_string(r.tx.slots);
        const std::string rx_occ = std::to_string(r.rx.occupied) + "/" + std::to_string(r.rx.slots);
        tools::append_format(out, "%6u %7u %-24s %8s %8s %7s %8s %8s %7s %11s %11s\n", r.reg_id, r.pid,
                             port.c_str(), si_rate(r.tx.packets_per_s).c_str(), si_rate(r.tx.bits_per_s).c_str(),
                             si_rate(r.tx.drops_per_s).c_str(), si_rate(r.rx.packets_per_s).c_str(),
                             si_rate(r.rx.bits_per_s).c_str(), si_rate(r.rx.drops_per_s).c_str(), tx_occ.c_str(),
                             rx_occ.c_str());
        lines++;
    }
    if (rows.empty())
        out += "(no registrations)\n";
    return out;
}

} // namespace netring::ctl
