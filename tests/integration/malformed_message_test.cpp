// Objective: nothing a client sends on the control socket can crash netringd, wedge it, or make it
// leak a file descriptor; every malformed request gets the documented answer.
// Steps: start netringd and count its open fds after one normal client; then, on raw Unix-socket
// connections: a truncated header then close; an oversized length, a bad magic and a wrong version
// (each: the daemon closes the connection); an unknown type (error_reply with unknown_message, and
// the connection stays usable: HELLO works afterwards); REGIF before HELLO (hello_required); a
// payload of the wrong size (bad_message); a port name without NUL (bad_message); messages carrying
// SCM_RIGHTS fds nobody asked for; REGIF with invalid port names (bad_port_name). After each case
// the daemon PID is alive, a normal libnetring client works, and the daemon's fd count returns to
// what it was before (no leak).
#include "harness.hpp"

#include <netring/protocol.hpp>

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <optional>
#include <thread>
#include <vector>

namespace netring::itest {
namespace {

using namespace std::chrono_literals;
namespace proto = netring::proto;

struct reply {
    proto::header h{};
    std::vector<std::byte> payload;

    int32_t error() const
    {
        int32_t e = -1;
        if (payload.size() >= sizeof(proto::reply_status))
            std::memcpy(&e, payload.data(), sizeof e);
        return e;
    }
    std::string message() const
    {
        if (payload.size() < sizeof(proto::reply_status))
            return {};
        const char *m = reinterpret_cast<const char *>(payload.data()) + offsetof(proto::reply_status, message);
        return std::string(m, strnlen(m, proto::message_text_max));
    }
};

// A control-socket client that writes whatever bytes it is told to.
class raw_client {
public:
    explicit raw_client(const std::string &path)
    {
        fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
        connected_ = fd_ >= 0 && ::connect(fd_, reinterpret_cast<sockaddr *>(&addr), sizeof addr) == 0;
        EXPECT_TRUE(connected_) << "connect " << path << ": " << std::strerror(errno);
    }
    raw_client(const raw_client &) = delete;
    raw_client &operator=(const raw_client &) = delete;
    ~raw_client() { close(); }

    void close()
    {
        if (fd_ >= 0)
            ::close(fd_);
        fd_ = -1;
    }

    bool send_bytes(const void *data, size_t n, const std::vector<int> &fds = {})
    {
        iovec iov{const_cast<void *>(data), n};
        msghdr msg{};
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        std::vector<char> control;
        if (!fds.empty()) {
            control.resize(CMSG_SPACE(sizeof(int) * fds.size()));
            msg.msg_control = control.data();
            msg.msg_controllen = control.size();
            cmsghdr *c = CMSG_FIRSTHDR(&msg);
            c->cmsg_level = SOL_SOCKET;
            c->cmsg_type = SCM_RIGHTS;
            c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
            std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
        }
        return ::sendmsg(fd_, &msg, MSG_NOSIGNAL) == static_cast<ssize_t>(n);
    }

    // A header (fields overridable) followed by `payload`.
    bool send_message(uint16_t type, const void *payload, uint32_t len, uint32_t seq, const std::vector<int> &fds = {},
                      uint32_t magic = proto::magic, uint16_t version = proto::version)
    {
        proto::header h{magic, version, type, len, seq};
        std::vector<std::byte> bytes(sizeof h + len);
        std::memcpy(bytes.data(), &h, sizeof h);
        if (len)
            std::memcpy(bytes.data() + sizeof h, payload, len);
        return send_bytes(bytes.data(), bytes.size(), fds);
    }

    template <class T>
    bool send(proto::msg_type type, const T &body, uint32_t seq, const std::vector<int> &fds = {})
    {
        return send_message(static_cast<uint16_t>(type), &body, sizeof body, seq, fds);
    }

    std::optional<reply> read_reply(std::chrono::milliseconds timeout = 5s)
    {
        reply r;
        if (!read_exact(&r.h, sizeof r.h, timeout))
            return std::nullopt;
        if (r.h.length > proto::max_reply_payload) {
            ADD_FAILURE() << "reply length " << r.h.length << " over the protocol bound";
            return std::nullopt;
        }
        r.payload.resize(r.h.length);
        if (!read_exact(r.payload.data(), r.payload.size(), timeout))
            return std::nullopt;
        return r;
    }

    // True when the daemon closes the connection within `timeout` (anything it sends first is read).
    bool closed_by_peer(std::chrono::milliseconds timeout = 5s)
    {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        char buf[4096];
        for (size_t total = 0; total < (2u << 20);) {
            const auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
            pollfd p{fd_, POLLIN, 0};
            if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0)
                return false;
            const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
            if (n == 0 || (n < 0 && errno == ECONNRESET))
                return true;
            if (n < 0)
                return false;
            total += static_cast<size_t>(n);
        }
        return false;
    }

