// netring's error codes: one enum for the whole project, with a std::error_category so codes travel
// as std::error_code, print with a message, and cross the control socket as int32 values.
// "Would block" is not an error: data-path calls return counts, and 0 means "nothing now".
// errno values from the OS pass through as std::system_category codes.
#pragma once

#include <cstdint>
#include <string>
#include <system_error>
#include <utility>
#include <variant>

namespace netring {

enum class errc : int32_t {
    ok = 0,
    bad_message = 1,          // malformed control message (size, magic, string not terminated)
    unsupported_version = 2,  // no protocol version in common
    unknown_message = 3,      // message type the daemon does not know
    hello_required = 4,       // a request before HELLO, or HELLO twice
    bad_port_name = 5,        // port name does not parse
    access_denied = 6,        // the policy refuses this uid/gid for this port, or the socket file does
    port_busy = 7,            // exclusive open refused, or the port is being torn down
    limit_exceeded = 8,       // rings/slots/buffers over a configured limit
    out_of_buffers = 9,       // the region's pool cannot satisfy the request
    not_registered = 10,      // unknown registration id
    bad_ring = 11,            // ring index out of range for the registration
    ring_reset = 12,          // client-written indices or slots were invalid; the ring was reset
    peer_gone = 13,           // the other end of the pipe (or the port) went away
    daemon_gone = 14,         // the control connection was lost
    not_supported = 15,       // the port kind does not support this operation
    internal = 16,            // daemon-side failure (out of memory, syscall failure)
    timed_out = 17,
    already_exists = 18,      // creating a switch or port that exists, attaching something twice
    not_found = 19,           // the switch, port or attachment named does not exist
};

const std::error_category &error_category() noexcept;

inline std::error_code make_error_code(errc e) noexcept
{
    return {static_cast<int>(e), error_category()};
}

// An error with the sentence that explains it to a user ("ring 0: head 9000 outside [12, 40]").
struct error {
    std::error_code code;
    std::string message;

    static error from(errc e, std::string msg) { return {make_error_code(e), std::move(msg)}; }
    static error from_errno(int err, std::string what);
    std::string describe() const; // "message (code text)"
};

// Minimal expected<T, error> (std::expected is C++23). Used at boundaries, never per packet.
template <class T>
class result {
public:
    result(T value) : v_(std::move(value)) {}
    result(error e) : v_(std::move(e)) {}

    bool ok() const noexcept { return v_.index() == 0; }
    explicit operator bool() const noexcept { return ok(); }
    T &value() & { return std::get<0>(v_); }
    T &&value() && { return std::get<0>(std::move(v_)); }
    const T &value() const & { return std::get<0>(v_); }
    T *operator->() { return &std::get<0>(v_); }
    T &operator*() & { return std::get<0>(v_); }
    const error &err() const { return std::get<1>(v_); }

private:
    std::variant<T, error> v_;
};

struct ok_t {};
using status = result<ok_t>;
inline status ok_status() { return ok_t{}; }

} // namespace netring

template <>
struct std::is_error_code_enum<netring::errc> : std::true_type {};
