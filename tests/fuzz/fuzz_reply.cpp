// Bytes as libnetring reads a reply: header checks, fixed replies and the counted STATS and
// SWITCH_CTL records.
#include "libclient/reply_codec.hpp"

#include <cstdlib>
#include <cstring>

namespace proto = netring::proto;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < sizeof(proto::header))
        return 0;
    proto::header h;
    std::memcpy(&h, data, sizeof h);
    auto payload = std::as_bytes(std::span(data + sizeof h, size - sizeof h));
    h.length = static_cast<uint32_t>(payload.size());
    const auto expected = static_cast<proto::msg_type>(h.type);
    if (!proto::check_reply_header(h, expected, h.seq))
        return 0;
    switch (expected) {
    case proto::msg_type::stats_reply: {
        auto s = proto::decode_stats_reply(h, payload);
        if (s)
            for (const auto &r : s->rings)
                if (r.registration >= s->registrations.size())
                    std::abort();
        break;
    }
    case proto::msg_type::switch_ctl_reply: {
        // Accepted records account for every payload byte, whatever the counts claimed.
        auto s = proto::decode_switch_ctl_reply(h, payload);
        if (s) {
            size_t ports = 0;
            for (const auto &sw : s.value())
                ports += sw.ports.size();
            if (sizeof(proto::switch_ctl_reply) + s->size() * sizeof(proto::switch_record) +
                    ports * sizeof(proto::switch_port_record) !=
                payload.size())
                std::abort();
        }
        break;
    }
    case proto::msg_type::port_info_reply: (void)proto::decode_port_info_reply(h, payload); break;
    case proto::msg_type::regif_reply: (void)proto::decode_reply<proto::regif_reply>(h, payload); break;
    default: (void)proto::decode_reply<proto::sync_reply>(h, payload); break;
    }
    return 0;
}
