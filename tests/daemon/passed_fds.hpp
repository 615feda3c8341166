// What the restart tests (registry_keep_test, nic_keep_test) hand a successor registry: a duplicate
// of every kept fd, by id, as exec or a service manager's fd store would pass them.
//
//   passed_fds fds(ids);                             // ids from registry::export_state
//   fresh.adopt_state(kept, fds.taker(), now_s);
#pragma once

#include <netring/unique_fd.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <functional>
#include <map>
#include <utility>
#include <vector>

namespace netring::netringd {

struct passed_fds {
    std::map<uint32_t, unique_fd> by_id;

    explicit passed_fds(const std::vector<std::pair<uint32_t, int>> &ids)
    {
        for (const auto &[id, fd] : ids)
            by_id.emplace(id, unique_fd(::dup(fd)));
    }
    std::function<unique_fd(uint32_t)> taker()
    {
        return [this](uint32_t id) {
            auto it = by_id.find(id);
            return it == by_id.end() ? unique_fd() : std::move(it->second);
        };
    }
};

// The inode of what `fd` names (0 if it cannot be read): the same memfd or eventfd comes back.
inline ino_t inode_of(int fd)
{
    struct stat st {};
    return ::fstat(fd, &st) == 0 ? st.st_ino : 0;
}

} // namespace netring::netringd
