// The one send/receive helper for control messages, used by libnetring and netringd alike.
//
//   send_message(fd, type, seq, payload, fds)  header + payload in one sendmsg (looping on partial
//                                              writes); fds ride as SCM_RIGHTS on the first one.
//   recv_message(fd, max_payload)              blocking: one whole message, with any fds that came
//                                              with it owned by unique_fd.
//   recv_with_fds(fd, buf, len, fds)           one recvmsg for event loops: bytes or -1/errno, and
//                                              every fd that arrived, so none can leak.
//   attach_fds(msg, control, fds)              the SCM_RIGHTS part, for a sender with its own loop
//                                              (netringd's non-blocking replies).
// Lost connections (EOF, EPIPE, ECONNRESET) are errc::daemon_gone: the peer is gone either way.
// Received fds always carry O_CLOEXEC (MSG_CMSG_CLOEXEC).
#pragma once

#include <netring/error.hpp>
#include <netring/protocol.hpp>
#include <netring/unique_fd.hpp>

#include <sys/socket.h>
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace netring {

// Room for the largest SCM_RIGHTS a message may carry (proto::max_fds descriptors).
inline constexpr size_t fd_control_space = CMSG_SPACE(proto::max_fds * sizeof(int));

// Points `msg` at `control` (fd_control_space bytes, cmsghdr-aligned) holding `fds` as SCM_RIGHTS;
// leaves msg without control data when fds is empty. fds.size() <= proto::max_fds.
void attach_fds(msghdr &msg, char *control, std::span<const int> fds);

struct received_message {
    proto::header hdr{};
    std::vector<std::byte> payload;
    std::vector<unique_fd> fds;
};

// How long send_message waits for buffer space on a non-blocking socket before giving up: a peer
// that stops reading must not stall the sender forever.
inline constexpr int send_stall_timeout_ms = 5000;

status send_message(int fd, proto::msg_type t, uint32_t seq, std::span<const std::byte> payload,
                    std::span<const int> fds = {});

// Sends a fixed-size message struct.
template <class T>
status send_struct(int fd, proto::msg_type t, uint32_t seq, const T &msg, std::span<const int> fds = {})
{
    return send_message(fd, t, seq, std::as_bytes(std::span<const T, 1>(&msg, 1)), fds);
}

// Reads one message. Checks the magic and that length <= max_payload (other header checks are the
// caller's: check_request_header or check_reply_header). On any error every received fd is closed
// and the stream is no longer in step. Waits in poll() if the socket is non-blocking.
result<received_message> recv_message(int fd, size_t max_payload);

// Reads one message of at most buf.size() payload bytes into `buf`, without allocating (for
// request/reply round trips on the data path). The payload is the first hdr.length bytes of `buf`.
// Any fd that arrives is unexpected and closed. Same header checks as recv_message.
result<proto::header> recv_small_message(int fd, std::span<std::byte> buf);

// One recvmsg of up to `len` bytes (EINTR retried). Returns the byte count (0 at EOF) or -1 with
// errno set. fds that arrive are appended to `fds`. If the sender's fds did not fit (MSG_CTRUNC),
// returns -1 with errno = EPROTO after closing them: the bytes of that read are lost with them, so
// the caller must close the connection.
ssize_t recv_with_fds(int fd, void *buf, size_t len, std::vector<unique_fd> &fds);

} // namespace netring
