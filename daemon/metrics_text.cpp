// The exposition is written family by family: every sample of a family follows its HELP and TYPE
// lines, as the format requires, so each loop below walks the whole snapshot once per family.
#include "metrics_text.hpp"

#include <cstdio>
#include <functional>
#include <initializer_list>
#include <utility>

namespace netring::netringd {
namespace {

using label = std::pair<std::string_view, std::string_view>;

class exposition {
public:
    void family(std::string_view name, std::string_view type, std::string_view help)
    {
        name_ = name;
        out_.append("# HELP ").append(name).append(" ").append(help).append("\n");
        out_.append("# TYPE ").append(name).append(" ").append(type).append("\n");
    }

    void sample(std::initializer_list<label> labels, uint64_t value) { sample(labels, std::to_string(value)); }

    void sample_seconds(std::initializer_list<label> labels, double value)
    {
        char text[64];
        std::snprintf(text, sizeof text, "%.3f", value);
        sample(labels, text);
    }

    std::string take() { return std::move(out_); }

private:
    void sample(std::initializer_list<label> labels, std::string_view value)
    {
        out_.append(name_);
        if (labels.size() != 0) {
            char sep = '{';
            for (const auto &[k, v] : labels) {
                out_.push_back(sep);
                out_.append(k).append("=\"").append(escape_label_value(v)).append("\"");
                sep = ',';
            }
            out_.push_back('}');
        }
        out_.append(" ").append(value).append("\n");
    }

