// The control server and sessions over a real Unix socket, with the server on its own thread and
// raw clients in the test: garbage closes the connection, unknown types and requests before HELLO
// get error replies, REGIF hands over the region and eventfds, fds a client sends are closed, and
// a disconnect releases the client's registrations.
#include "control_server.hpp"

#include <rings/wire.hpp>
#include <rings/region_format.hpp>

#include <gtest/gtest.h>

#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <dirent.h>
#include <unistd.h>

#include <cstring>
#include <thread>

namespace netring::netringd {
namespace {

int count_open_fds()
{
    int n = 0;
    DIR *d = ::opendir("/proc/self/fd");
    while (d && ::readdir(d))
        n++;
    if (d)
        ::closedir(d);
    return n;
}

class server_test : public ::testing::Test {
protected:
    void SetUp() override
    {
        char tmpl[] = "/tmp/netringd-server-XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
        path_ = dir_ + "/run/d.sock"; // the parent is created by listen()
        cfg_.region_buffers = 1024;
        cfg_.region_meta_bytes = 1u << 20;
        cfg_.default_slots = 64;
        logger quiet;
        quiet.quiet = true;
        server_ = std::make_unique<control_server>(io_, reg_, quiet);
        auto s = server_->listen(path_);
        ASSERT_TRUE(s.ok()) << s.err().describe();
        thread_ = std::thread([this] { io_.run(); });
    }

    void TearDown() override
    {
        if (thread_.joinable()) {
            boost::asio::post(io_, [this] { server_->stop(); });
            thread_.join();
        }
        EXPECT_NE(::access(path_.c_str(), F_OK), 0) << "the socket file outlived stop()";
        EXPECT_EQ(reg_.registrations(), 0u);
        EXPECT_EQ(reg_.regions(), 0u);
        ::rmdir((dir_ + "/run").c_str());
        ::rmdir(dir_.c_str());
    }

    unique_fd connect_client()
    {
        unique_fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::strcpy(addr.sun_path, path_.c_str());
        EXPECT_EQ(::connect(fd.get(), reinterpret_cast<sockaddr *>(&addr), sizeof addr), 0);
        return fd;
    }

    static received_message call(int fd, proto::msg_type t, uint32_t seq, std::span<const std::byte> payload,
                                 std::span<const int> fds = {})
    {
        EXPECT_TRUE(send_message(fd, t, seq, payload, fds).ok());
        auto m = recv_message(fd, proto::max_reply_payload);
        EXPECT_TRUE(m.ok()) << (m.ok() ? "" : m.err().describe());
        if (m.ok()) {
            EXPECT_EQ(m->hdr.seq, seq);
        }
        return m.ok() ? std::move(m.value()) : received_message{};
    }

    template <class T>
    static received_message call_struct(int fd, proto::msg_type t, uint32_t seq, const T &msg,
                                        std::span<const int> fds = {})
    {
        return call(fd, t, seq, std::as_bytes(std::span<const T, 1>(&msg, 1)), fds);
    }

    template <class T>
    static T as(const received_message &m)
    {
        T v{};
        EXPECT_EQ(m.payload.size(), sizeof v);
        std::memcpy(&v, m.payload.data(), std::min(sizeof v, m.payload.size()));
        return v;
    }

    static int32_t error_of(const received_message &m)
    {
        proto::reply_status st{};
        if (m.payload.size() >= sizeof st)
            std::memcpy(&st, m.payload.data(), sizeof st);
        return st.error;
    }

    static void hello(int fd)
    {
        proto::hello h{};
        h.min_version = h.max_version = proto::version;
        proto::set_text(h.client_name, sizeof h.client_name, "server_test");
        auto m = call_struct(fd, proto::msg_type::hello, 1, h);
        ASSERT_EQ(m.hdr.type, static_cast<uint16_t>(proto::msg_type::hello_reply));
        const auto rep = as<proto::hello_reply>(m);
        EXPECT_EQ(rep.status.error, 0);
        EXPECT_EQ(rep.uid, ::getuid());
        EXPECT_EQ(rep.pid, static_cast<uint32_t>(::getpid()));
    }

    proto::stats_reply stats()
    {
        auto c = connect_client();
        hello(c.get());
        auto m = call_struct(c.get(), proto::msg_type::stats, 9, proto::stats{});
        proto::stats_reply head{};
        EXPECT_GE(m.payload.size(), sizeof head);
        std::memcpy(&head, m.payload.data(), std::min(sizeof head, m.payload.size()));
        return head;
    }

