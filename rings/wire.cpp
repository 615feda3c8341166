#include "wire.hpp"

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace netring {
namespace {

// Enough control space for the largest fd set a message may carry.
constexpr size_t cmsg_space = fd_control_space;

error connection_lost(int err, const char *what)
{
    return error{make_error_code(errc::daemon_gone), std::string(what) + ": " + std::strerror(err)};
}

bool is_lost(int err) { return err == EPIPE || err == ECONNRESET || err == ENOTCONN; }

// Blocks until `fd` is ready for `events`; false on timeout or poll failure (errno set).
bool wait_ready(int fd, short events, int timeout_ms)
{
    pollfd p{fd, events, 0};
    for (;;) {
        const int n = ::poll(&p, 1, timeout_ms);
        if (n > 0)
            return true;
        if (n == 0) {
            errno = ETIMEDOUT;
            return false;
        }
        if (errno != EINTR)
            return false;
    }
}

// Reads exactly `len` bytes, collecting fds along the way; EOF before the first byte and EOF in
// the middle are both a lost connection.
status recv_exact(int fd, std::byte *buf, size_t len, std::vector<unique_fd> &fds, bool message_start)
{
    size_t got = 0;
    while (got < len) {
        const ssize_t n = recv_with_fds(fd, buf + got, len - got, fds);
        if (n > 0) {
            got += static_cast<size_t>(n);
            continue;
        }
        if (n == 0)
            return error::from(errc::daemon_gone, got == 0 && message_start ? "connection closed"
                                                                            : "connection closed mid-message");
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            if (!wait_ready(fd, POLLIN, -1))
                return error::from_errno(errno, "poll on the control socket");
            continue;
        }
        if (errno == EPROTO)
            return error::from(errc::bad_message, "more file descriptors than a message may carry");
        if (is_lost(errno))
            return connection_lost(errno, "recvmsg");
        return error::from_errno(errno, "recvmsg");
    }
    return ok_status();
}

} // namespace

void attach_fds(msghdr &msg, char *control, std::span<const int> fds)
{
    if (fds.empty())
        return;
    const size_t bytes = fds.size() * sizeof(int);
    std::memset(control, 0, CMSG_SPACE(bytes));
    msg.msg_control = control;
    msg.msg_controllen = CMSG_SPACE(bytes);
    cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(bytes);
    std::memcpy(CMSG_DATA(c), fds.data(), bytes);
}

status send_message(int fd, proto::msg_type t, uint32_t seq, std::span<const std::byte> payload,
                    std::span<const int> fds)
{
    if (payload.size() > proto::max_reply_payload)
        return error::from(errc::bad_message, "message payload too large to send");
    if (fds.size() > proto::max_fds)
        return error::from(errc::limit_exceeded, "too many file descriptors for one message");
    const proto::header h = proto::make_header(t, static_cast<uint32_t>(payload.size()), seq);

    iovec iov[2];
    iov[0] = {const_cast<proto::header *>(&h), sizeof h};
    iov[1] = {const_cast<std::byte *>(payload.data()), payload.size()};
    size_t iov_first = 0;
    const size_t iov_count = payload.empty() ? 1 : 2;

    alignas(cmsghdr) char control[cmsg_space];
    bool fds_pending = !fds.empty();
    while (iov_first < iov_count) {
        msghdr msg{};
        msg.msg_iov = iov + iov_first;
        msg.msg_iovlen = iov_count - iov_first;
        if (fds_pending) // SCM_RIGHTS go with the first byte sent; once any byte is out, they are delivered
            attach_fds(msg, control, fds);
        const ssize_t n = ::sendmsg(fd, &msg, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                if (!wait_ready(fd, POLLOUT, send_stall_timeout_ms))
                    return errno == ETIMEDOUT ? error::from(errc::timed_out, "peer does not read its socket")
                                              : error::from_errno(errno, "poll on the control socket");
                continue;
            }
            if (is_lost(errno))
                return connection_lost(errno, "sendmsg");
            return error::from_errno(errno, "sendmsg");
        }
        fds_pending = false;
        // Advance over what was written: whole iovecs first, then into the partial one.
        size_t left = static_cast<size_t>(n);
        while (iov_first < iov_count && left >= iov[iov_first].iov_len) {
            left -= iov[iov_first].iov_len;
            iov_first++;
        }
        if (iov_first < iov_count) {
            iov[iov_first].iov_base = static_cast<char *>(iov[iov_first].iov_base) + left;
            iov[iov_first].iov_len -= left;
        }
    }
    return ok_status();
}

ssize_t recv_with_fds(int fd, void *buf, size_t len, std::vector<unique_fd> &fds)
{
    alignas(cmsghdr) char control[cmsg_space];
    iovec iov{buf, len};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t n;
    do {
        n = ::recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
    } while (n < 0 && errno == EINTR);
    if (n < 0)
        return -1;
    const size_t before = fds.size();
    // Take ownership of everything that arrived before judging anything, so no path leaks an fd.
    for (cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
            continue;
        const size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < count; i++) {
            int received;
            std::memcpy(&received, CMSG_DATA(c) + i * sizeof(int), sizeof received);
            fds.emplace_back(received);
        }
    }
    if (msg.msg_flags & MSG_CTRUNC) {
        fds.erase(fds.begin() + static_cast<std::ptrdiff_t>(before), fds.end()); // closes them
        errno = EPROTO;
        return -1;
    }
    return n;
}

result<received_message> recv_message(int fd, size_t max_payload)
{
    received_message m;
    if (auto s = recv_exact(fd, reinterpret_cast<std::byte *>(&m.hdr), sizeof m.hdr, m.fds, true); !s)
        return s.err();
    if (m.hdr.magic != proto::magic)
        return error::from(errc::bad_message, "message with a bad magic");
    if (m.hdr.length > max_payload)
        return error::from(errc::bad_message, "message payload of " + std::to_string(m.hdr.length) +
                                                  " bytes exceeds " + std::to_string(max_payload));
    m.payload.resize(m.hdr.length);
    if (m.hdr.length) {
        if (auto s = recv_exact(fd, m.payload.data(), m.payload.size(), m.fds, false); !s)
            return s.err();
    }
    return m;
}

result<proto::header> recv_small_message(int fd, std::span<std::byte> buf)
{
    std::vector<unique_fd> stray; // stays empty (no allocation) unless a peer sends fds here
    proto::header h;
    if (auto s = recv_exact(fd, reinterpret_cast<std::byte *>(&h), sizeof h, stray, true); !s)
        return s.err();
    if (h.magic != proto::magic)
        return error::from(errc::bad_message, "message with a bad magic");
    if (h.length > buf.size())
        return error::from(errc::bad_message, "message payload of " + std::to_string(h.length) +
                                                  " bytes exceeds " + std::to_string(buf.size()));
    if (h.length) {
        if (auto s = recv_exact(fd, buf.data(), h.length, stray, false); !s)
            return s.err();
    }
    return h;
}

} // namespace netring
