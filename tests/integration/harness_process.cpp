// Processes started by the tests (child) and small readers of /proc and of pktgen's JSON.
#include "harness.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace netring::itest {

using namespace std::chrono_literals;

namespace detail {

std::string read_file(const std::string &path)
{
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

std::string tail_of(const std::string &text, size_t max)
{
    return text.size() <= max ? text : "..." + text.substr(text.size() - max);
}

std::optional<int> wait_pid(pid_t pid, std::chrono::milliseconds timeout)
{
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        int status = 0;
        const pid_t r = ::waitpid(pid, &status, WNOHANG);
        if (r == pid)
            return status;
        if (r < 0 && errno != EINTR)
            return std::nullopt;
        if (std::chrono::steady_clock::now() >= deadline)
            return std::nullopt;
        std::this_thread::sleep_for(10ms);
    }
}

} // namespace detail

using detail::read_file;
using detail::tail_of;
using detail::wait_pid;


std::string binary_path(const std::string &relative) { return std::string(NETRING_BINARY_DIR) + relative; }

std::string child_result::describe() const
{
    std::string s;
    if (timed_out)
        s = "timed out and was killed";
    else if (exited)
        s = "exit " + std::to_string(exit_code);
    else
        s = "killed by signal " + std::to_string(signal);
    return s + "; stdout: " + tail_of(out, 600) + "; stderr: " + tail_of(err);
}

// ---- child ----

child::child(pid_t pid, std::string out_path, std::string err_path)
    : pid_(pid), out_path_(std::move(out_path)), err_path_(std::move(err_path))
{
}

child::~child()
{
    if (!reaped_ && pid_ > 0) {
        ::kill(pid_, SIGKILL);
        int status = 0;
        ::waitpid(pid_, &status, 0);
    }
}

void child::reap(int status)
{
    reaped_ = true;
    status_ = status;
}

bool child::running()
{
    if (reaped_)
        return false;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        reap(status);
        return false;
    }
    return true;
}

void child::signal(int sig)
{
    if (!reaped_)
        ::kill(pid_, sig);
}

std::string child::read_err() const { return read_file(err_path_); }

child_result child::wait(std::chrono::milliseconds timeout)
{
    child_result r;
    if (!reaped_) {
        if (auto st = wait_pid(pid_, timeout)) {
            reap(*st);
        } else {
            ::kill(pid_, SIGKILL);
            int status = 0;
            ::waitpid(pid_, &status, 0);
            reap(status);
            r.timed_out = true;
        }
    }
    r.exited = WIFEXITED(status_);
    r.exit_code = r.exited ? WEXITSTATUS(status_) : -1;
    r.signal = WIFSIGNALED(status_) ? WTERMSIG(status_) : 0;
    r.out = read_file(out_path_);
    r.err = read_file(err_path_);
    if (r.timed_out)
        ADD_FAILURE() << "process " << pid_ << " did not finish within " << timeout.count() << " ms; "
                      << r.describe();
    return r;
}

// ---- small readers ----

std::optional<double> json_number(const std::string &json, const std::string &key)
{
    const std::string quoted = "\"" + key + "\"";
    size_t pos = json.find(quoted);
    if (pos == std::string::npos)
        return std::nullopt;
    pos = json.find(':', pos + quoted.size());
    if (pos == std::string::npos)
        return std::nullopt;
    const char *start = json.c_str() + pos + 1;
    char *end = nullptr;
    const double v = std::strtod(start, &end);
    if (end == start)
        return std::nullopt;
    return v;
}

void expect_received_whole(const child_result &r, uint64_t frames, const std::string &context)
{
    ASSERT_TRUE(r.exited && r.exit_code == 0) << "netring-pktgen rx: " << r.describe() << "\n" << context;
    EXPECT_EQ(json_number(r.out, "packets"), static_cast<double>(frames)) << r.out << "\n" << context;
    EXPECT_EQ(json_number(r.out, "lost"), 0.0) << r.out;
    EXPECT_EQ(json_number(r.out, "corrupt"), 0.0) << r.out;
    EXPECT_EQ(json_number(r.out, "duplicate"), 0.0) << r.out;
}

std::optional<uint64_t> cpu_ticks(pid_t pid)
{
    const std::string text = read_file("/proc/" + std::to_string(pid) + "/stat");
    const size_t paren = text.rfind(')');
    if (paren == std::string::npos)
        return std::nullopt;
    // After the command name: field 3 (state) onwards; utime and stime are fields 14 and 15.
    std::istringstream in(text.substr(paren + 1));
    std::string field;
    uint64_t utime = 0, stime = 0;
    for (int n = 3; n <= 15 && (in >> field); n++) {
        if (n == 14)
            utime = std::stoull(field);
        if (n == 15)
            stime = std::stoull(field);
    }
    return utime + stime;
}

int open_fd_count(pid_t pid)
{
    std::error_code ec;
    int n = 0;
    for (auto it = std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec);
         !ec && it != std::filesystem::directory_iterator(); it.increment(ec))
        n++;
    return ec ? -1 : n;
}

bool eventually(const std::function<bool()> &pred, std::chrono::milliseconds timeout)
{
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        if (pred())
            return true;
        if (std::chrono::steady_clock::now() >= deadline)
            return false;
        std::this_thread::sleep_for(20ms);
    }
}

} // namespace netring::itest
