// The terminal side of `netring-ctl top`: raw keyboard input, redraws, signals. What it shows is
// top_view's.
#include "top.hpp"

#include "top_view.hpp"

#include <poll.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <thread>

namespace netring::ctl {
namespace {

volatile std::sig_atomic_t stop_signal = 0;

void on_stop_signal(int sig) { stop_signal = sig; }

// Keys arrive one at a time and unechoed while this lives; the saved mode comes back when it goes,
// whichever way run_top leaves. The alternate screen keeps the shell's scrollback as it was.
class raw_terminal {
public:
    raw_terminal()
    {
        if (::tcgetattr(STDIN_FILENO, &saved_) != 0)
            return;
        termios raw = saved_;
        raw.c_lflag &= ~static_cast<tcflag_t>(ICANON | ECHO);
        raw.c_cc[VMIN] = 0;
        raw.c_cc[VTIME] = 0;
        active_ = ::tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
        std::fputs("\x1b[?1049h\x1b[?25l", stdout); // alternate screen, cursor hidden
        std::fflush(stdout);
    }
    ~raw_terminal()
    {
        std::fputs("\x1b[?25h\x1b[?1049l", stdout);
        std::fflush(stdout);
        if (active_)
            ::tcsetattr(STDIN_FILENO, TCSANOW, &saved_);
    }
    raw_terminal(const raw_terminal &) = delete;
    raw_terminal &operator=(const raw_terminal &) = delete;

private:
    termios saved_{};
    bool active_ = false;
};

// SIGINT and SIGTERM end the loop (poll returns EINTR) instead of the process, so the terminal is
// restored; the previous handlers come back afterwards.
class stop_signals {
public:
    stop_signals()
    {
        struct sigaction sa{};
        sa.sa_handler = on_stop_signal;
        sigemptyset(&sa.sa_mask);
        sa.sa_flags = 0; // no SA_RESTART: the wait must return
        ::sigaction(SIGINT, &sa, &old_int_);
        ::sigaction(SIGTERM, &sa, &old_term_);
    }
    ~stop_signals()
    {
        ::sigaction(SIGINT, &old_int_, nullptr);
        ::sigaction(SIGTERM, &old_term_, nullptr);
    }
    stop_signals(const stop_signals &) = delete;
    stop_signals &operator=(const stop_signals &) = delete;

private:
    struct sigaction old_int_{}, old_term_{};
};

size_t terminal_lines()
{
    winsize ws{};
    if (::ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 1)
        return ws.ws_row - 1u;
    return 0;
}

// Waits up to `ms` for a key; true when it was `q` (or Q).
bool quit_key_within(int ms)
{
    pollfd p{STDIN_FILENO, POLLIN, 0};
    if (::poll(&p, 1, ms) <= 0)
        return false;
    char keys[32];
    const ssize_t n = ::read(STDIN_FILENO, keys, sizeof keys);
    if (n == 0)
        return false;
    for (ssize_t i = 0; i < n; i++)
        if (keys[i] == 'q' || keys[i] == 'Q')
            return true;
    return false;
}

// Writes a whole frame at once; stdout is line-buffered on a terminal and would otherwise go out
// a line at a time.
void show_frame(const std::string &frame)
{
    std::fflush(stdout);
    const char *p = frame.data();
    size_t left = frame.size();
    while (left > 0) {
        const ssize_t n = ::write(STDOUT_FILENO, p, left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return; // the terminal went away; the next sample or key ends the loop
        p += n;
        left -= static_cast<size_t>(n);
    }
}

} // namespace

int run_top(const std::string &socket_path, double interval_s, bool once)
{
    using clock = std::chrono::steady_clock;
    std::string failure; // printed once the terminal is back to normal
    auto sample = [&socket_path, &failure](daemon_stats &out) {
        auto s = query_stats(socket_path);
        if (!s) {
            failure = s.err().describe();
            return false;
        }
        out = std::move(s.value());
        return true;
    };
    const auto interval = std::chrono::duration<double>(interval_s);

    auto failed = [&failure] {
        std::fprintf(stderr, "netring-ctl: %s\n", failure.c_str());
        return 1;
    };
    daemon_stats before, after;
    if (once) {
        if (!sample(before))
            return failed();
        const auto t0 = clock::now();
        std::this_thread::sleep_for(interval);
        if (!sample(after))
            return failed();
        const double seconds = std::chrono::duration<double>(clock::now() - t0).count();
        std::fputs(top_screen(after, top_rates(before, after, seconds), seconds).c_str(), stdout);
        return 0;
    }

    if (!sample(before))
        return failed();
    stop_signal = 0;
    stop_signals signals;
    bool ok = true;
    {
        raw_terminal term;
        auto t0 = clock::now();
        for (;;) {
            const auto due = t0 + std::chrono::duration_cast<clock::duration>(interval);
            bool quit = false;
            while (!quit && stop_signal == 0 && clock::now() < due) {
                const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(due - clock::now());
                quit = quit_key_within(static_cast<int>(left.count()) + 1);
            }
            if (quit || stop_signal != 0)
                break;
            if (!sample(after)) {
                ok = false;
                break;
            }
            const auto t1 = clock::now();
            const double seconds = std::chrono::duration<double>(t1 - t0).count();
            const std::string screen = top_screen(after, top_rates(before, after, seconds), seconds, terminal_lines());
            // Home, clear, the frame: one write, so that a terminal never shows half a frame.
            show_frame("\x1b[H\x1b[2J" + screen + "\n(q quits)");
            before = std::move(after);
            t0 = t1;
        }
    } // the terminal is restored before anything more is printed
    return ok ? 0 : failed();
}

} // namespace netring::ctl
