// kept_fds: an fd keeps its name while it is the same open file, a reused number gets a new name,
// and the store sees each fd pushed once and removed once, in the order that keeps a crash safe.
// The store is a datagram socket this test binds and names in NOTIFY_SOCKET.
#include "kept_fds.hpp"

#include <gtest/gtest.h>

#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

namespace netring::netringd {
namespace {

unique_fd make_eventfd() { return unique_fd(::eventfd(0, EFD_CLOEXEC)); }

// A socket standing in for the service manager; reads what has been sent so far.
class fake_store {
public:
    fake_store()
    {
        char tmpl[] = "/tmp/netring-kept-fds-XXXXXX";
        dir_ = ::mkdtemp(tmpl);
        path_ = dir_ + "/notify";
        sock_ = unique_fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
        sockaddr_un a{};
        a.sun_family = AF_UNIX;
        std::strncpy(a.sun_path, path_.c_str(), sizeof a.sun_path - 1);
        bound_ = ::bind(sock_.get(), reinterpret_cast<sockaddr *>(&a), sizeof a) == 0;
        ::setenv("NOTIFY_SOCKET", path_.c_str(), 1);
    }
    ~fake_store()
    {
        ::unsetenv("NOTIFY_SOCKET");
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }
    bool bound() const { return bound_; }

    // Each message so far, with the number of fds it carried ("FDSTORE=1\nFDNAME=fd.0 +1").
    std::vector<std::string> messages()
    {
        std::vector<std::string> out;
        for (;;) {
            char text[512];
            alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * 8)];
            iovec iov{text, sizeof text};
            msghdr m{};
            m.msg_iov = &iov;
            m.msg_iovlen = 1;
            m.msg_control = control;
            m.msg_controllen = sizeof control;
            const ssize_t n = ::recvmsg(sock_.get(), &m, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
            if (n < 0)
                return out;
            int fds = 0;
            for (cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c))
                if (c->cmsg_type == SCM_RIGHTS)
                    for (size_t i = 0; i < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++, fds++) {
                        int fd;
                        std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
                        ::close(fd);
                    }
            out.push_back(std::string(text, static_cast<size_t>(n)) + (fds ? " +" + std::to_string(fds) : ""));
        }
    }

private:
    std::string dir_, path_;
    unique_fd sock_;
    bool bound_ = false;
};

TEST(kept_fds, an_fd_keeps_its_id_while_it_is_the_same_file)
{
    kept_fds k(false);
    unique_fd a = make_eventfd(), b = make_eventfd();
    k.begin_round();
    const uint32_t ia = k.id_of(a.get()), ib = k.id_of(b.get());
    EXPECT_NE(ia, ib);
    EXPECT_EQ(k.id_of(a.get()), ia); // asked twice in one round
    ASSERT_TRUE(k.push_new());
    k.drop_unnamed();
    k.begin_round();
    EXPECT_EQ(k.id_of(b.get()), ib);
    EXPECT_EQ(k.id_of(a.get()), ia);
    EXPECT_EQ(k.current().size(), 2u);
}

TEST(kept_fds, a_reused_number_is_a_new_file_and_the_old_id_goes)
{
    kept_fds k(false);
    unique_fd a = make_eventfd();
    const int number = a.get();
    k.begin_round();
    const uint32_t old_id = k.id_of(number);
    k.drop_unnamed();
    a.reset();
    unique_fd c = make_eventfd(); // the lowest free number: the one a had
    ASSERT_EQ(c.get(), number);
    k.begin_round();
    const uint32_t new_id = k.id_of(c.get());
    EXPECT_NE(new_id, old_id);
    k.drop_unnamed();
    const auto cur = k.current();
    ASSERT_EQ(cur.size(), 1u);
    EXPECT_EQ(cur[0].first, new_id);
    EXPECT_EQ(cur[0].second, number);
}

TEST(kept_fds, adopted_ids_stay_and_new_ones_start_above_the_reserved)
{
    kept_fds k(false);
    unique_fd a = make_eventfd(), b = make_eventfd();
    k.reserve_ids(10);
    k.adopted(7, a.get());
    k.begin_round();
    EXPECT_EQ(k.id_of(a.get()), 7u);
    EXPECT_EQ(k.id_of(b.get()), 10u);
}

TEST(kept_fds, the_store_gets_each_fd_once_and_loses_it_when_it_goes)
{
    fake_store store;
    ASSERT_TRUE(store.bound());
    kept_fds k(true);
    ASSERT_TRUE(k.store_active()) << "kcmp(2) is needed for the store";
    unique_fd a = make_eventfd(), b = make_eventfd();
    ASSERT_TRUE(k.push("state", a.get()));
    k.begin_round();
    const uint32_t ib = k.id_of(b.get());
    ASSERT_TRUE(k.push_new());
    k.drop_unnamed();
    const std::string name_b = "fd." + std::to_string(ib);
    EXPECT_EQ(store.messages(),
              (std::vector<std::string>{"FDSTORE=1\nFDNAME=state +1", "FDSTORE=1\nFDNAME=" + name_b + " +1"}));

    k.begin_round(); // b again: nothing to send
    EXPECT_EQ(k.id_of(b.get()), ib);
    ASSERT_TRUE(k.push_new());
    k.drop_unnamed();
    EXPECT_TRUE(store.messages().empty());

    k.begin_round(); // b not named any more
    ASSERT_TRUE(k.push_new());
    k.drop_unnamed();
    EXPECT_EQ(store.messages(), (std::vector<std::string>{"FDSTOREREMOVE=1\nFDNAME=" + name_b}));

    k.remove_all();
    EXPECT_EQ(store.messages(), (std::vector<std::string>{"FDSTOREREMOVE=1\nFDNAME=state"}));
}

TEST(kept_fds, without_a_store_nothing_is_sent)
{
    fake_store store;
    kept_fds k(false);
    unique_fd a = make_eventfd();
    k.begin_round();
    (void)k.id_of(a.get());
    ASSERT_TRUE(k.push_new());
    ASSERT_TRUE(k.push("state", a.get()));
    k.remove_all();
    EXPECT_TRUE(store.messages().empty());
}

} // namespace
} // namespace netring::netringd
