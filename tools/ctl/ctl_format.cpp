#include "ctl_format.hpp"

#include "tools/common/json_writer.hpp"
#include "tools/common/text_format.hpp"

#include <cinttypes>
#include <cstdio>

namespace netring::ctl {

namespace {

std::string human_bytes(uint64_t v)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double d = static_cast<double>(v);
    int u = 0;
    while (d >= 1024 && u < 4) {
        d /= 1024;
        u++;
    }
    char buf[32];
    std::snprintf(buf, sizeof buf, u ? "%.1f %s" : "%.0f %s", d, units[u]);
    return buf;
}

} // namespace

const char *ring_dir_name(uint16_t dir) { return dir == NR_RING_DIR_TX ? "tx" : dir == NR_RING_DIR_RX ? "rx" : "?"; }

const char *ring_status_name(uint32_t st)
{
    switch (st) {
    case NR_SYNC_OK:
        return "ok";
    case NR_SYNC_RESET:
        return "reset";
    case NR_SYNC_PEER_GONE:
        return "peer_gone";
    default:
        return "unknown";
    }
}

const char *port_kind_name(uint32_t kind)
{
    switch (kind) {
    case NR_PORT_KIND_PIPE:
        return "pipe";
    case NR_PORT_KIND_DAEMON:
        return "daemon";
    case NR_PORT_KIND_MONITOR:
        return "monitor";
    default:
        return "unknown";
    }
}

namespace {

// The flags of a canonical port name ("rt" for "netmap:p{1/rt"), and the name without them.
std::string_view flags_of(std::string_view name)
{
    const size_t slash = name.rfind('/');
    return slash == std::string_view::npos ? std::string_view{} : name.substr(slash + 1);
}

std::string_view without_flags(std::string_view name) { return name.substr(0, name.rfind('/')); }

bool is_monitor_name(std::string_view name)
{
    const std::string_view f = flags_of(name);
    return f.find('r') != std::string_view::npos || f.find('t') != std::string_view::npos;
}

// netmap:IF, netmap:IF-2, netmap:IF^ and netmap:IF* all name interface IF; else empty.
std::string_view interface_of(std::string_view name)
{
    constexpr std::string_view prefix = "netmap:";
    if (!name.starts_with(prefix))
        return {};
    std::string_view rest = name.substr(prefix.size());
    const size_t end = rest.find_first_of("-^*{}");
    if (end != std::string_view::npos && (rest[end] == '{' || rest[end] == '}'))
        return {}; // a pipe
    return rest.substr(0, end);
}

std::string percent(uint64_t part, uint64_t whole)
{
    if (whole == 0)
        return "-";
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2f%%", 100.0 * static_cast<double>(part) / static_cast<double>(whole));
    return buf;
}

void monitors_text(std::string &out, const std::vector<monitor_summary> &ms)
{
    tools::append_format(out, "\nmonitors: %zu\n", ms.size());
    if (ms.empty())
        return;
    tools::append_format(out, "  %-28s %8s %14s %14s %8s\n", "monitor", "pid", "copied", "dropped", "dropped%");
    for (const monitor_summary &m : ms)
        tools::append_format(out, "  %-28s %8u %14" PRIu64 " %14" PRIu64 " %8s\n", m.name.c_str(), m.pid, m.copied,
                             m.dropped, percent(m.dropped, m.copied + m.dropped).c_str());
}

void monitors_json(tools::json_writer &j, const std::vector<monitor_summary> &ms)
{
    j.key("monitors");
    j.begin_array();
    for (const monitor_summary &m : ms) {
        j.begin_object();
        j.field("monitor", m.name);
        j.field("watches", m.watched);
        j.field("pid", m.pid);
        j.field("copied", m.copied);
        j.field("dropped", m.dropped);
        j.end_object();
    }
    j.end_array();
}

} // namespace

std::vector<monitor_summary> monitors_of(const daemon_stats &s, std::string_view port)
{
    const std::string_view want = without_flags(port);
    const std::string_view want_if = interface_of(want);
    std::vector<monitor_summary> out;
    for (size_t i = 0; i < s.registrations.size(); i++) {
        const registration_stats &g = s.registrations[i];
        if (!is_monitor_name(g.port_name))
            continue;
        const std::string_view watched = without_flags(g.port_name);
        const bool same_if = !want_if.empty() && want == "netmap:" + std::string(want_if) &&
                             interface_of(watched) == want_if;
        if (!port.empty() && watched != want && !same_if)
            continue;
        monitor_summary m;
        m.registration = i;
        m.name = g.port_name;
        m.watched = std::string(watched);
        m.pid = g.pid;
        for (const ring_stats &r : s.rings) {
            if (r.registration != i)
                continue;
            m.copied += r.packets;
            m.dropped += r.drops;
        }
        out.push_back(std::move(m));
    }
    return out;
}

