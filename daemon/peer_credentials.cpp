#include "peer_credentials.hpp"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace netring::netringd {
namespace {

std::vector<gid_t> peer_groups(int fd, const logger &log)
{
    std::vector<gid_t> groups(16);
    for (int tries = 0; tries < 4; tries++) {
        socklen_t len = static_cast<socklen_t>(groups.size() * sizeof(gid_t));
        if (::getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups.data(), &len) == 0) {
            groups.resize(len / sizeof(gid_t));
            return groups;
        }
        if (errno != ERANGE) {
            log.error("SO_PEERGROUPS failed (" + std::string(std::strerror(errno)) +
                      "): only the primary group counts for this client");
            return {};
        }
        groups.resize(len / sizeof(gid_t) + 1); // the kernel said how much room it needs
    }
    return {};
}

} // namespace

result<peer_credentials> read_peer_credentials(int fd, const logger &log)
{
    ucred cred{};
    socklen_t len = sizeof cred;
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0)
        return error::from_errno(errno, "SO_PEERCRED");
    peer_credentials p;
    p.pid = cred.pid;
    p.uid = cred.uid;
    p.gid = cred.gid;
    p.groups = peer_groups(fd, log);
    return p;
}

} // namespace netring::netringd
