// The daemon fixture: temp dir, config, netringd start and stop, tools as uid 65534, STATS helpers.
#include "harness.hpp"

#include <netring/unique_fd.hpp>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

extern char **environ;

namespace netring::itest {
namespace {

using namespace std::chrono_literals;
using detail::read_file;
using detail::tail_of;
using detail::wait_pid;

bool can_connect(const std::string &path)
{
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return false;
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
    const bool ok = ::connect(fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr) == 0;
    ::close(fd);
    return ok;
}

bool is_root_with_setpriv()
{
    return ::geteuid() == 0 && (::access("/usr/bin/setpriv", X_OK) == 0 || ::access("/bin/setpriv", X_OK) == 0);
}

} // namespace

// ---- the fixture ----

std::optional<port> open_port(const std::string &name, const open_options &o)
{
    auto r = port::open(name, o);
    if (!r) {
        ADD_FAILURE() << "open " << name << ": " << r.err().describe();
        return std::nullopt;
    }
    return std::move(r).value();
}

std::string daemon_test::default_limits()
{
    return "buf_size 2048\n"
           "region_buffers 32768\n"
           "default_slots 1024\n"
           "max_slots 16384\n"
           "max_rings 8\n"
           "max_extra_bufs 4096\n";
}

std::string daemon_test::config_text() const { return default_limits() + "allow uid=65534 netmap:pipe*\n"; }

void daemon_test::SetUp()
{
    if (!is_root_with_setpriv())
        GTEST_SKIP() << "integration tests need root (to run netringd) and setpriv (to run clients as uid 65534)";
    char tmpl[] = "/tmp/netring-it-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr) << std::strerror(errno);
    dir_ = tmpl;
    // uid 65534 must reach the socket inside.
    ASSERT_EQ(::chmod(dir_.c_str(), 0755), 0) << std::strerror(errno);
    socket_path_ = dir_ + "/netringd.sock";
    {
        std::ofstream cfg(dir_ + "/netringd.conf");
        cfg << config_text();
    }
    ASSERT_TRUE(start_daemon()) << "netringd did not start; its stderr:\n" << daemon_log();
}

void daemon_test::TearDown()
{
    if (daemon_pid_ > 0 && !daemon_reaped_)
        stop_daemon();
    if (!dir_.empty()) {
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }
}

std::string daemon_test::daemon_log() const { return tail_of(read_file(dir_ + "/netringd.err"), 4000); }

bool daemon_test::start_daemon(const std::vector<std::pair<std::string, int>> &passed)
{
    const std::string bin = binary_path("/daemon/netringd");
    if (::access(bin.c_str(), X_OK) != 0) {
        ADD_FAILURE() << bin << " is missing (build the netringd target)";
        return false;
    }
    // Passed fds are copied above the range they go to first, so that placing one never
    // overwrites another's source.
    std::vector<unique_fd> high;
    for (const auto &[name, fd] : passed)
        high.emplace_back(::fcntl(fd, F_DUPFD_CLOEXEC, 3 + static_cast<int>(passed.size())));
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, (dir_ + "/netringd.out").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, 2, (dir_ + "/netringd.err").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    std::string names;
    for (size_t i = 0; i < passed.size(); i++) {
        posix_spawn_file_actions_adddup2(&fa, high[i].get(), 3 + static_cast<int>(i)); // clears close-on-exec
        names += (i ? ":" : "") + passed[i].first;
    }
    posix_spawn_file_actions_addclosefrom_np(&fa, 3 + static_cast<int>(passed.size()));
    const std::string cfg = dir_ + "/netringd.conf";
    std::vector<std::string> args = {bin, "--socket", socket_path_, "--config", cfg};
    std::vector<std::string> env_strings = daemon_env;
    if (!passed.empty()) {
        // LISTEN_PID must be the daemon's own: a shell that knows its PID execs netringd.
        args.insert(args.begin(), {"/bin/sh", "-c", "LISTEN_PID=$$ exec \"$0\" \"$@\""});
        env_strings.push_back("LISTEN_FDS=" + std::to_string(passed.size()));
        env_strings.push_back("LISTEN_FDNAMES=" + names);
    }
    std::vector<char *> argv;
    for (auto &a : args)
        argv.push_back(a.data());
    argv.push_back(nullptr);
    std::vector<char *> envp;
    for (char **e = environ; *e; e++)
        envp.push_back(*e);
    for (auto &e : env_strings)
        envp.push_back(e.data());
    envp.push_back(nullptr);
    const int rc = ::posix_spawn(&daemon_pid_, argv[0], &fa, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
        daemon_pid_ = -1;
        ADD_FAILURE() << "posix_spawn " << bin << ": " << std::strerror(rc);
        return false;
    }
    // Ready when the socket accepts a connection; give up if the daemon exits first.
    return eventually(
        [&] {
            if (!daemon_reaped_) {
                int status = 0;
                if (::waitpid(daemon_pid_, &status, WNOHANG) == daemon_pid_) {
                    daemon_reaped_ = true;
                    ADD_FAILURE() << "netringd exited during startup (status " << status << ")";
                }
            }
            return daemon_reaped_ || can_connect(socket_path_);
        },
        10s) && !daemon_reaped_;
}

void daemon_test::stop_daemon()
{
    ::kill(daemon_pid_, SIGTERM);
    auto st = wait_pid(daemon_pid_, 10s);
    if (!st) {
        ::kill(daemon_pid_, SIGKILL);
        int status = 0;
        ::waitpid(daemon_pid_, &status, 0);
        daemon_reaped_ = true;
        ADD_FAILURE() << "netringd did not exit within 10 s of SIGTERM; stderr:\n" << daemon_log();
        return;
    }
    daemon_reaped_ = true;
    EXPECT_TRUE(WIFEXITED(*st) && WEXITSTATUS(*st) == 0)
        << "netringd after SIGTERM: status " << *st << "; stderr:\n"
        << daemon_log();
    EXPECT_NE(::access(socket_path_.c_str(), F_OK), 0) << "netringd left its socket behind";
}

bool daemon_test::daemon_alive() const
{
    if (daemon_pid_ <= 0 || daemon_reaped_)
        return false;
    // A zombie still answers kill(0): ask waitid, without reaping, whether it has exited.
    siginfo_t info{};
    if (::waitid(P_PID, daemon_pid_, &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == daemon_pid_)
        return false;
    return ::kill(daemon_pid_, 0) == 0;
}

void daemon_test::kill_daemon()
{
    ASSERT_GT(daemon_pid_, 0);
    ASSERT_FALSE(daemon_reaped_);
    ::kill(daemon_pid_, SIGKILL);
    int status = 0;
    ::waitpid(daemon_pid_, &status, 0);
    daemon_reaped_ = true;
}

bool daemon_test::restart_daemon(const std::vector<std::pair<std::string, int>> &passed)
{
    if (daemon_pid_ <= 0 || !daemon_reaped_) {
        ADD_FAILURE() << "restart_daemon() needs a daemon killed by kill_daemon()";
        return false;
    }
    daemon_reaped_ = false;
    if (start_daemon(passed))
        return true;
    ADD_FAILURE() << "the new netringd did not start; its stderr:\n" << daemon_log();
    return false;
}

std::unique_ptr<child> daemon_test::spawn(const std::vector<std::string> &command, bool as_nobody)
{
    std::vector<std::string> args;
    if (as_nobody)
        args = {"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"};
    args.insert(args.end(), command.begin(), command.end());
    const std::string tag = dir_ + "/child" + std::to_string(++spawned_);
    const std::string out = tag + ".out", err = tag + ".err";

    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    // The test process may hold ports (control sockets, memfds): children must not keep them open.
    posix_spawn_file_actions_addclosefrom_np(&fa, 3);
    std::vector<char *> argv;
    for (auto &a : args)
        argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = -1;
    const int rc = ::posix_spawnp(&pid, argv[0], &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
        ADD_FAILURE() << "posix_spawn " << args[0] << ": " << std::strerror(rc);
        return nullptr;
    }
    return std::make_unique<child>(pid, out, err);
}

std::unique_ptr<child> daemon_test::pktgen(std::vector<std::string> args)
{
    args.insert(args.begin(), binary_path("/tools/netring-pktgen"));
    args.push_back("--socket");
    args.push_back(socket_path_);
    return spawn(args, true);
}

std::unique_ptr<child> daemon_test::ctl(std::vector<std::string> args)
{
    args.insert(args.begin(), {binary_path("/tools/netring-ctl"), "--socket", socket_path_});
    return spawn(args, false);
}

daemon_stats daemon_test::stats()
{
    auto s = query_stats(socket_path_);
    if (!s) {
        ADD_FAILURE() << "STATS failed: " << s.err().describe();
        return {};
    }
    return std::move(s).value();
}

std::optional<region_stats> daemon_test::find_region(const daemon_stats &s, const std::string &name)
{
    for (const auto &r : s.regions)
        if (r.name == name)
            return r;
    return std::nullopt;
}

bool daemon_test::has_registration_of(const daemon_stats &s, pid_t pid)
{
    for (const auto &r : s.registrations)
        if (r.pid == static_cast<uint32_t>(pid))
            return true;
    return false;
}

bool daemon_test::wait_registered(pid_t pid, std::chrono::milliseconds timeout)
{
    return eventually(
        [&] {
            auto s = query_stats(socket_path_);
            return s && has_registration_of(s.value(), pid);
        },
        timeout);
}

open_options daemon_test::options(sync_mode mode) const
{
    open_options o;
    o.socket_path = socket_path_;
    o.sync = mode;
    return o;
}

} // namespace netring::itest
