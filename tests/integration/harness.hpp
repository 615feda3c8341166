// Integration-test harness: a real netringd on a temporary socket, and tools run as uid/gid 65534.
//
//   class my_test : public netring::itest::daemon_test {};      // SetUp starts the daemon
//   TEST_F(my_test, x) {
//       auto rx = pktgen({"-i", "netmap:pipeA}1", "-f", "rx", "-n", "10", "--json"});
//       auto r = rx->wait(std::chrono::seconds(60));              // kills and fails on timeout
//       EXPECT_EQ(json_number(r.out, "packets"), 10);
//   }
//
// The fixture skips unless it runs as root with setpriv available. It owns exactly the processes it
// started and signals them by PID only; teardown stops the daemon with SIGTERM and expects exit 0
// (unless the test killed it on purpose with kill_daemon()).
#pragma once

#include <netring/netring.hpp>

#include <gtest/gtest.h>

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace netring::itest {

inline constexpr uid_t nobody_uid = 65534;

// NETRING_BINARY_DIR + relative path ("/tools/netring-pktgen").
std::string binary_path(const std::string &relative);

// port::open, adding a test failure (with the daemon's sentence) when it fails.
std::optional<port> open_port(const std::string &name, const open_options &o);

// How a child ended, with what it wrote.
struct child_result {
    bool exited = false; // normal exit (else killed by a signal, or still running)
    int exit_code = -1;
    int signal = 0;
    bool timed_out = false;
    std::string out;
    std::string err;

    std::string describe() const; // "exit 1; stderr: ..." for assertion messages
};

// A process this test started (posix_spawn). Destruction kills it by PID if it is still running.
class child {
public:
    child(pid_t pid, std::string out_path, std::string err_path);
    child(const child &) = delete;
    child &operator=(const child &) = delete;
    ~child();

    pid_t pid() const { return pid_; }
    bool running();              // reaps the child when it has exited
    void signal(int sig);        // by PID, only while it has not been reaped
    // Waits up to `timeout`; on timeout the child is killed (SIGKILL by PID) and the test fails.
    child_result wait(std::chrono::milliseconds timeout);
    std::string read_err() const; // stderr so far

private:
    void reap(int status);

    pid_t pid_;
    bool reaped_ = false;
    int status_ = 0;
    std::string out_path_;
    std::string err_path_;
};

// The first number after "key": in a flat one-line JSON object.
std::optional<double> json_number(const std::string &json, const std::string &key);
// A netring-pktgen -f rx --json receiver's verdict: it exited 0 having received `frames`, none
// lost, corrupt or duplicate. `context` is added to each failure (a log, the switch's counters).
void expect_received_whole(const child_result &r, uint64_t frames, const std::string &context = "");

// utime + stime of a process, in clock ticks (/proc/PID/stat); nullopt when it is gone.
std::optional<uint64_t> cpu_ticks(pid_t pid);
// Entries in /proc/PID/fd; -1 when unreadable.
int open_fd_count(pid_t pid);

// Polls `pred` every 20 ms until it holds or `timeout` passes; returns its last value.
bool eventually(const std::function<bool()> &pred, std::chrono::milliseconds timeout);

// Shared by the harness's two files (harness_process.cpp: processes and readers; harness.cpp: the
// daemon fixture).
namespace detail {
std::string read_file(const std::string &path);
std::string tail_of(const std::string &text, size_t max = 2000);
// The waitpid status of `pid` if it ends within `timeout` (the process is reaped).
std::optional<int> wait_pid(pid_t pid, std::chrono::milliseconds timeout);
} // namespace detail

class daemon_test : public ::testing::Test {
protected:
    void SetUp() override;
    void TearDown() override;

    // The config the daemon starts with; override for another policy.
    virtual std::string config_text() const;
    static std::string default_limits(); // buf_size, region_buffers, slots, rings lines

    const std::string &dir() const { return dir_; }
    const std::string &socket_path() const { return socket_path_; }
    pid_t daemon_pid() const { return daemon_pid_; }
    bool daemon_alive() const;

    // SIGKILLs the daemon this fixture started and reaps it; teardown then expects nothing more.
    void kill_daemon();
    // After kill_daemon(): starts a new netringd on the same socket and config (it replaces the
    // stale socket file); teardown then stops it as the first. False if it did not come up.
    // `passed` (name, fd) reach it as a service manager passes fds: at 3, 4, ... with LISTEN_FDS,
    // LISTEN_FDNAMES and LISTEN_PID (its stderr log starts anew).
    bool restart_daemon(const std::vector<std::pair<std::string, int>> &passed = {});
    // "NAME=value" entries added to every netringd's environment; set before SetUp starts one.
    std::vector<std::string> daemon_env;

    // Starts argv[0] with the rest as arguments; as uid/gid 65534 through setpriv when `as_nobody`.
    std::unique_ptr<child> spawn(const std::vector<std::string> &argv, bool as_nobody);
    // netring-pktgen as uid 65534 against this fixture's socket.
    std::unique_ptr<child> pktgen(std::vector<std::string> args);
    // netring-ctl (as root) against this fixture's socket.
    std::unique_ptr<child> ctl(std::vector<std::string> args);

    // STATS through libnetring; fails the test (and returns an empty record) on error.
    daemon_stats stats();
    // The region's record in a STATS answer, if present.
    static std::optional<region_stats> find_region(const daemon_stats &s, const std::string &name);
    static bool has_registration_of(const daemon_stats &s, pid_t pid);
    // Waits until process `pid` holds a registration (it opened its port).
    bool wait_registered(pid_t pid, std::chrono::milliseconds timeout = std::chrono::seconds(10));
    // open_options for an in-process client of this daemon.
    open_options options(sync_mode mode = sync_mode::shm) const;

    // The running netringd's stderr so far (its last 4000 bytes).
    std::string daemon_log() const;

private:
    bool start_daemon(const std::vector<std::pair<std::string, int>> &passed = {});
    void stop_daemon();

    std::string dir_;
    std::string socket_path_;
    pid_t daemon_pid_ = -1;
    bool daemon_reaped_ = false;
    unsigned spawned_ = 0;
};

} // namespace netring::itest
