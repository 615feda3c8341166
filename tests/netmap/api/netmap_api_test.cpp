// Objective: the netmap API works as netmap programs use it, checked by this folder's C programs
// (nmt_*.c, each opening with its own objective and steps) against a real netringd.
// Steps: every case starts a private netringd (integration harness: temporary socket, its own
// config) whose policy lets uid 65534 open netmap:nmt* and vale* and makes gid 0 the switch
// admin; runs one program case as root with NETRING_SOCKET naming that daemon; expects exit 0
// within 25 s; and checks that the daemon is still serving. The programs that use only
// open/ioctl/mmap/poll run again built without libnetring-netmap, under LD_PRELOAD.
#include "harness.hpp"

#include <cstdlib>

// A sanitizer runtime must come first in a process, so an instrumented library cannot be
// preloaded into a plain program: sanitizer builds skip the LD_PRELOAD cases. (GTEST_SKIP returns
// from the function it is in, so it has to stand in the test body itself.)
#ifdef NMT_NO_PRELOAD
#define NMT_SKIP_WITHOUT_PRELOAD() GTEST_SKIP() << "sanitizer build: the instrumented library cannot be preloaded"
#else
#define NMT_SKIP_WITHOUT_PRELOAD() static_cast<void>(0)
#endif

namespace netring::itest {
namespace {

using namespace std::chrono_literals;

class netmap_api : public daemon_test {
protected:
    std::string config_text() const override
    {
        return default_limits() + "admin gid=0\n"
                                  "allow uid=65534 netmap:nmt*\n"
                                  "allow uid=65534 vale*\n";
    }

    child_result run(const std::vector<std::string> &argv, bool preload)
    {
        ::setenv("NETRING_SOCKET", socket_path().c_str(), 1);
        if (preload)
            ::setenv("LD_PRELOAD", NMT_LIBRARY, 1);
        auto c = spawn(argv, false);
        ::unsetenv("LD_PRELOAD");
        ::unsetenv("NETRING_SOCKET");
        if (!c)
            return {};
        return c->wait(25s);
    }

