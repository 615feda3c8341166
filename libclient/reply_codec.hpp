// Client-side checks of the daemon's replies: the mirror of decode_request. A reply must carry the
// expected type (or error_reply), echo the request's sequence number and have the exact size of
// its struct; STATS and SWITCH_CTL replies are counted record by record before anything is read. Pure code on
// byte spans: no I/O, so the checks can be unit-tested and fuzzed on their own.
#pragma once

#include <netring/netring.hpp>
#include <netring/protocol.hpp>

#include <cstddef>
#include <cstring>
#include <span>
#include <vector>

namespace netring::proto {

// Header of a reply to a request of sequence `seq`: magic, version, length <= max_reply_payload,
// seq echoed, and type `expected` or error_reply.
status check_reply_header(const header &h, msg_type expected, uint32_t seq);

// The error a reply_status carries (its code and sentence), or ok. A status whose message has no
// NUL is itself malformed.
status status_error(const reply_status &st);

// Every reply starts with reply_status. When the payload holds at least that much and it reports
// an error, this returns the error (whatever the reply type); otherwise ok.
status reply_failure(const header &h, std::span<const std::byte> payload);

// Decodes a fixed-size reply of type T after check_reply_header: an error_reply or a failed status
// becomes the error it carries; otherwise the size must be exactly sizeof(T).
template <class T>
result<T> decode_reply(const header &h, std::span<const std::byte> payload)
{
    if (auto f = reply_failure(h, payload); !f)
        return f.err();
    if (static_cast<msg_type>(h.type) == msg_type::error_reply)
        return error::from(errc::bad_message, "error reply without an error code");
    if (payload.size() != sizeof(T))
        return error::from(errc::bad_message, "reply of " + std::to_string(payload.size()) +
                                                  " bytes, expected " + std::to_string(sizeof(T)));
    T v;
    std::memcpy(&v, payload.data(), sizeof(T));
    return v;
}

// REGIF (and REG_QUERY, REATTACH) reply: the size the header's version says (184 bytes before
// version 3, 200 before version 5, 216 from 5); the fields an older daemon did not send are zero.
result<regif_reply> decode_regif_reply(const header &h, std::span<const std::byte> payload);

// STATS reply: stats_reply then the counted records; sizes must add up exactly, every name must
// be NUL-terminated and every ring must name an existing registration.
result<daemon_stats> decode_stats_reply(const header &h, std::span<const std::byte> payload);

// PORT_INFO reply into the API struct.
result<port_details> decode_port_info_reply(const header &h, std::span<const std::byte> payload);

// SWITCH_CTL reply: switch_ctl_reply then n_switches switch_record and n_ports switch_port_record;
// sizes must add up exactly, names and kinds must be NUL-terminated, every port must name an
// existing switch and each switch's n_ports must match the ports that name it. Ports come out
// under their switch, in reply order. Non-list operations answer with no records: an empty vector.
result<std::vector<switches::switch_entry>> decode_switch_ctl_reply(const header &h, std::span<const std::byte> payload);

} // namespace netring::proto
