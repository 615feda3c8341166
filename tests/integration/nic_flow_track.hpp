// Per-flow sequence accounting for the NIC scenarios' `udp` frames (nic_peer capture, nic_flow_rx), and
// the JSON both print. Flows are numbered from 0; a flow's frames carry seq 0, 1, 2, ... and one link
// (or one queue) never reorders them, so a jump back is a duplicate and a jump forward a loss.
#pragma once

#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <map>
#include <string>

namespace netring::itest {

struct flow_state {
    uint64_t received = 0; // good frames, duplicates included
    uint64_t expected = 0; // next seq
    uint64_t lost = 0;
    uint64_t duplicate = 0;
};

class flow_tracker {
public:
    void observe(uint32_t flow, uint64_t seq)
    {
        flow_state &f = flows_[flow];
        f.received++;
        if (seq == f.expected) {
            f.expected++;
        } else if (seq > f.expected) {
            f.lost += seq - f.expected;
            f.expected = seq + 1;
        } else {
            f.duplicate++;
        }
    }

    uint64_t duplicate() const
    {
        uint64_t n = 0;
        for (const auto &[flow, f] : flows_)
            n += f.duplicate;
        return n;
    }
    uint64_t unique() const
    {
        uint64_t n = 0;
        for (const auto &[flow, f] : flows_)
            n += f.received - f.duplicate;
        return n;
    }

    // {"0":123,"5":77}: good frames per flow.
    std::string per_flow_json() const
    {
        std::string s = "{";
        for (const auto &[flow, f] : flows_) {
            char item[48];
            std::snprintf(item, sizeof item, "%s\"%u\":%" PRIu64, s.size() > 1 ? "," : "", flow, f.received);
            s += item;
        }
        return s + "}";
    }

    const std::map<uint32_t, flow_state> &flows() const { return flows_; }

private:
    std::map<uint32_t, flow_state> flows_; // a test tool: a map per frame is cheap enough
};

} // namespace netring::itest
