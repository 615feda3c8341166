// Test fixture: a stand-in for netringd that serves one pipe ("netmap:pipeA{1" and
// "netmap:pipeA}1") on a temporary Unix socket, so libnetring's port can be tested without the
// real daemon. It speaks the protocol with libclient's own codec, hands out a memfd region built
// by fake_region and four eventfds (A.tx's kick is B.rx's notify, and so on), serves socket-mode
// TXSYNC/RXSYNC with rings::pipe_*sync, and on a client's EOF marks the other end's rings
// peer-gone and wakes it. `flaw` makes it send a broken REGIF reply on purpose.
// For the restart tests it can stop (every connection closes, nothing is marked, as a killed
// netringd leaves the rings) and start again on the same socket path, keeping its region and
// eventfds as a netringd that adopts its state does; it answers REATTACH as set_reattach says.
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

// How a restarted fake answers REATTACH (the token and reg_id are checked in every case).
enum class reattach_answer {
    accept,       // the same region and eventfds, as REG_QUERY would
    refuse,       // not_registered: a daemon that started empty
    other_region, // a reply naming another memfd of the same size: the client must refuse it
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
    // After stop(): listens on the same path again.
    void restart();
    void set_reattach(reattach_answer a);
    int requests_served() const;
    int reattaches_accepted() const;
    // The memfd an other_region reply carries; this process never maps it.
    static constexpr const char *decoy_name = "fake-decoy-region";
    // Returns once every session has ended (its socket closed).
    void wait_idle() const;

private:
    void listen_on_path();
    void accept_loop();
    void serve(int fd);
    void end_gone(int end);
    void send_registration(int fd, uint32_t seq, int end, bool reattach);

    std::string dir_;
    std::string path_;
    fake_pipe_region layout_;
    regif_flaw flaw_;
    unique_fd memfd_;
    mapped_region map_;
    unique_fd ev_[4];
    unique_fd listen_;
    unique_fd decoy_; // made on the first other_region answer
    mutable std::mutex mu_;
    std::vector<int> clients_;
    int served_ = 0;
    int reattached_ = 0;
    reattach_answer reattach_ = reattach_answer::refuse;
    bool stopped_ = false;
    std::vector<std::thread> threads_;
    std::thread acceptor_;
};

} // namespace netring::test
