// Protocol codec: header checks (magic, version, length, unknown type and which of those close the
// stream), exact payload sizes per request, NUL-terminated strings and the session table.
#include <netring/protocol.hpp>

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

namespace proto = netring::proto;
using netring::errc;
using netring::make_error_code;

namespace {

template <class T>
std::vector<std::byte> bytes_of(const T &v)
{
    std::vector<std::byte> out(sizeof v);
    std::memcpy(out.data(), &v, sizeof v);
    return out;
}

proto::header request_header(proto::msg_type t, size_t len, uint32_t seq = 7)
{
    return proto::make_header(t, static_cast<uint32_t>(len), seq);
}

TEST(ProtocolHeader, AcceptsEveryRequestType)
{
    for (auto t : {proto::msg_type::hello, proto::msg_type::regif, proto::msg_type::unregif, proto::msg_type::txsync,
                   proto::msg_type::rxsync, proto::msg_type::port_info, proto::msg_type::stats})
        EXPECT_TRUE(proto::check_request_header(request_header(t, 8)).ok()) << static_cast<int>(t);
}

TEST(ProtocolHeader, BadMagicClosesStream)
{
    auto h = request_header(proto::msg_type::hello, sizeof(proto::hello));
    h.magic ^= 1;
    auto s = proto::check_request_header(h);
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.err().code, make_error_code(errc::bad_message));
}

TEST(ProtocolHeader, VersionOutsideRange)
{
    auto h = request_header(proto::msg_type::hello, sizeof(proto::hello));
    h.version = proto::version + 1;
    EXPECT_EQ(proto::check_request_header(h).err().code, make_error_code(errc::unsupported_version));
    h.version = proto::min_version - 1;
    EXPECT_EQ(proto::check_request_header(h).err().code, make_error_code(errc::unsupported_version));
}

TEST(ProtocolHeader, OversizedLength)
{
    auto h = request_header(proto::msg_type::regif, proto::max_request_payload);
    EXPECT_TRUE(proto::check_request_header(h).ok());
    h.length = proto::max_request_payload + 1;
    EXPECT_EQ(proto::check_request_header(h).err().code, make_error_code(errc::bad_message));
    h.length = 0xffffffffu;
    EXPECT_EQ(proto::check_request_header(h).err().code, make_error_code(errc::bad_message));
}

TEST(ProtocolHeader, UnknownTypeIsRecoverable)
{
    // unknown_message is the one header error after which the stream is still in step.
    for (uint16_t t : {0, 2, 9, 14, 16, 18, 20, 999, 0xffff}) {
        auto h = request_header(static_cast<proto::msg_type>(t), 16);
        auto s = proto::check_request_header(h);
        ASSERT_FALSE(s.ok()) << t;
        EXPECT_EQ(s.err().code, make_error_code(errc::unknown_message)) << t;
    }
    // ...but an oversized unknown message is a stream error first.
    auto h = request_header(static_cast<proto::msg_type>(999), proto::max_request_payload + 1);
    EXPECT_EQ(proto::check_request_header(h).err().code, make_error_code(errc::bad_message));
}

proto::hello good_hello()
{
    proto::hello h{};
    h.min_version = 1;
    h.max_version = 1;
    proto::set_text(h.client_name, sizeof h.client_name, "test");
    return h;
}

proto::regif good_regif()
{
    proto::regif r{};
    proto::set_text(r.port_name, sizeof r.port_name, "netmap:pipeA{1");
    r.tx_slots = 256;
    return r;
}

template <class T>
void expect_exact_size(proto::msg_type t, const T &msg)
{
    auto payload = bytes_of(msg);
    auto ok = proto::decode_request(request_header(t, payload.size()), payload);
    ASSERT_TRUE(ok.ok()) << ok.err().message;
    EXPECT_EQ(ok->type, t);
    EXPECT_EQ(ok->seq, 7u);
    EXPECT_TRUE(std::holds_alternative<T>(ok->body));

    for (size_t len : {size_t{0}, sizeof(T) - 1, sizeof(T) + 1}) {
        std::vector<std::byte> p(len);
        if (len)
            std::memcpy(p.data(), payload.data(), std::min(len, payload.size()));
        auto bad = proto::decode_request(request_header(t, len), p);
        ASSERT_FALSE(bad.ok()) << static_cast<int>(t) << " len " << len;
        EXPECT_EQ(bad.err().code, make_error_code(errc::bad_message));
    }
}

TEST(ProtocolDecode, ExactSizePerType)
{
    expect_exact_size(proto::msg_type::hello, good_hello());
    expect_exact_size(proto::msg_type::regif, good_regif());
    expect_exact_size(proto::msg_type::unregif, proto::unregif{3, 0});
    expect_exact_size(proto::msg_type::txsync, proto::sync_request{3, 1});
    expect_exact_size(proto::msg_type::rxsync, proto::sync_request{3, proto::all_rings});
    proto::port_info pi{};
    proto::set_text(pi.port_name, sizeof pi.port_name, "netmap:eth0");
    expect_exact_size(proto::msg_type::port_info, pi);
    expect_exact_size(proto::msg_type::stats, proto::stats{});
}