std::string stats_text(const daemon_stats &s)
{
    std::string out;
    tools::append_format(out, "netringd: protocol version %u, up %" PRIu64 ".%03" PRIu64 " s, %u client%s\n",
                         s.version, s.uptime_ms / 1000, s.uptime_ms % 1000, s.clients,
                         s.clients == 1 ? "" : "s");

    tools::append_format(out, "\nregions: %zu\n", s.regions.size());
    if (!s.regions.empty())
        tools::append_format(out, "  %-24s %12s %8s %10s %10s %6s %5s\n", "name", "size", "buf_size",
                             "buffers", "free", "users", "pages");
    for (const region_stats &r : s.regions) {
        tools::append_format(out, "  %-24s %12s %8u %10u %10u %6u %5s\n", r.name.c_str(),
                             human_bytes(r.size).c_str(), r.buf_size, r.buffers_total, r.buffers_free,
                             r.users, r.hugepages ? "2M" : "4K");
        if (r.hugepage_faults)
            tools::append_format(
                out, "    %u huge page%s punched out by a client, replaced by the daemon's own memory\n",
                r.hugepage_faults, r.hugepage_faults == 1 ? "" : "s");
    }

    tools::append_format(out, "\nregistrations: %zu\n", s.registrations.size());
    for (size_t i = 0; i < s.registrations.size(); i++) {
        const registration_stats &g = s.registrations[i];
        tools::append_format(out, "  %s  reg_id %u  uid %u gid %u pid %u  (%u tx, %u rx rings)\n",
                             g.port_name.c_str(), g.reg_id, g.uid, g.gid, g.pid, g.tx_rings, g.rx_rings);
        bool header = false;
        for (const ring_stats &r : s.rings) {
            if (r.registration != i)
                continue;
            if (!header) {
                tools::append_format(out, "    %-3s %3s %6s %8s %-9s %14s %16s %10s %10s %8s %10s\n", "dir",
                                     "id", "slots", "occupied", "status", "packets", "bytes", "drops", "kicks",
                                     "errors", "copies");
                header = true;
            }
            tools::append_format(out,
                                 "    %-3s %3u %6u %8u %-9s %14" PRIu64 " %16" PRIu64 " %10" PRIu64
                                 " %10" PRIu64 " %8" PRIu64 " %10" PRIu64 "\n",
                                 ring_dir_name(r.dir), unsigned{r.ringid}, r.num_slots, r.occupied,
                                 ring_status_name(r.status), r.packets, r.bytes, r.drops, r.kicks, r.errors,
                                 r.copies);
        }
    }

    monitors_text(out, monitors_of(s));

    tools::append_format(out, "\nuids: %zu\n", s.uids.size());
    if (!s.uids.empty())
        tools::append_format(out, "  %-8s %13s %15s %11s %23s\n", "uid", "connections", "registrations",
                             "regions", "buffers");
    for (const uid_usage &u : s.uids) {
        if (u.unlimited) {
            tools::append_format(out, "  %-8u %13u %15u %11u %23" PRIu64 "  (admin: no limits)\n", u.uid,
                                 u.connections, u.registrations, u.regions, u.buffers);
            continue;
        }
        const std::string c = std::to_string(u.connections) + "/" + std::to_string(u.max_connections);
        const std::string g = std::to_string(u.registrations) + "/" + std::to_string(u.max_registrations);
        const std::string r = std::to_string(u.regions) + "/" + std::to_string(u.max_regions);
        const std::string b = std::to_string(u.buffers) + "/" + std::to_string(u.max_buffers);
        tools::append_format(out, "  %-8u %13s %15s %11s %23s\n", u.uid, c.c_str(), g.c_str(), r.c_str(),
                             b.c_str());
    }
    return out;
}

std::string stats_json(const daemon_stats &s)
{
    tools::json_writer j;
    j.begin_object();
    j.field("version", s.version);
    j.field("uptime_ms", s.uptime_ms);
    j.field("clients", s.clients);
    j.key("regions");
    j.begin_array();
    for (const region_stats &r : s.regions) {
        j.begin_object();
        j.field("name", r.name);
        j.field("size", r.size);
        j.field("buf_size", r.buf_size);
        j.field("buffers_total", r.buffers_total);
        j.field("buffers_free", r.buffers_free);
        j.field("users", r.users);
        j.field("hugepages", r.hugepages);
        j.field("hugepage_faults", r.hugepage_faults);
        j.end_object();
    }
    j.end_array();
    j.key("registrations");
    j.begin_array();
    for (size_t i = 0; i < s.registrations.size(); i++) {
        const registration_stats &g = s.registrations[i];
        j.begin_object();
        j.field("port", g.port_name);
        j.field("reg_id", g.reg_id);
        j.field("uid", g.uid);
        j.field("gid", g.gid);
        j.field("pid", g.pid);
        j.key("rings");
        j.begin_array();
        for (const ring_stats &r : s.rings) {
            if (r.registration != i)
                continue;
            j.begin_object();
            j.field("dir", ring_dir_name(r.dir));
            j.field("id", uint32_t{r.ringid});
            j.field("slots", r.num_slots);
            j.field("occupied", r.occupied);
            j.field("status", ring_status_name(r.status));
            j.field("packets", r.packets);
            j.field("bytes", r.bytes);
            j.field("drops", r.drops);
            j.field("kicks", r.kicks);
            j.field("errors", r.errors);
            j.field("copies", r.copies);
            j.end_object();
        }
        j.end_array();
        j.end_object();
    }
    j.end_array();
    monitors_json(j, monitors_of(s));
    j.key("uids");
    j.begin_array();
    for (const uid_usage &u : s.uids) {
        j.begin_object();
        j.field("uid", u.uid);
        j.field("unlimited", u.unlimited);
        j.field("connections", u.connections);
        j.field("registrations", u.registrations);
        j.field("regions", u.regions);
        j.field("buffers", u.buffers);
        j.field("max_connections", u.max_connections);
        j.field("max_registrations", u.max_registrations);
        j.field("max_regions", u.max_regions);
        j.field("max_buffers", u.max_buffers);
        j.end_object();
    }
    j.end_array();
    j.end_object();
    return j.str();
}

