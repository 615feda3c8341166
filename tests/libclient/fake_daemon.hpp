// Test fixture: a stand-in for netringd that serves one pipe ("netmap:pipeA{1" and
// "netmap:pipeA}1") on a temporary Unix socket, so libnetring's port can be tested without the
// real daemon. It speaks the protocol with libclient's own codec, hands out a memfd region built
// by fake_region and four eventfds (A.tx's kick is B.rx's notify, and so on), serves socket-mode
// TXSYNC/RXSYNC with rings::pipe_*sync, and on a client's EOF marks the other end's rings
// peer-gone and wakes it. `flaw` makes it send a broken REGIF reply on purpose.
#pragma once

#include "fake_region.hpp"

#include <netring/unique_fd.hpp>

#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace netring::test {

enum class regif_flaw {
    none,
    missing_fd,        // num_fds says 5, only 4 travel
    wrong_num_fds,     // num_fds says 7
    region_too_large,  // region_size beyond the memfd
    bad_if_offset,     // if_offset outside the metadata
    corrupt_ring_ofs,  // the if block's ring offset points outside the region
    wrong_slot_count,  // tx_slots in the reply differs from the ring
    error_status,      // an error reply: access_denied
};

class fake_daemon {
public:
    explicit fake_daemon(uint32_t num_slots = 8, regif_flaw flaw = regif_flaw::none);
    ~fake_daemon();
    fake_daemon(const fake_daemon &) = delete;
    fake_daemon &operator=(const fake_daemon &) = delete;

    const std::string &socket_path() const { return path_; }
    uint8_t *base() const { return map_.base(); }
    const fake_pipe_region &layout() const { return layout_; }
    // Stops accepting and closes every connection (clients see daemon_gone).
    void stop();
    int requests_served() const;
    // Returns once every session has ended (its socket closed).
    void wait_idle() const;

private:
    void accept_loop();
    void serve(int fd);
    void end_gone(int end);

    std::string dir_;
    std::string path_;
    fake_pipe_region layout_;
    regif_flaw flaw_;
    unique_fd memfd_;
    mapped_region map_;
    unique_fd ev_[4];
    unique_fd listen_;
    mutable std::mutex mu_;
    std::vector<int> clients_;
    int served_ = 0;
    bool stopped_ = false;
    std::vector<std::thread> threads_;
    std::thread acceptor_;
};

} // namespace netring::test