    config cfg_;
    policy pol_{cfg_, ::getuid()};
    registry reg_{cfg_, pol_};
    boost::asio::io_context io_;
    std::unique_ptr<control_server> server_;
    std::thread thread_;
    std::string dir_;
    std::string path_;
};

TEST_F(server_test, garbage_header_closes_the_connection)
{
    auto c = connect_client();
    const char junk[16] = "GET / HTTP/1.0\n";
    ASSERT_EQ(::send(c.get(), junk, sizeof junk, MSG_NOSIGNAL), static_cast<ssize_t>(sizeof junk));
    char b;
    EXPECT_EQ(::recv(c.get(), &b, 1, 0), 0); // EOF, no reply
}

TEST_F(server_test, oversized_length_closes_the_connection)
{
    auto c = connect_client();
    const proto::header h = proto::make_header(proto::msg_type::hello, 1u << 20, 1);
    ASSERT_EQ(::send(c.get(), &h, sizeof h, MSG_NOSIGNAL), static_cast<ssize_t>(sizeof h));
    char b;
    EXPECT_EQ(::recv(c.get(), &b, 1, 0), 0);
}

TEST_F(server_test, unknown_type_gets_an_error_reply_and_the_stream_goes_on)
{
    auto c = connect_client();
    const std::byte body[4] = {};
    auto m = call(c.get(), static_cast<proto::msg_type>(99), 5, body);
    EXPECT_EQ(m.hdr.type, static_cast<uint16_t>(proto::msg_type::error_reply));
    EXPECT_EQ(error_of(m), static_cast<int32_t>(errc::unknown_message));
    hello(c.get());
}

TEST_F(server_test, requests_before_hello_are_refused)
{
    auto c = connect_client();
    proto::regif r{};
    proto::set_text(r.port_name, sizeof r.port_name, "netmap:s{1");
    auto m = call_struct(c.get(), proto::msg_type::regif, 2, r);
    EXPECT_EQ(m.hdr.type, static_cast<uint16_t>(proto::msg_type::error_reply));
    EXPECT_EQ(error_of(m), static_cast<int32_t>(errc::hello_required));
    EXPECT_TRUE(m.fds.empty());
    hello(c.get());
    proto::hello h{};
    h.min_version = h.max_version = proto::version;
    EXPECT_EQ(error_of(call_struct(c.get(), proto::msg_type::hello, 3, h)), static_cast<int32_t>(errc::hello_required));
    // A payload of the wrong size is a decode error, answered, not a disconnect.
    const std::byte short_body[3] = {};
    EXPECT_EQ(error_of(call(c.get(), proto::msg_type::stats, 4, short_body)), static_cast<int32_t>(errc::bad_message));
}

// Replies carry the version the session speaks and its layout: an older client accepts them and
// reads STATS ring records without the occupancy version 4 added.
TEST_F(server_test, replies_carry_the_session_version_and_its_layout)
{
    auto c = connect_client();
    auto m = call_struct(c.get(), proto::msg_type::stats, 2, proto::stats{});
    EXPECT_EQ(m.hdr.version, proto::min_version) << "before HELLO: the version every client accepts";
    proto::hello h{};
    h.min_version = 1;
    h.max_version = 3;
    proto::set_text(h.client_name, sizeof h.client_name, "server_test v3");
    m = call_struct(c.get(), proto::msg_type::hello, 3, h);
    EXPECT_EQ(m.hdr.version, 3u);
    EXPECT_EQ(as<proto::hello_reply>(m).version, 3u);
    proto::regif r{};
    proto::set_text(r.port_name, sizeof r.port_name, "netmap:sv{1");
    m = call_struct(c.get(), proto::msg_type::regif, 4, r);
    ASSERT_EQ(m.hdr.type, static_cast<uint16_t>(proto::msg_type::regif_reply));
    m = call_struct(c.get(), proto::msg_type::stats, 5, proto::stats{});
    EXPECT_EQ(m.hdr.version, 3u);
    proto::stats_reply head{};
    ASSERT_GE(m.payload.size(), sizeof head);
    std::memcpy(&head, m.payload.data(), sizeof head);
    ASSERT_EQ(head.n_rings, 2u);
    EXPECT_EQ(m.payload.size(), sizeof head + head.n_regions * sizeof(proto::stats_region) +
                                    head.n_regs * sizeof(proto::stats_registration) +
                                    head.n_rings * proto::stats_ring_v3_size +
                                    head.n_uids * sizeof(proto::stats_uid));

    auto d = connect_client();
    hello(d.get());
    m = call_struct(d.get(), proto::msg_type::stats, 2, proto::stats{});
    EXPECT_EQ(m.hdr.version, proto::version);
    std::memcpy(&head, m.payload.data(), sizeof head);
    EXPECT_EQ(m.payload.size(), sizeof head + head.n_regions * sizeof(proto::stats_region) +
                                    head.n_regs * sizeof(proto::stats_registration) +
                                    head.n_rings * sizeof(proto::stats_ring) +
                                    head.n_uids * sizeof(proto::stats_uid));
}

TEST_F(server_test, regif_hands_over_the_region_and_eventfds)
{
    auto c = connect_client();
    hello(c.get());
    proto::regif r{};
    proto::set_text(r.port_name, sizeof r.port_name, "netmap:s{1");
    auto m = call_struct(c.get(), proto::msg_type::regif, 2, r);
    ASSERT_EQ(m.hdr.type, static_cast<uint16_t>(proto::msg_type::regif_reply));
    const auto rep = as<proto::regif_reply>(m);
    ASSERT_EQ(rep.status.error, 0) << rep.status.message;
    ASSERT_EQ(rep.num_fds, 5u);
    ASSERT_EQ(m.fds.size(), 5u);
    EXPECT_EQ(rep.port_kind, NR_PORT_KIND_PIPE);
    auto map = mapped_region::map(m.fds[0].get(), rep.region_size);
    ASSERT_TRUE(map.ok());
    std::string why;
    auto g = rings::read_region_header(map->base(), rep.region_size, &why);
    ASSERT_TRUE(g) << why;
    EXPECT_EQ(rings::check_if_block(map->base(), *g, rep.if_offset), "");
    EXPECT_EQ(::ftruncate(m.fds[0].get(), 4096), -1) << "the region memfd must be sealed";

    // Socket-path TXSYNC of an empty ring, then a ring that does not exist.
    proto::sync_request s{rep.reg_id, 0};
    auto sr = as<proto::sync_reply>(call_struct(c.get(), proto::msg_type::txsync, 3, s));
    EXPECT_EQ(sr.status.error, 0) << sr.status.message;
    EXPECT_EQ(sr.tail, 63u);
    s.ring = 4;
    EXPECT_EQ(error_of(call_struct(c.get(), proto::msg_type::rxsync, 4, s)), static_cast<int32_t>(errc::bad_ring));

    proto::port_info pi{};
    proto::set_text(pi.port_name, sizeof pi.port_name, "netmap:s}1");
    auto info = as<proto::port_info_reply>(call_struct(c.get(), proto::msg_type::port_info, 5, pi));
    EXPECT_EQ(info.status.error, 0);
    EXPECT_EQ(info.clients, 1u);
    EXPECT_STREQ(info.region_name, "pipe:s");

    const auto st = stats();
    EXPECT_EQ(st.n_regs, 1u);
    EXPECT_EQ(st.n_regions, 1u);
    EXPECT_EQ(st.n_rings, 2u);

    c.reset(); // disconnect: the registration goes, and with it the pipe and its region
    for (int i = 0; i < 200 && stats().n_regs != 0; i++)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    const auto after = stats();
    EXPECT_EQ(after.n_regs, 0u);
    EXPECT_EQ(after.n_regions, 0u);
}

TEST_F(server_test, unregif_of_an_unknown_registration)
{
    auto c = connect_client();
    hello(c.get());
    auto m = call_struct(c.get(), proto::msg_type::unregif, 2, proto::unregif{42, 0});
    EXPECT_EQ(m.hdr.type, static_cast<uint16_t>(proto::msg_type::unregif_reply));
    EXPECT_EQ(error_of(m), static_cast<int32_t>(errc::not_registered));
}

TEST_F(server_test, fds_a_client_sends_are_closed)
{
    auto c = connect_client();
    hello(c.get());
    const int before = count_open_fds();
    int fds[3];
    for (int &fd : fds)
        fd = ::eventfd(0, EFD_CLOEXEC);
    call_struct(c.get(), proto::msg_type::stats, 2, proto::stats{}, fds);
    for (int fd : fds)
        ::close(fd);
    EXPECT_EQ(count_open_fds(), before); // the daemon (this process) kept none of the copies
}

// socket_group and socket_mode: the file has them before anyone can connect.
TEST_F(server_test, the_socket_gets_the_configured_group_and_mode)
{
    struct stat st;
    ASSERT_EQ(::stat(path_.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0666u); // the default

    boost::asio::io_context io2;
    logger quiet;
    quiet.quiet = true;
    control_server other(io2, reg_, quiet);
    const std::string path2 = dir_ + "/run/e.sock";
    ASSERT_TRUE(other.listen(path2, socket_access{::getgid(), 0660}).ok());
    ASSERT_EQ(::stat(path2.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0660u);
    EXPECT_EQ(st.st_gid, ::getgid());
    other.stop();
    EXPECT_NE(::access(path2.c_str(), F_OK), 0);
}

TEST_F(server_test, a_second_server_refuses_a_live_socket)
{
    boost::asio::io_context io2;
    logger quiet;
    quiet.quiet = true;
    control_server other(io2, reg_, quiet);
    auto s = other.listen(path_);
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.err().message.find("another netringd is listening"), std::string::npos);
}

} // namespace
} // namespace netring::netringd
