// The service manager's side of the notify protocol, played by a test: a datagram socket that
// netringd finds in NOTIFY_SOCKET, and a file-descriptor store kept the way systemd keeps one
// (FDSTORE=1 adds the passed fds under FDNAME=, a file already held is not added twice,
// FDSTOREREMOVE=1 drops every fd of that name; READY=1 and STATUS= are remembered).
//
//   notify_store store;                         // before the daemon starts
//   env.push_back(store.env());                 // "NOTIFY_SOCKET=/tmp/.../notify"
//   ... eventually([&] { return store.status().starts_with("2 registrations"); }, 10s);
//   auto fds = store.fds();                     // (name, fd), in the order they were stored
//
// A thread reads the socket; every accessor takes a lock. The store's fds close with it.
#pragma once

#include <netring/unique_fd.hpp>

#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace netring::itest {

class notify_store {
public:
    notify_store();
    ~notify_store();
    notify_store(const notify_store &) = delete;
    notify_store &operator=(const notify_store &) = delete;

    bool ok() const { return sock_.valid(); }
    std::string env() const { return "NOTIFY_SOCKET=" + path_; }

    // The store now: (name, fd) in the order stored; the fds stay owned by the store.
    std::vector<std::pair<std::string, int>> fds() const;
    size_t count(const std::string &name) const;
    std::string status() const; // the last STATUS= value
    unsigned ready() const;     // READY=1 messages seen
    std::string problems() const; // messages the store could not make sense of

private:
    void read_loop();
    void take(const std::string &text, std::vector<unique_fd> passed);

    std::string dir_;
    std::string path_;
    unique_fd sock_;
    std::atomic<bool> stop_{false};
    mutable std::mutex mu_;
    std::vector<std::pair<std::string, unique_fd>> store_;
    std::string status_;
    unsigned ready_ = 0;
    std::string problems_;
    std::thread reader_; // last: starts once everything above exists
};

} // namespace netring::itest
