// Carrying fds from one netringd process to the next, in systemd's convention (fds from 3 up,
// LISTEN_FDS, LISTEN_FDNAMES, LISTEN_PID): the planned restart executes the daemon's own binary
// with them; systemd's fd store hands them back the same way (docs/RESTART.md).
//
//   auto kept = take_inherited_fds();             // at startup: name -> fd, environment cleared
//   exec_successor(exe, argv, {{"listen", fd}, ...});  // returns only on failure
#pragma once

#include <netring/error.hpp>
#include <netring/unique_fd.hpp>

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace netring::netringd {

// The fds a predecessor (or systemd) passed, by name; unnamed ones are closed. Close-on-exec is
// set on every one.
std::map<std::string, unique_fd> take_inherited_fds();

// The path of the running executable as it was started (resolved once, before any upgrade
// replaces the file: the successor is whatever the path names then).
std::string own_executable();

// Replaces this process by `exe` with `argv`, passing `fds` (name, fd) at 3, 4, ... Names must
// not contain ':'. Checks what it can before touching any fd; when exec itself fails after the
// fds were moved, the process cannot go on: the error says so and the caller exits.
struct exec_failure {
    error err;
    bool fds_moved = false; // the process's fds 3.. were replaced: it must exit
};
exec_failure exec_successor(const std::string &exe, char *const argv[],
                            const std::vector<std::pair<std::string, int>> &fds);

} // namespace netring::netringd
