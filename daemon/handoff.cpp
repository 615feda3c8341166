#include "handoff.hpp"

#include <systemd/sd-daemon.h>

#include <fcntl.h>
#include <linux/close_range.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>

namespace netring::netringd {

std::map<std::string, unique_fd> take_inherited_fds()
{
    std::map<std::string, unique_fd> out;
    char **names = nullptr;
    const int n = ::sd_listen_fds_with_names(1, &names); // also checks LISTEN_PID is ours
    for (int i = 0; i < n; i++) {
        unique_fd fd(SD_LISTEN_FDS_START + i);
        const std::string name = names && names[i] ? names[i] : "";
        if (!name.empty() && name != "unknown" && !out.count(name))
            out.emplace(name, std::move(fd));
    }
    if (names) {
        for (int i = 0; i < n; i++)
            std::free(names[i]);
        std::free(static_cast<void *>(names));
    }
    return out;
}

std::string own_executable()
{
    char buf[PATH_MAX];
    const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

exec_failure exec_successor(const std::string &exe, char *const argv[],
                            const std::vector<std::pair<std::string, int>> &fds)
{
    if (exe.empty() || ::access(exe.c_str(), X_OK) != 0)
        return {error::from_errno(errno ? errno : ENOENT, "cannot execute '" + exe + "'"), false};
    std::string names;
    for (const auto &[name, fd] : fds) {
        if (name.empty() || name.find(':') != std::string::npos || fd < 0)
            return {error::from(errc::internal, "kept fd name '" + name + "' cannot be passed"), false};
        names += (names.empty() ? "" : ":") + name;
    }
    // Copies above the target range first, so that moving one fd never overwrites another's source.
    const int n = static_cast<int>(fds.size());
    std::vector<int> high;
    for (const auto &[name, fd] : fds) {
        const int h = ::fcntl(fd, F_DUPFD_CLOEXEC, SD_LISTEN_FDS_START + n);
        if (h < 0) {
            const int err = errno;
            for (int c : high)
                ::close(c);
            return {error::from_errno(err, "copying kept fd " + name), false};
        }
        high.push_back(h);
    }
    for (int i = 0; i < n; i++) {
        if (::dup2(high[static_cast<size_t>(i)], SD_LISTEN_FDS_START + i) < 0) // no close-on-exec
            return {error::from_errno(errno, "moving kept fd " + fds[static_cast<size_t>(i)].first), true};
    }
    // Whatever else is open (client connections: Boost.Asio accepts them without close-on-exec)
    // must not reach the successor: its clients would never see the connection close.
    if (::close_range(static_cast<unsigned>(SD_LISTEN_FDS_START + n), ~0u, CLOSE_RANGE_CLOEXEC) != 0)
        return {error::from_errno(errno, "marking the fds to close at exec"), true};
    ::setenv("LISTEN_FDS", std::to_string(n).c_str(), 1);
    ::setenv("LISTEN_PID", std::to_string(::getpid()).c_str(), 1);
    ::setenv("LISTEN_FDNAMES", names.c_str(), 1);
    ::execv(exe.c_str(), argv);
    return {error::from_errno(errno, "exec " + exe), true};
}

} // namespace netring::netringd
