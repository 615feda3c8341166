// Bytes as netringd reads them: a 16-byte header, then the payload. Every input must be either
// refused or decoded into a request whose strings are terminated inside their arrays.
#include <netring/protocol.hpp>

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
    // Half the inputs get a sound header so the payload decoder is reached often.
    if (h.magic & 1) {
        h.magic = proto::magic;
        h.version = proto::version;
        h.length = static_cast<uint32_t>(payload.size());
    }
    auto hs = proto::check_request_header(h);
    if (!hs) {
        if (hs.err().message.empty())
            std::abort();
        return 0;
    }
    if (payload.size() != h.length)
        return 0;
    auto d = proto::decode_request(h, payload);
    if (!d)
        return 0;
    if (d->seq != h.seq || static_cast<uint16_t>(d->type) != h.type)
        std::abort();
    if (auto *r = std::get_if<proto::regif>(&d->body); r && !std::memchr(r->port_name, 0, sizeof r->port_name))
        std::abort();
    if (auto *r = std::get_if<proto::hello>(&d->body); r && r->min_version > r->max_version)
        std::abort();
    auto t = proto::session_transition(proto::session_state::awaiting_hello, d->type);
    (void)t;
    return 0;
}