std::string port_info_text(std::string_view name, const port_details &d, const daemon_stats *stats)
{
    std::string out;
    const std::string n(name);
    tools::append_format(out, "%s: %s port, region %s\n", n.c_str(), port_kind_name(d.port_kind),
                         d.region_name.c_str());
    tools::append_format(out, "  rings: %u tx x %u slots, %u rx x %u slots; buffers of %u bytes\n",
                         d.tx_rings, d.tx_slots, d.rx_rings, d.rx_slots, d.buf_size);
    tools::append_format(out, "  clients: %u%s\n", d.clients, d.exclusive ? " (held exclusively)" : "");
    if (const nic_details &n = d.nic; n.present) {
        tools::append_format(
            out, "  interface: link %s, speed %s, mtu %u, mac %02x:%02x:%02x:%02x:%02x:%02x%s\n",
            n.link_up ? "up" : "down",
            n.speed_mbps ? (std::to_string(n.speed_mbps) + " Mb/s").c_str() : "unknown", n.mtu, n.mac[0],
            n.mac[1], n.mac[2], n.mac[3], n.mac[4], n.mac[5], n.promisc ? ", promiscuous" : "");
        tools::append_format(out, "  queues: %u, ring depth %u, numa node %d, bound %s%s%s\n", n.hw_queues,
                             n.ring_slots, n.numa_node, n.mode.empty() ? "(not bound)" : n.mode.c_str(),
                             n.xdp_mode.empty() ? "" : ", xdp ", n.xdp_mode.c_str());
        tools::append_format(out,
                             "  kernel counters: rx %" PRIu64 " packets %" PRIu64 " bytes %" PRIu64
                             " dropped; tx %" PRIu64 " packets %" PRIu64 " bytes %" PRIu64 " dropped\n",
                             n.rx_packets, n.rx_bytes, n.rx_dropped, n.tx_packets, n.tx_bytes, n.tx_dropped);
        tools::append_format(out, "  user-space copies: %" PRIu64 "\n", n.copies);
    }
    if (stats)
        monitors_text(out, monitors_of(*stats, name));
    return out;
}

std::string port_info_json(std::string_view name, const port_details &d, const daemon_stats *stats)
{
    tools::json_writer j;
    j.begin_object();
    j.field("port", name);
    j.field("kind", port_kind_name(d.port_kind));
    j.field("tx_rings", d.tx_rings);
    j.field("rx_rings", d.rx_rings);
    j.field("tx_slots", d.tx_slots);
    j.field("rx_slots", d.rx_slots);
    j.field("buf_size", d.buf_size);
    j.field("clients", d.clients);
    j.field("exclusive", d.exclusive);
    j.field("region", d.region_name);
    if (const nic_details &n = d.nic; n.present) {
        j.key("nic");
        j.begin_object();
        j.field("link_up", n.link_up);
        j.field("speed_mbps", n.speed_mbps);
        j.field("mtu", n.mtu);
        char mac[18];
        std::snprintf(mac, sizeof mac, "%02x:%02x:%02x:%02x:%02x:%02x", n.mac[0], n.mac[1], n.mac[2], n.mac[3],
                      n.mac[4], n.mac[5]);
        j.field("mac", std::string_view(mac));
        j.field("promisc", n.promisc);
        j.field("hw_queues", n.hw_queues);
        j.field("ring_slots", n.ring_slots);
        j.field("numa_node", static_cast<int64_t>(n.numa_node));
        j.field("mode", n.mode);
        j.field("xdp_mode", n.xdp_mode);
        j.field("copies", n.copies);
        j.key("kernel");
        j.begin_object();
        j.field("rx_packets", n.rx_packets);
        j.field("rx_bytes", n.rx_bytes);
        j.field("rx_dropped", n.rx_dropped);
        j.field("tx_packets", n.tx_packets);
        j.field("tx_bytes", n.tx_bytes);
        j.field("tx_dropped", n.tx_dropped);
        j.end_object();
        j.end_object();
    }
    if (stats)
        monitors_json(j, monitors_of(*stats, name));
    j.end_object();
    return j.str();
}

} // namespace netring::ctl