    void expect_pass(const std::vector<std::string> &argv, bool preload = false)
    {
        const child_result r = run(argv, preload);
        EXPECT_TRUE(r.exited && r.exit_code == 0) << argv[0] << " " << argv[1] << ": " << r.describe();
        EXPECT_NE(r.out.find("ok"), std::string::npos) << "no verdict on stdout: " << r.out;
        std::printf("%s", r.out.c_str());
        EXPECT_TRUE(daemon_alive()) << "netringd died";
    }

};

// nmport_open over a pipe, waiting with each of the C library's mechanisms.
class netmap_nmport : public netmap_api {};
TEST_F(netmap_nmport, poll) { expect_pass({NMT_TRANSFER, "poll", "nmtTa"}); }
TEST_F(netmap_nmport, select) { expect_pass({NMT_TRANSFER, "select", "nmtTb"}); }
TEST_F(netmap_nmport, epoll) { expect_pass({NMT_TRANSFER, "epoll", "nmtTc"}); }
TEST_F(netmap_nmport, ppoll) { expect_pass({NMT_TRANSFER, "ppoll", "nmtTd"}); }
TEST_F(netmap_nmport, pselect) { expect_pass({NMT_TRANSFER, "pselect", "nmtTe"}); }
TEST_F(netmap_nmport, busy_sync) { expect_pass({NMT_TRANSFER, "busy", "nmtTf"}); }

class netmap_legacy : public netmap_api {};
TEST_F(netmap_legacy, nm_open_inject_dispatch_nextpkt) { expect_pass({NMT_LEGACY, "nmtL"}); }

// Copy monitors with netmap's names, opened through nmport_open and waited for with poll().
class netmap_monitor : public netmap_api {};
TEST_F(netmap_monitor, rt_t_r_and_zero_copy_refused) { expect_pass({NMT_MONITOR, "nmtM"}); }

// open/ioctl/mmap/poll only: linked, preloaded, and (a check of the check) neither.
class netmap_raw : public netmap_api {};
TEST_F(netmap_raw, linked) { expect_pass({NMT_RAW, "nmtR"}); }
TEST_F(netmap_raw, preloaded)
{
    NMT_SKIP_WITHOUT_PRELOAD();
    expect_pass({NMT_RAW_PLAIN, "nmtR"}, true);
}
TEST_F(netmap_raw, plain_without_library_fails)
{
    if (::access("/dev/netmap", F_OK) == 0)
        GTEST_SKIP() << "/dev/netmap exists here: a plain program would reach netmap itself";
    const child_result r = run({NMT_RAW_PLAIN, "nmtR"}, false);
    EXPECT_TRUE(r.exited && r.exit_code == 1) << r.describe();
    EXPECT_NE(r.err.find("No such file or directory"), std::string::npos) << r.describe();
}

#define NMT_CASE(suite, program, name)                                                                       \
    TEST_F(suite, name) { expect_pass({program, #name}); }

class netmap_ioctl : public netmap_api {};
NMT_CASE(netmap_ioctl, NMT_IOCTL, register)
NMT_CASE(netmap_ioctl, NMT_IOCTL, port_info)
NMT_CASE(netmap_ioctl, NMT_IOCTL, port_hdr)
NMT_CASE(netmap_ioctl, NMT_IOCTL, pools_info)
NMT_CASE(netmap_ioctl, NMT_IOCTL, vale_admin)
NMT_CASE(netmap_ioctl, NMT_IOCTL, vale_nobody)
NMT_CASE(netmap_ioctl, NMT_IOCTL, vale_nobody_newif)
NMT_CASE(netmap_ioctl, NMT_IOCTL, polling)
NMT_CASE(netmap_ioctl, NMT_IOCTL, legacy)
NMT_CASE(netmap_ioctl, NMT_IOCTL, mem_id)
NMT_CASE(netmap_ioctl, NMT_IOCTL, direction_only)
NMT_CASE(netmap_ioctl, NMT_IOCTL, extra_bufs)

class netmap_fd : public netmap_api {};
NMT_CASE(netmap_fd, NMT_FD, scm_rights)
NMT_CASE(netmap_fd, NMT_FD, fork)
NMT_CASE(netmap_fd, NMT_FD, dup_close)
NMT_CASE(netmap_fd, NMT_FD, last_close)
NMT_CASE(netmap_fd, NMT_FD, closed_fd)

class netmap_bad : public netmap_api {};
NMT_CASE(netmap_bad, NMT_BAD, reqtype)
NMT_CASE(netmap_bad, NMT_BAD, version)
NMT_CASE(netmap_bad, NMT_BAD, reserved)
NMT_CASE(netmap_bad, NMT_BAD, null_body)
NMT_CASE(netmap_bad, NMT_BAD, names)
NMT_CASE(netmap_bad, NMT_BAD, options)
NMT_CASE(netmap_bad, NMT_BAD, option_loop)
NMT_CASE(netmap_bad, NMT_BAD, register_twice)
NMT_CASE(netmap_bad, NMT_BAD, sync_unbound)
NMT_CASE(netmap_bad, NMT_BAD, mmap_unbound)
NMT_CASE(netmap_bad, NMT_BAD, ring_reset)

// Every case of the raw programs again, built without the library and run with it preloaded.
class netmap_preload : public netmap_api {};
TEST_F(netmap_preload, ioctl_all)
{
    NMT_SKIP_WITHOUT_PRELOAD();
    expect_pass({NMT_IOCTL_PLAIN, "all"}, true);
}
TEST_F(netmap_preload, fd_all)
{
    NMT_SKIP_WITHOUT_PRELOAD();
    expect_pass({NMT_FD_PLAIN, "all"}, true);
}
TEST_F(netmap_preload, bad_all)
{
    NMT_SKIP_WITHOUT_PRELOAD();
    expect_pass({NMT_BAD_PLAIN, "all"}, true);
}

} // namespace
} // namespace netring::itest