    std::string out_;
    std::string name_;
};

void ring_families(exposition &e, const stats_snapshot &s)
{
    struct family {
        const char *name, *type, *help;
        std::function<uint64_t(const ring_counters &)> value;
    };
    const family families[] = {
        {"netring_ring_packets_total", "counter", "Frames that crossed the ring.",
         [](const ring_counters &c) { return c.packets; }},
        {"netring_ring_bytes_total", "counter", "Bytes of the frames that crossed the ring.",
         [](const ring_counters &c) { return c.bytes; }},
        {"netring_ring_drops_total", "counter", "Frames the ring's server or peer dropped.",
         [](const ring_counters &c) { return c.drops; }},
        {"netring_ring_kicks_total", "counter", "Wake-ups (eventfd writes) issued to the other side.",
         [](const ring_counters &c) { return c.kicks; }},
        {"netring_ring_errors_total", "counter", "Invalid indices or slots seen (ring resets).",
         [](const ring_counters &c) { return c.errors; }},
        {"netring_ring_copies_total", "counter", "Frames the daemon copied in user space.",
         [](const ring_counters &c) { return c.copies; }},
        {"netring_ring_slots", "gauge", "Slots in the ring.",
         [](const ring_counters &c) { return uint64_t{c.num_slots}; }},
        {"netring_ring_occupied_slots", "gauge",
         "Slots in use: rx, frames the application has not released; tx, frames not yet taken.",
         [](const ring_counters &c) { return uint64_t{c.occupied}; }},
    };
    for (const family &f : families) {
        e.family(f.name, f.type, f.help);
        for (const registration_snapshot &r : s.registrations) {
            const std::string reg_id = std::to_string(r.reg_id);
            for (const ring_counters &c : r.rings) {
                const std::string ring = std::to_string(c.ringid);
                e.sample({{"port", r.port_name},
                          {"dir", c.dir == NR_RING_DIR_TX ? "tx" : "rx"},
                          {"ring", ring},
                          {"reg_id", reg_id}},
                         f.value(c));
            }
        }
    }
}

void region_families(exposition &e, const stats_snapshot &s)
{
    struct family {
        const char *name, *help;
        std::function<uint64_t(const region_snapshot &)> value;
    };
    const family families[] = {
        {"netring_region_size_bytes", "Size of the region's shared memory.",
         [](const region_snapshot &r) { return r.size; }},
        {"netring_region_buffers", "Packet buffers in the region.",
         [](const region_snapshot &r) { return uint64_t{r.buffers_total}; }},
        {"netring_region_buffers_free", "Packet buffers of the region no ring or registration holds.",
         [](const region_snapshot &r) { return uint64_t{r.buffers_free}; }},
        {"netring_region_users", "Ports using the region.", [](const region_snapshot &r) { return uint64_t{r.users}; }},
    };
    for (const family &f : families) {
        e.family(f.name, "gauge", f.help);
        for (const region_snapshot &r : s.regions)
            e.sample({{"region", r.name}}, f.value(r));
    }
}

void switch_families(exposition &e, const std::vector<switch_info> &switches)
{
    e.family("netring_switch_mac_entries", "gauge", "Addresses the switch has learned.");
    for (const switch_info &s : switches)
        e.sample({{"switch", s.name}}, s.mac_entries);

    struct family {
        const char *name, *type, *help;
        std::function<uint64_t(const switch_port_info &)> value;
    };
    const family families[] = {
        {"netring_switch_port_rx_packets_total", "counter", "Frames the switch took from the port.",
         [](const switch_port_info &p) { return p.rx_packets; }},
        {"netring_switch_port_rx_bytes_total", "counter", "Bytes the switch took from the port.",
         [](const switch_port_info &p) { return p.rx_bytes; }},
        {"netring_switch_port_tx_packets_total", "counter", "Frames the switch delivered to the port.",
         [](const switch_port_info &p) { return p.tx_packets; }},
        {"netring_switch_port_tx_bytes_total", "counter", "Bytes the switch delivered to the port.",
         [](const switch_port_info &p) { return p.tx_bytes; }},
        {"netring_switch_port_drops_total", "counter", "Frames for the port dropped because its rx ring was full.",
         [](const switch_port_info &p) { return p.drops; }},
        {"netring_switch_port_flooded_total", "counter",
         "Frames from the port the switch flooded to every other port (broadcast, multicast, unknown "
         "destination).",
         [](const switch_port_info &p) { return p.flooded; }},
        {"netring_switch_port_clients", "gauge", "Registrations mapping the switch port.",
         [](const switch_port_info &p) { return uint64_t{p.clients}; }},
    };
    for (const family &f : families) {
        e.family(f.name, f.type, f.help);
        for (const switch_info &s : switches)
            for (const switch_port_info &p : s.ports)
                e.sample({{"switch", s.name}, {"port", p.name}, {"kind", p.kind}}, f.value(p));
    }
}

void nic_families(exposition &e, const std::vector<nic_snapshot> &nics)
{
    struct family {
        const char *name, *type, *help;
        std::function<uint64_t(const nic_details &)> value;
    };
    const family families[] = {
        {"netring_nic_up", "gauge", "1 when the interface's link is up.",
         [](const nic_details &d) { return uint64_t{d.link_up ? 1u : 0u}; }},
        {"netring_nic_rx_packets_total", "counter", "Frames the kernel received on the interface.",
         [](const nic_details &d) { return d.rx_packets; }},
        {"netring_nic_tx_packets_total", "counter", "Frames the kernel sent on the interface.",
         [](const nic_details &d) { return d.tx_packets; }},
        {"netring_nic_rx_bytes_total", "counter", "Bytes the kernel received on the interface.",
         [](const nic_details &d) { return d.rx_bytes; }},
        {"netring_nic_tx_bytes_total", "counter", "Bytes the kernel sent on the interface.",
         [](const nic_details &d) { return d.tx_bytes; }},
        {"netring_nic_rx_dropped_total", "counter", "Received frames the kernel dropped.",
         [](const nic_details &d) { return d.rx_dropped; }},
        {"netring_nic_tx_dropped_total", "counter", "Frames to send the kernel dropped.",
         [](const nic_details &d) { return d.tx_dropped; }},
    };
    for (const family &f : families) {
        e.family(f.name, f.type, f.help);
        for (const nic_snapshot &n : nics)
            if (n.details.present)
                e.sample({{"interface", n.interface}}, f.value(n.details));
    }
}

} // namespace

std::string escape_label_value(std::string_view v)
{
    std::string out;
    out.reserve(v.size());
    for (const char ch : v) {
        if (ch == '\\')
            out.append("\\\\");
        else if (ch == '"')
            out.append("\\\"");
        else if (ch == '\n')
            out.append("\\n");
        else
            out.push_back(ch);
    }
    return out;
}

std::string metrics_text(const metrics_snapshot &m)
{
    exposition e;
    e.family("netring_up", "gauge", "1 while netringd answers.");
    e.sample({}, 1);
    e.family("netring_build_info", "gauge", "netringd's version, as a label; the value is 1.");
    e.sample({{"version", m.version}}, 1);
    e.family("netring_uptime_seconds", "gauge", "Seconds since netringd started serving.");
    e.sample_seconds({}, m.uptime_seconds);
    e.family("netring_clients", "gauge", "Open control connections.");
    e.sample({}, m.clients);
    e.family("netring_registrations", "gauge", "Registered ports (REGIF) of every client.");
    e.sample({}, m.stats.registrations.size());
    region_families(e, m.stats);
    ring_families(e, m.stats);
    switch_families(e, m.switches);
    nic_families(e, m.nics);
    return e.take();
}

} // namespace netring::netringd
