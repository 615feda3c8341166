// Socket helper: messages and fds round trip over a socketpair; truncated streams, EOF and too
// many fds are errors; no error path leaks a descriptor (counted in /proc/self/fd).
#include "rings/wire.hpp"

#include <gtest/gtest.h>

#include <dirent.h>
#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <thread>
#include <vector>

namespace proto = netring::proto;
using netring::errc;
using netring::make_error_code;
using netring::unique_fd;

namespace {

int open_fd_count()
{
    int n = 0;
    DIR *d = ::opendir("/proc/self/fd");
    if (!d)
        return -1;
    while (const dirent *e = ::readdir(d))
        if (e->d_name[0] != '.')
            n++;
    ::closedir(d);
    return n - 1; // the directory's own fd
}

struct socket_pair {
    unique_fd a, b;
    socket_pair()
    {
        int sv[2];
        EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
        a.reset(sv[0]);
        b.reset(sv[1]);
    }
};

std::vector<std::byte> pattern(size_t n)
{
    std::vector<std::byte> v(n);
    for (size_t i = 0; i < n; i++)
        v[i] = static_cast<std::byte>(i * 7 + 3);
    return v;
}

TEST(Wire, MessageRoundTrip)
{
    socket_pair sp;
    auto payload = pattern(100);
    ASSERT_TRUE(netring::send_message(sp.a.get(), proto::msg_type::regif, 42, payload).ok());
    auto m = netring::recv_message(sp.b.get(), 1000);
    ASSERT_TRUE(m.ok()) << m.err().message;
    EXPECT_EQ(m->hdr.magic, proto::magic);
    EXPECT_EQ(m->hdr.type, static_cast<uint16_t>(proto::msg_type::regif));
    EXPECT_EQ(m->hdr.seq, 42u);
    EXPECT_EQ(m->hdr.length, 100u);
    EXPECT_EQ(m->payload, payload);
    EXPECT_TRUE(m->fds.empty());
}

TEST(Wire, EmptyPayload)
{
    socket_pair sp;
    ASSERT_TRUE(netring::send_message(sp.a.get(), proto::msg_type::stats, 1, {}).ok());
    auto m = netring::recv_message(sp.b.get(), 1000);
    ASSERT_TRUE(m.ok());
    EXPECT_EQ(m->hdr.length, 0u);
    EXPECT_TRUE(m->payload.empty());
}

TEST(Wire, ThreeFdsTravelAndWork)
{
    socket_pair sp;
    unique_fd e1(::eventfd(0, EFD_CLOEXEC)), e2(::eventfd(0, EFD_CLOEXEC)), e3(::eventfd(0, EFD_CLOEXEC));
    const int fds[3] = {e1.get(), e2.get(), e3.get()};
    auto payload = pattern(184);
    ASSERT_TRUE(netring::send_message(sp.a.get(), proto::msg_type::regif_reply, 9, payload, fds).ok());
    auto m = netring::recv_message(sp.b.get(), proto::max_reply_payload);
    ASSERT_TRUE(m.ok()) << m.err().message;
    ASSERT_EQ(m->fds.size(), 3u);
    EXPECT_EQ(m->payload, payload);
    // Order is kept and each received fd is the same eventfd: a write on the copy shows up on the
    // original. They also carry FD_CLOEXEC.
    for (int i = 0; i < 3; i++) {
        const uint64_t v = 10 + i;
        ASSERT_EQ(::write(m->fds[i].get(), &v, sizeof v), 8);
        uint64_t got = 0;
        ASSERT_EQ(::read(fds[i], &got, sizeof got), 8);
        EXPECT_EQ(got, v);
        EXPECT_TRUE(::fcntl(m->fds[i].get(), F_GETFD) & FD_CLOEXEC);
    }
}

TEST(Wire, LargePayloadPartialWrites)
{
    // Bigger than the socket buffer: sendmsg writes it in pieces while the reader drains.
    socket_pair sp;
    int small = 4096;
    ::setsockopt(sp.a.get(), SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
    auto payload = pattern(600000);
    unique_fd e(::eventfd(0, EFD_CLOEXEC));
    const int fds[1] = {e.get()};
    netring::result<netring::received_message> got = netring::error::from(errc::internal, "not run");
    std::thread reader([&] { got = netring::recv_message(sp.b.get(), proto::max_reply_payload); });
    auto s = netring::send_message(sp.a.get(), proto::msg_type::stats_reply, 3, payload, fds);
    reader.join();
    ASSERT_TRUE(s.ok()) << s.err().message;
    ASSERT_TRUE(got.ok()) << got.err().message;
    EXPECT_EQ(got->payload, payload);
    EXPECT_EQ(got->fds.size(), 1u);
}

TEST(Wire, EofIsDaemonGone)
{
    socket_pair sp;
    sp.a.reset();
    auto m = netring::recv_message(sp.b.get(), 100);
    ASSERT_FALSE(m.ok());
    EXPECT_EQ(m.err().code, make_error_code(errc::daemon_gone));
}

TEST(Wire, SendToClosedPeerIsDaemonGone)
{
    socket_pair sp;
    sp.b.reset();
    auto s = netring::send_message(sp.a.get(), proto::msg_type::hello, 1, pattern(40));
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.err().code, make_error_code(errc::daemon_gone));
}

TEST(Wire, TruncatedMessageClosesReceivedFds)
{
    const int before = open_fd_count();
    {
        socket_pair sp;
        unique_fd e(::eventfd(0, EFD_CLOEXEC));
        const int fds[1] = {e.get()};
        // A header announcing 100 bytes, 10 bytes of payload, fds, then EOF.
        proto::header h = proto::make_header(proto::msg_type::regif_reply, 100, 1);
        std::vector<std::byte> raw(sizeof h + 10);
        std::memcpy(raw.data(), &h, sizeof h);
        alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
        iovec iov{raw.data(), raw.size()};
        msghdr msg{};
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control;
        msg.msg_controllen = sizeof control;
        cmsghdr *c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        std::memcpy(CMSG_DATA(c), fds, sizeof(int));
        ASSERT_EQ(::sendmsg(sp.a.get(), &msg, 0), static_cast<ssize_t>(raw.size()));
        sp.a.reset();
        auto m = netring::recv_message(sp.b.get(), 1000);
        ASSERT_FALSE(m.ok());
        EXPECT_EQ(m.err().code, make_error_code(errc::daemon_gone));
        EXPECT_NE(m.err().message.find("mid-message"), std::string::npos) << m.err().message;
    }
    EXPECT_EQ(open_fd_count(), before);
}

TEST(Wire, OversizedLengthClosesReceivedFds)
{
    const int before = open_fd_count();
    {
        socket_pair sp;
        unique_fd e(::eventfd(0, EFD_CLOEXEC));
        const int fds[1] = {e.get()};
        ASSERT_TRUE(netring::send_message(sp.a.get(), proto::msg_type::regif_reply, 1, pattern(500), fds).ok());
        auto m = netring::recv_message(sp.b.get(), 200);
        ASSERT_FALSE(m.ok());
        EXPECT_EQ(m.err().code, make_error_code(errc::bad_message));
    }
    EXPECT_EQ(open_fd_count(), before);
}

TEST(Wire, BadMagic)
{
    socket_pair sp;
    proto::header h = proto::make_header(proto::msg_type::hello, 0, 1);
    h.magic = 0x12345678;
    ASSERT_EQ(::write(sp.a.get(), &h, sizeof h), static_cast<ssize_t>(sizeof h));
    auto m = netring::recv_message(sp.b.get(), 100);
    ASSERT_FALSE(m.ok());
    EXPECT_EQ(m.err().code, make_error_code(errc::bad_message));
}

TEST(Wire, TooManyFdsRefusedBySender)
{
    socket_pair sp;
    std::vector<int> many(proto::max_fds + 1, 0);
    auto s = netring::send_message(sp.a.get(), proto::msg_type::regif_reply, 1, pattern(8), many);
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.err().code, make_error_code(errc::limit_exceeded));
}

