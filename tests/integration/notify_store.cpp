#include "notify_store.hpp"

#include <linux/kcmp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <sstream>

namespace netring::itest {
namespace {

bool same_file(int a, int b)
{
    const pid_t me = ::getpid();
    return ::syscall(SYS_kcmp, me, me, KCMP_FILE, a, b) == 0;
}

} // namespace

notify_store::notify_store()
{
    char tmpl[] = "/tmp/netring-notify-XXXXXX";
    if (!::mkdtemp(tmpl))
        return;
    dir_ = tmpl;
    path_ = dir_ + "/notify";
    sock_ = unique_fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strncpy(a.sun_path, path_.c_str(), sizeof a.sun_path - 1);
    if (!sock_.valid() || ::bind(sock_.get(), reinterpret_cast<sockaddr *>(&a), sizeof a) != 0) {
        sock_ = unique_fd();
        return;
    }
    reader_ = std::thread([this] { read_loop(); });
}

notify_store::~notify_store()
{
    stop_ = true;
    if (reader_.joinable())
        reader_.join();
    if (!dir_.empty()) {
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }
}

void notify_store::read_loop()
{
    while (!stop_) {
        pollfd p{sock_.get(), POLLIN, 0};
        if (::poll(&p, 1, 50) <= 0)
            continue;
        char text[4096];
        alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * 253)];
        iovec iov{text, sizeof text - 1};
        msghdr m{};
        m.msg_iov = &iov;
        m.msg_iovlen = 1;
        m.msg_control = control;
        m.msg_controllen = sizeof control;
        const ssize_t n = ::recvmsg(sock_.get(), &m, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
        if (n < 0)
            continue;
        std::vector<unique_fd> passed;
        for (cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
            if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
                continue;
            const size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            for (size_t i = 0; i < count; i++) {
                int fd;
                std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
                passed.emplace_back(fd);
            }
        }
        take(std::string(text, static_cast<size_t>(n)), std::move(passed));
    }
}

void notify_store::take(const std::string &text, std::vector<unique_fd> passed)
{
    bool store = false, remove = false;
    std::string name = "stored"; // systemd's name for an fd stored without FDNAME=
    std::istringstream lines(text);
    std::lock_guard<std::mutex> lock(mu_);
    for (std::string line; std::getline(lines, line);) {
        if (line == "FDSTORE=1")
            store = true;
        else if (line == "FDSTOREREMOVE=1")
            remove = true;
        else if (line.starts_with("FDNAME="))
            name = line.substr(7);
        else if (line.starts_with("STATUS="))
            status_ = line.substr(7);
        else if (line == "READY=1")
            ready_++;
    }
    if (store && remove)
        problems_ += "FDSTORE=1 and FDSTOREREMOVE=1 in one message; ";
    if (!passed.empty() && !store)
        problems_ += "fds passed without FDSTORE=1: " + text + "; ";
    if (remove)
        std::erase_if(store_, [&](const auto &e) { return e.first == name; });
    if (!store)
        return;
    for (unique_fd &fd : passed) {
        bool held = false;
        for (const auto &e : store_)
            held = held || same_file(e.second.get(), fd.get());
        if (!held)
            store_.emplace_back(name, std::move(fd));
    }
}

std::vector<std::pair<std::string, int>> notify_store::fds() const
{
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<std::pair<std::string, int>> out;
    for (const auto &[name, fd] : store_)
        out.emplace_back(name, fd.get());
    return out;
}

size_t notify_store::count(const std::string &name) const
{
    std::lock_guard<std::mutex> lock(mu_);
    size_t n = 0;
    for (const auto &e : store_)
        n += e.first == name;
    return n;
}

std::string notify_store::status() const
{
    std::lock_guard<std::mutex> lock(mu_);
    return status_;
}

unsigned notify_store::ready() const
{
    std::lock_guard<std::mutex> lock(mu_);
    return ready_;
}

std::string notify_store::problems() const
{
    std::lock_guard<std::mutex> lock(mu_);
    return problems_;
}

} // namespace netring::itest