TEST(ProtocolDecode, FieldsSurvive)
{
    auto r = good_regif();
    r.flags = proto::regif_exclusive;
    r.extra_bufs = 12;
    auto payload = bytes_of(r);
    auto d = proto::decode_request(request_header(proto::msg_type::regif, payload.size()), payload);
    ASSERT_TRUE(d.ok());
    const auto &got = std::get<proto::regif>(d->body);
    EXPECT_STREQ(got.port_name, "netmap:pipeA{1");
    EXPECT_EQ(got.flags, proto::regif_exclusive);
    EXPECT_EQ(got.extra_bufs, 12u);
    EXPECT_EQ(got.tx_slots, 256u);
}

TEST(ProtocolDecode, MissingNul)
{
    auto h = good_hello();
    std::memset(h.client_name, 'a', sizeof h.client_name);
    auto p1 = bytes_of(h);
    EXPECT_EQ(proto::decode_request(request_header(proto::msg_type::hello, p1.size()), p1).err().code,
              make_error_code(errc::bad_message));

    auto r = good_regif();
    std::memset(r.port_name, 'n', sizeof r.port_name);
    auto p2 = bytes_of(r);
    auto d = proto::decode_request(request_header(proto::msg_type::regif, p2.size()), p2);
    ASSERT_FALSE(d.ok());
    EXPECT_NE(d.err().message.find("port_name"), std::string::npos);

    proto::port_info pi;
    std::memset(pi.port_name, 'z', sizeof pi.port_name);
    auto p3 = bytes_of(pi);
    EXPECT_FALSE(proto::decode_request(request_header(proto::msg_type::port_info, p3.size()), p3).ok());
}

TEST(ProtocolDecode, HelloVersionOrder)
{
    auto h = good_hello();
    h.min_version = 3;
    h.max_version = 2;
    auto p = bytes_of(h);
    EXPECT_EQ(proto::decode_request(request_header(proto::msg_type::hello, p.size()), p).err().code,
              make_error_code(errc::bad_message));
}

TEST(ProtocolDecode, LengthMustMatchPayload)
{
    auto p = bytes_of(proto::unregif{1, 0});
    EXPECT_FALSE(proto::decode_request(request_header(proto::msg_type::unregif, p.size() + 4), p).ok());
}

TEST(ProtocolText, SetTextTruncatesAndTerminates)
{
    char buf[8];
    std::memset(buf, 'x', sizeof buf);
    proto::set_text(buf, sizeof buf, "0123456789");
    EXPECT_STREQ(buf, "0123456");
    proto::set_text(buf, sizeof buf, "ab");
    EXPECT_STREQ(buf, "ab");
    EXPECT_EQ(buf[7], '\0'); // no stale bytes behind the string
    EXPECT_FALSE(proto::fixed_string("abcd", 4).has_value());
    EXPECT_EQ(proto::fixed_string("ab\0d", 4).value(), "ab");
}

TEST(ProtocolText, SetStatusMapsForeignCodes)
{
    proto::reply_status st;
    proto::set_status(st, netring::error::from(errc::port_busy, "held with /x"));
    EXPECT_EQ(st.error, static_cast<int32_t>(errc::port_busy));
    EXPECT_STREQ(st.message, "held with /x");
    proto::set_status(st, netring::error::from_errno(ENOMEM, "mmap"));
    EXPECT_EQ(st.error, static_cast<int32_t>(errc::internal));
    proto::set_ok(st);
    EXPECT_EQ(st.error, 0);
    EXPECT_STREQ(st.message, "");
}

TEST(ProtocolSession, TransitionTable)
{
    using S = proto::session_state;
    using T = proto::msg_type;
    auto tr = proto::session_transition(S::awaiting_hello, T::hello);
    EXPECT_EQ(tr.next, S::ready);
    EXPECT_EQ(tr.refusal, errc::ok);
    for (auto t : {T::regif, T::unregif, T::txsync, T::rxsync, T::port_info, T::stats}) {
        tr = proto::session_transition(S::awaiting_hello, t);
        EXPECT_EQ(tr.next, S::awaiting_hello);
        EXPECT_EQ(tr.refusal, errc::hello_required);
        tr = proto::session_transition(S::ready, t);
        EXPECT_EQ(tr.next, S::ready);
        EXPECT_EQ(tr.refusal, errc::ok);
        tr = proto::session_transition(S::closed, t);
        EXPECT_EQ(tr.next, S::closed);
        EXPECT_NE(tr.refusal, errc::ok);
    }
    tr = proto::session_transition(S::ready, T::hello);
    EXPECT_EQ(tr.next, S::ready);
    EXPECT_EQ(tr.refusal, errc::hello_required);
    tr = proto::session_transition(S::closed, T::hello);
    EXPECT_EQ(tr.next, S::closed);
    EXPECT_NE(tr.refusal, errc::ok);
    tr = proto::session_transition(S::ready, T::sync_reply); // a reply type sent as a request
    EXPECT_EQ(tr.next, S::ready);
    EXPECT_EQ(tr.refusal, errc::unknown_message);
}

} // namespace
