// Who is at the other end of a client connection, as the kernel vouches for it: SO_PEERCRED (pid,
// uid, gid at connect time) and SO_PEERGROUPS (the supplementary groups then), so that `gid=N` in
// the policy also matches a member of N whose primary group is another.
#pragma once

#include "log.hpp"

#include <netring/error.hpp>

#include <sys/types.h>

#include <vector>

namespace netring::netringd {

struct peer_credentials {
    pid_t pid = 0;
    uid_t uid = 0;
    gid_t gid = 0;
    std::vector<gid_t> groups; // empty when the kernel could not say (only the primary group counts)
};

// Fails only without SO_PEERCRED; a failing SO_PEERGROUPS is logged and leaves `groups` empty.
result<peer_credentials> read_peer_credentials(int fd, const logger &log);

} // namespace netring::netringd