    bool hello(uint32_t seq = 1)
    {
        proto::hello h{};
        h.min_version = proto::min_version;
        h.max_version = proto::version;
        std::strcpy(h.client_name, "itest-raw");
        if (!send(proto::msg_type::hello, h, seq))
            return false;
        auto r = read_reply();
        return r && r->h.type == static_cast<uint16_t>(proto::msg_type::hello_reply) && r->h.seq == seq &&
               r->error() == 0;
    }

private:
    bool read_exact(void *dst, size_t n, std::chrono::milliseconds timeout)
    {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        auto *p = static_cast<char *>(dst);
        while (n > 0) {
            const auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
            pollfd pfd{fd_, POLLIN, 0};
            if (left.count() <= 0 || ::poll(&pfd, 1, static_cast<int>(left.count())) <= 0)
                return false;
            const ssize_t got = ::recv(fd_, p, n, 0);
            if (got <= 0)
                return false;
            p += got;
            n -= static_cast<size_t>(got);
        }
        return true;
    }

    int fd_ = -1;
    bool connected_ = false;
};

proto::regif regif_for(const char *name)
{
    proto::regif r{};
    std::strncpy(r.port_name, name, sizeof r.port_name - 1);
    return r;
}

class malformed_message : public daemon_test {
protected:
    void SetUp() override
    {
        daemon_test::SetUp();
        if (IsSkipped() || HasFatalFailure())
            return;
        ASSERT_TRUE(query_stats(socket_path()).ok());
        baseline_fds_ = settled_fd_count();
        ASSERT_GT(baseline_fds_, 0);
    }

    // The daemon's fd count once it stops changing (a closed session is reaped asynchronously).
    int settled_fd_count()
    {
        int last = open_fd_count(daemon_pid()), stable = 0;
        for (int i = 0; i < 100 && stable < 5; i++) {
            std::this_thread::sleep_for(20ms);
            const int now = open_fd_count(daemon_pid());
            stable = now == last ? stable + 1 : 0;
            last = now;
        }
        return last;
    }

    void expect_healthy()
    {
        EXPECT_TRUE(daemon_alive()) << "netringd died";
        auto s = query_stats(socket_path());
        EXPECT_TRUE(s.ok()) << (s ? "" : s.err().describe());
        int fds = -1;
        EXPECT_TRUE(eventually(
            [&] {
                fds = open_fd_count(daemon_pid());
                return fds == baseline_fds_;
            },
            10s))
            << "netringd holds " << fds << " fds, " << baseline_fds_ << " before the test";
    }

    int baseline_fds_ = -1;
};

TEST_F(malformed_message, truncated_header_then_close)
{
    {
        raw_client c(socket_path());
        const proto::header h = proto::make_header(proto::msg_type::hello, sizeof(proto::hello), 1);
        ASSERT_TRUE(c.send_bytes(&h, 7));
    }
    expect_healthy();
}

TEST_F(malformed_message, oversized_length_closes_the_connection)
{
    for (uint32_t len : {static_cast<uint32_t>(proto::max_request_payload + 1), 0x7fffffffu}) {
        raw_client c(socket_path());
        const proto::header h = proto::make_header(proto::msg_type::hello, len, 1);
        ASSERT_TRUE(c.send_bytes(&h, sizeof h));
        EXPECT_TRUE(c.closed_by_peer()) << "length " << len << " did not close the connection";
    }
    expect_healthy();
}

TEST_F(malformed_message, bad_magic_closes_the_connection)
{
    raw_client c(socket_path());
    proto::hello body{};
    body.min_version = body.max_version = proto::version;
    ASSERT_TRUE(c.send_message(static_cast<uint16_t>(proto::msg_type::hello), &body, sizeof body, 1, {}, 0xdeadbeefu));
    EXPECT_TRUE(c.closed_by_peer());
    expect_healthy();
}

TEST_F(malformed_message, wrong_version_closes_the_connection)
{
    for (uint16_t v : {uint16_t{0}, static_cast<uint16_t>(proto::version + 1), uint16_t{0xffff}}) {
        raw_client c(socket_path());
        proto::hello body{};
        body.min_version = body.max_version = proto::version;
        ASSERT_TRUE(c.send_message(static_cast<uint16_t>(proto::msg_type::hello), &body, sizeof body, 1, {},
                                   proto::magic, v));
        EXPECT_TRUE(c.closed_by_peer()) << "version " << v;
    }
    expect_healthy();
}

TEST_F(malformed_message, unknown_type_gets_an_error_reply_and_the_connection_stays_usable)
{
    raw_client c(socket_path());
    const uint64_t junk = 0x1122334455667788u;
    for (uint16_t type : {uint16_t{999}, static_cast<uint16_t>(proto::msg_type::hello_reply), uint16_t{0}}) {
        ASSERT_TRUE(c.send_message(type, &junk, sizeof junk, 40 + type, {}));
        auto r = c.read_reply();
        ASSERT_TRUE(r) << "no reply to type " << type;
        EXPECT_EQ(r->h.type, static_cast<uint16_t>(proto::msg_type::error_reply));
        EXPECT_EQ(r->h.seq, 40u + type);
        EXPECT_EQ(r->error(), static_cast<int32_t>(errc::unknown_message)) << r->message();
    }
    EXPECT_TRUE(c.hello(7)) << "HELLO after an unknown type failed";
    c.close();
    expect_healthy();
}

TEST_F(malformed_message, regif_before_hello_is_refused)
{
    raw_client c(socket_path());
    ASSERT_TRUE(c.send(proto::msg_type::regif, regif_for("netmap:pipeM{1"), 3));
    auto r = c.read_reply();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->h.seq, 3u);
    EXPECT_EQ(r->error(), static_cast<int32_t>(errc::hello_required)) << r->message();
    EXPECT_FALSE(r->message().empty());
    EXPECT_TRUE(c.hello(4)) << "HELLO after a refused REGIF failed";
    c.close();
    expect_healthy();
}