TEST(Wire, ControlTruncationIsAnErrorAndLeaksNothing)
{
    // 253 fds (SCM_MAX_FD) do not fit the receiver's room for proto::max_fds: MSG_CTRUNC.
    const int before = open_fd_count();
    {
        socket_pair sp;
        unique_fd e(::eventfd(0, EFD_CLOEXEC));
        constexpr size_t n = 253;
        std::vector<int> fds(n, e.get());
        proto::header h = proto::make_header(proto::msg_type::regif_reply, 0, 1);
        std::vector<char> control(CMSG_SPACE(n * sizeof(int)));
        iovec iov{&h, sizeof h};
        msghdr msg{};
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.data();
        msg.msg_controllen = control.size();
        cmsghdr *c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(n * sizeof(int));
        std::memcpy(CMSG_DATA(c), fds.data(), n * sizeof(int));
        ASSERT_EQ(::sendmsg(sp.a.get(), &msg, 0), static_cast<ssize_t>(sizeof h));
        auto m = netring::recv_message(sp.b.get(), 100);
        ASSERT_FALSE(m.ok());
        EXPECT_EQ(m.err().code, make_error_code(errc::bad_message));
    }
    EXPECT_EQ(open_fd_count(), before);
}

TEST(Wire, RecvWithFdsCollectsStrayFds)
{
    const int before = open_fd_count();
    {
        socket_pair sp;
        unique_fd e1(::eventfd(0, EFD_CLOEXEC)), e2(::eventfd(0, EFD_CLOEXEC));
        const int fds[2] = {e1.get(), e2.get()};
        ASSERT_TRUE(netring::send_message(sp.a.get(), proto::msg_type::hello, 1, pattern(40), fds).ok());
        std::vector<unique_fd> got;
        std::byte buf[4];
        const ssize_t n = netring::recv_with_fds(sp.b.get(), buf, sizeof buf, got);
        EXPECT_EQ(n, 4);
        EXPECT_EQ(got.size(), 2u);
        // The rest of the message follows without fds.
        std::byte rest[100];
        EXPECT_EQ(netring::recv_with_fds(sp.b.get(), rest, sizeof rest, got), 16 + 40 - 4);
        EXPECT_EQ(got.size(), 2u);
    }
    EXPECT_EQ(open_fd_count(), before);
}

TEST(Wire, SmallMessageIntoBuffer)
{
    socket_pair sp;
    auto payload = pattern(136);
    ASSERT_TRUE(netring::send_message(sp.a.get(), proto::msg_type::sync_reply, 4, payload).ok());
    std::byte buf[136];
    auto h = netring::recv_small_message(sp.b.get(), buf);
    ASSERT_TRUE(h.ok());
    EXPECT_EQ(h->length, 136u);
    EXPECT_EQ(std::memcmp(buf, payload.data(), 136), 0);

    ASSERT_TRUE(netring::send_message(sp.a.get(), proto::msg_type::sync_reply, 5, pattern(137)).ok());
    auto too_big = netring::recv_small_message(sp.b.get(), buf);
    ASSERT_FALSE(too_big.ok());
    EXPECT_EQ(too_big.err().code, make_error_code(errc::bad_message));
}

} // namespace
