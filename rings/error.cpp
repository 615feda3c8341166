#include <netring/error.hpp>

#include <cstring>

namespace netring {
namespace {

class category final : public std::error_category {
public:
    const char *name() const noexcept override { return "netring"; }
    std::string message(int code) const override
    {
        switch (static_cast<errc>(code)) {
        case errc::ok: return "success";
        case errc::bad_message: return "malformed control message";
        case errc::unsupported_version: return "unsupported protocol version";
        case errc::unknown_message: return "unknown message type";
        case errc::hello_required: return "HELLO must come first, once";
        case errc::bad_port_name: return "bad port name";
        case errc::access_denied: return "access denied";
        case errc::port_busy: return "port busy";
        case errc::limit_exceeded: return "configured limit exceeded";
        case errc::out_of_buffers: return "not enough free buffers";
        case errc::not_registered: return "no such registration";
        case errc::bad_ring: return "no such ring";
        case errc::ring_reset: return "invalid ring state; ring reset";
        case errc::peer_gone: return "the other end went away";
        case errc::daemon_gone: return "connection to netringd lost";
        case errc::not_supported: return "not supported by this port";
        case errc::internal: return "internal daemon error";
        case errc::timed_out: return "timed out";
        case errc::already_exists: return "already exists";
        case errc::not_found: return "not found";
        }
        return "unknown netring error " + std::to_string(code);
    }
};

} // namespace

const std::error_category &error_category() noexcept
{
    static const category instance;
    return instance;
}

error error::from_errno(int err, std::string what)
{
    return {std::error_code(err, std::system_category()), what + ": " + std::strerror(err)};
}

std::string error::describe() const
{
    if (message.empty())
        return code.message();
    return message + " (" + code.message() + ")";
}

} // namespace netring