TEST_F(malformed_message, payload_of_the_wrong_size_is_a_bad_message)
{
    raw_client c(socket_path());
    ASSERT_TRUE(c.hello());
    const uint32_t short_stats = 0;
    ASSERT_TRUE(c.send_message(static_cast<uint16_t>(proto::msg_type::stats), &short_stats, sizeof short_stats, 5, {}));
    auto r = c.read_reply();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->error(), static_cast<int32_t>(errc::bad_message)) << r->message();
    c.close();
    expect_healthy();
}

TEST_F(malformed_message, port_name_without_nul_is_a_bad_message)
{
    raw_client c(socket_path());
    ASSERT_TRUE(c.hello());
    proto::regif body{};
    std::memset(body.port_name, 'a', sizeof body.port_name);
    ASSERT_TRUE(c.send(proto::msg_type::regif, body, 6));
    auto r = c.read_reply();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->error(), static_cast<int32_t>(errc::bad_message)) << r->message();
    c.close();
    expect_healthy();
}

TEST_F(malformed_message, unsolicited_fds_are_not_kept)
{
    std::vector<int> fds;
    for (int i = 0; i < 8; i++)
        fds.push_back(::eventfd(0, EFD_CLOEXEC));
    {
        raw_client c(socket_path());
        proto::hello h{};
        h.min_version = proto::min_version;
        h.max_version = proto::version;
        ASSERT_TRUE(c.send(proto::msg_type::hello, h, 1, fds));
        auto r = c.read_reply();
        ASSERT_TRUE(r) << "no reply to a HELLO carrying fds";
        proto::stats st{};
        ASSERT_TRUE(c.send(proto::msg_type::stats, st, 2, fds));
        EXPECT_TRUE(c.read_reply()) << "no reply to a STATS carrying fds";
        // And with a message that closes the connection.
        const proto::header bad{0xdeadbeefu, proto::version, 1, 0, 3};
        ASSERT_TRUE(c.send_bytes(&bad, sizeof bad, fds));
        EXPECT_TRUE(c.closed_by_peer());
    }
    for (int fd : fds)
        ::close(fd);
    expect_healthy();
}

TEST_F(malformed_message, invalid_port_names_are_refused)
{
    raw_client c(socket_path());
    ASSERT_TRUE(c.hello());
    uint32_t seq = 10;
    for (const char *name : {"", "netmap:", "netmap:pipeM{", "netmap:pipeM{1}2", "bogus"}) {
        ASSERT_TRUE(c.send(proto::msg_type::regif, regif_for(name), ++seq));
        auto r = c.read_reply();
        ASSERT_TRUE(r) << "no reply for '" << name << "'";
        EXPECT_EQ(r->h.seq, seq);
        EXPECT_EQ(r->error(), static_cast<int32_t>(errc::bad_port_name)) << "'" << name << "': " << r->message();
    }
    c.close();
    expect_healthy();
}

} // namespace
} // namespace netring::itest
