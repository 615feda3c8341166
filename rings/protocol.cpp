// The control-protocol codec: header checks, request decoding, reply helpers and the session table.
// Shared by netringd (which decodes requests) and libnetring (which builds them).
#include <netring/protocol.hpp>

#include <algorithm>
#include <cstdio>
#include <string>

namespace netring::proto {
namespace {

bool is_request(msg_type t)
{
    switch (t) {
    case msg_type::hello:
    case msg_type::regif:
    case msg_type::unregif:
    case msg_type::txsync:
    case msg_type::rxsync:
    case msg_type::port_info:
    case msg_type::stats:
    case msg_type::nic_ctl:
    case msg_type::switch_ctl:
    case msg_type::reg_query:
    case msg_type::reattach:
    case msg_type::restart:
        return true;
    default:
        return false;
    }
}

const char *request_name(msg_type t)
{
    switch (t) {
    case msg_type::hello: return "HELLO";
    case msg_type::regif: return "REGIF";
    case msg_type::unregif: return "UNREGIF";
    case msg_type::txsync: return "TXSYNC";
    case msg_type::rxsync: return "RXSYNC";
    case msg_type::port_info: return "PORT_INFO";
    case msg_type::stats: return "STATS";
    case msg_type::nic_ctl: return "NIC_CTL";
    case msg_type::switch_ctl: return "SWITCH_CTL";
    case msg_type::reg_query: return "REG_QUERY";
    case msg_type::reattach: return "REATTACH";
    case msg_type::restart: return "RESTART";
    default: return "message";
    }
}

// Copies the payload into a properly aligned struct after the size check: the payload buffer has
// no alignment guarantee, and a copy also means later checks see the bytes the decoder saw.
template <class T>
result<T> take_exact(msg_type t, std::span<const std::byte> payload)
{
    if (payload.size() != sizeof(T))
        return error::from(errc::bad_message, std::string(request_name(t)) + " payload is " +
                                                  std::to_string(payload.size()) + " bytes, expected " +
                                                  std::to_string(sizeof(T)));
    T v;
    std::memcpy(&v, payload.data(), sizeof(T));
    return v;
}

std::string hex(uint32_t v)
{
    char buf[16];
    std::snprintf(buf, sizeof buf, "%x", v);
    return buf;
}

status need_string(msg_type t, const char *field, const char *src, size_t cap)
{
    if (!fixed_string(src, cap))
        return error::from(errc::bad_message,
                           std::string(request_name(t)) + " field " + field + " is not NUL-terminated");
    return ok_status();
}

} // namespace

// Errors split in two classes, and the daemon must tell them apart:
//  - errc::unknown_message: the header itself is sound (magic, version, bounded length) but the type
//    is not a request. The stream is still in step, so the daemon replies error_reply, reads and
//    discards `length` payload bytes, and carries on.
//  - anything else (bad_message, unsupported_version): the header cannot be trusted, so neither
//    can the length that would tell where the next message starts; the connection must close.
status check_request_header(const header &h)
{
    if (h.magic != magic)
        return error::from(errc::bad_message, "bad message magic");
    if (h.version < min_version || h.version > version)
        return error::from(errc::unsupported_version,
                           "protocol version " + std::to_string(h.version) + " not in [" +
                               std::to_string(min_version) + ", " + std::to_string(version) + "]");
    if (h.length > max_request_payload)
        return error::from(errc::bad_message, "request payload of " + std::to_string(h.length) +
                                                  " bytes exceeds " + std::to_string(max_request_payload));
    if (!is_request(static_cast<msg_type>(h.type)))
        return error::from(errc::unknown_message, "unknown request type " + std::to_string(h.type));
    return ok_status();
}

result<decoded_request> decode_request(const header &h, std::span<const std::byte> payload)
{
    const auto t = static_cast<msg_type>(h.type);
    if (payload.size() != h.length)
        return error::from(errc::bad_message, "payload size does not match the header");
    auto done = [&](request body) -> result<decoded_request> { return decoded_request{t, h.seq, body}; };

    switch (t) {
    case msg_type::hello: {
        auto m = take_exact<hello>(t, payload);
        if (!m)
            return m.err();
        if (auto s = need_string(t, "client_name", m->client_name, sizeof m->client_name); !s)
            return s.err();
        if (m->min_version > m->max_version)
            return error::from(errc::bad_message, "HELLO min_version " + std::to_string(m->min_version) +
                                                      " above max_version " + std::to_string(m->max_version));
        return done(*m);
    }
    case msg_type::regif: {
        auto m = take_exact<regif>(t, payload);
        if (!m)
            return m.err();
        if (auto s = need_string(t, "port_name", m->port_name, sizeof m->port_name); !s)
            return s.err();
        if (m->flags & ~regif_known_flags)
            return error::from(errc::bad_message, "REGIF: unknown flags 0x" + hex(m->flags & ~regif_known_flags));
        return done(*m);
    }
    case msg_type::unregif: {
        auto m = take_exact<unregif>(t, payload);
        if (!m)
            return m.err();
        return done(*m);
    }
    case msg_type::txsync:
    case msg_type::rxsync: {
        auto m = take_exact<sync_request>(t, payload);
        if (!m)
            return m.err();
        return done(*m);
    }
    case msg_type::port_info: {
        auto m = take_exact<port_info>(t, payload);
        if (!m)
            return m.err();
        if (auto s = need_string(t, "port_name", m->port_name, sizeof m->port_name); !s)
            return s.err();
        return done(*m);
    }
    case msg_type::stats: {
        auto m = take_exact<stats>(t, payload);
        if (!m)
            return m.err();
        return done(*m);
    }
    case msg_type::nic_ctl: {
        auto m = take_exact<nic_ctl>(t, payload);
        if (!m)
            return m.err();
        if (auto s = need_string(t, "port_name", m->port_name, sizeof m->port_name); !s)
            return s.err();
        if (m->op != static_cast<uint32_t>(nic_op::promisc) || m->value > 1)
            return error::from(errc::bad_message, "NIC_CTL: unknown operation " + std::to_string(m->op) + " value " +
                                                      std::to_string(m->value));
        return done(*m);
    }
    case msg_type::switch_ctl: {
        auto m = take_exact<switch_ctl>(t, payload);
        if (!m)
            return m.err();
        if (auto s = need_string(t, "switch_name", m->switch_name, sizeof m->switch_name); !s)
            return s.err();
        if (auto s = need_string(t, "arg", m->arg, sizeof m->arg); !s)
            return s.err();
        if (m->op < static_cast<uint32_t>(switch_op::create) || m->op > static_cast<uint32_t>(switch_op::may_administer))
            return error::from(errc::bad_message, "SWITCH_CTL: unknown operation " + std::to_string(m->op));
        return done(*m);
    }
    case msg_type::reg_query: {
        auto m = take_exact<reg_query>(t, payload);
        if (!m)
            return m.err();
        return done(*m);
    }
    case msg_type::reattach: {
        auto m = take_exact<reattach>(t, payload);
        if (!m)
            return m.err();
        if (m->reg_id == 0)
            return error::from(errc::bad_message, "REATTACH: registration 0 does not exist");
        return done(*m);
    }
    case msg_type::restart: {
        auto m = take_exact<restart>(t, payload);
        if (!m)
            return m.err();
        if (m->flags != 0)
            return error::from(errc::bad_message, "RESTART: unknown flags " + std::to_string(m->flags));
        return done(*m);
    }
    default:
        return error::from(errc::unknown_message, "unknown request type " + std::to_string(h.type));
    }
}

header make_header(msg_type type, uint32_t length, uint32_t seq)
{
    return header{magic, version, static_cast<uint16_t>(type), length, seq};
}

void set_text(char *dst, size_t cap, std::string_view text)
{
    if (cap == 0)
        return;
    const size_t n = std::min(text.size(), cap - 1);
    if (n != 0)
        std::memcpy(dst, text.data(), n); // an empty view may carry a null pointer
    std::memset(dst + n, 0, cap - n); // no stale bytes travel to the peer
}

void set_status(reply_status &st, const error &e)
{
    // Only netring codes cross the socket; an OS error becomes "internal" with its text kept.
    st.error = e.code.category() == error_category() ? e.code.value() : static_cast<int32_t>(errc::internal);
    if (st.error == 0)
        st.error = static_cast<int32_t>(errc::internal);
    set_text(st.message, sizeof st.message, e.message.empty() ? e.code.message() : e.message);
}

void set_ok(reply_status &st)
{
    st.error = 0;
    set_text(st.message, sizeof st.message, "");
}

std::optional<std::string_view> fixed_string(const char *src, size_t cap)
{
    const void *nul = std::memchr(src, 0, cap);
    if (!nul)
        return std::nullopt;
    return std::string_view(src, static_cast<size_t>(static_cast<const char *>(nul) - src));
}

// The table of protocol.hpp, forbidden transitions included. Only requests appear here: a reply
// type sent to the daemon is refused as unknown and changes nothing.
transition session_transition(session_state s, msg_type t)
{
    if (s == session_state::closed)
        return {session_state::closed, errc::bad_message}; // a closing session answers nothing
    if (!is_request(t))
        return {s, errc::unknown_message};
    if (s == session_state::awaiting_hello)
        return t == msg_type::hello ? transition{session_state::ready, errc::ok}
                                    : transition{session_state::awaiting_hello, errc::hello_required};
    // ready
    if (t == msg_type::hello)
        return {session_state::ready, errc::hello_required}; // HELLO twice
    return {session_state::ready, errc::ok};
}

} // namespace netring::proto
