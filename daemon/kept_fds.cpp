#include "kept_fds.hpp"

#include <systemd/sd-daemon.h>

#include <fcntl.h>
#include <linux/kcmp.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdlib>

namespace netring::netringd {
namespace {

std::string fd_name(uint32_t id) { return "fd." + std::to_string(id); }

// 1 when a and b are the same open file, 0 when not, -1 when kcmp cannot tell.
int same_file(int a, int b)
{
    const pid_t me = ::getpid();
    const long r = ::syscall(SYS_kcmp, me, me, KCMP_FILE, a, b);
    return r < 0 ? -1 : r == 0 ? 1 : 0;
}

bool kcmp_works()
{
    unique_fd probe(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    if (!probe.valid())
        return false;
    unique_fd copy(::fcntl(probe.get(), F_DUPFD_CLOEXEC, 3));
    return copy.valid() && same_file(probe.get(), copy.get()) == 1;
}

unique_fd duplicate(int fd) { return unique_fd(::fcntl(fd, F_DUPFD_CLOEXEC, 3)); }

} // namespace

bool kept_fds::store_in_environment()
{
    const char *s = std::getenv("NOTIFY_SOCKET");
    return s && *s;
}

kept_fds::kept_fds(bool use_store) : store_(use_store && kcmp_works()) {}

void kept_fds::adopted(uint32_t id, int fd)
{
    entry e;
    e.fd = fd;
    e.dup = duplicate(fd);
    e.named = true;
    e.pushed = true; // the store gave it (or the predecessor pushed it under this name)
    entries_[id] = std::move(e);
    by_number_[fd] = id;
    reserve_ids(id + 1);
}

void kept_fds::reserve_ids(uint32_t next)
{
    if (next > next_id_)
        next_id_ = next;
}

void kept_fds::begin_round()
{
    for (auto &[id, e] : entries_)
        e.named = false;
}

uint32_t kept_fds::id_of(int fd)
{
    if (auto hint = by_number_.find(fd); hint != by_number_.end()) {
        auto it = entries_.find(hint->second);
        if (it != entries_.end() && it->second.fd == fd && it->second.dup.valid() &&
            same_file(fd, it->second.dup.get()) == 1) {
            it->second.named = true;
            return it->first;
        }
    }
    const uint32_t id = next_id_++;
    entry e;
    e.fd = fd;
    e.dup = duplicate(fd);
    e.named = true;
    entries_[id] = std::move(e);
    by_number_[fd] = id;
    return id;
}

status kept_fds::push_new()
{
    for (auto &[id, e] : entries_) {
        if (!e.named || e.pushed)
            continue;
        if (store_) {
            if (!e.dup.valid())
                return error::from(errc::internal, "kept fd " + fd_name(id) + " could not be duplicated");
            if (auto s = send(fd_name(id), e.dup.get()); !s)
                return s;
        }
        e.pushed = true;
    }
    return ok_status();
}

void kept_fds::drop_unnamed()
{
    for (auto it = entries_.begin(); it != entries_.end();) {
        if (it->second.named) {
            ++it;
            continue;
        }
        if (store_ && it->second.pushed)
            remove(fd_name(it->first));
        if (auto n = by_number_.find(it->second.fd); n != by_number_.end() && n->second == it->first)
            by_number_.erase(n);
        it = entries_.erase(it);
    }
}

std::vector<std::pair<uint32_t, int>> kept_fds::current() const
{
    std::vector<std::pair<uint32_t, int>> out;
    for (const auto &[id, e] : entries_)
        if (e.named)
            out.emplace_back(id, e.fd);
    return out;
}

status kept_fds::send(const std::string &name, int fd)
{
    const std::string msg = "FDSTORE=1\nFDNAME=" + name;
    const int r = ::sd_pid_notify_with_fds(0, 0, msg.c_str(), &fd, 1);
    if (r < 0)
        return error::from_errno(-r, "cannot put " + name + " in the fd store");
    return ok_status();
}

status kept_fds::push(const std::string &name, int fd)
{
    if (!store_)
        return ok_status();
    if (auto s = send(name, fd); !s)
        return s;
    named_pushed_.push_back(name);
    return ok_status();
}

void kept_fds::held(const std::string &name)
{
    if (store_)
        named_pushed_.push_back(name);
}

void kept_fds::remove(const std::string &name)
{
    if (!store_)
        return;
    const std::string msg = "FDSTOREREMOVE=1\nFDNAME=" + name;
    (void)::sd_notify(0, msg.c_str()); // nothing to do about a store that cannot be reached
}

void kept_fds::remove_all()
{
    for (auto &[id, e] : entries_)
        if (e.pushed)
            remove(fd_name(id));
    entries_.clear();
    by_number_.clear();
    for (const std::string &name : named_pushed_)
        remove(name);
    named_pushed_.clear();
}

} // namespace netring::netringd
