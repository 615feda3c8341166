// The state behind netring::port, shared by port.cpp (open, mapping checks, accessors),
// port_sync.cpp (txsync/rxsync), port_wait.cpp (wait and the arm/disarm helpers) and
// port_control.cpp (the control connection lost and taken back across a daemon restart).
// Members are declared in setup order, so destruction undoes open() in reverse: eventfds closed,
// region unmapped, and the control socket closed last (closing it is the unregister).
#pragma once

#include <poll.h>

#include "connection.hpp"

#include <netring/netring.hpp>
#include <netring/unique_fd.hpp>
#include <rings/pipe_sync.hpp>
#include <rings/region_format.hpp>

#include <array>
#include <chrono>
#include <string>
#include <vector>

namespace netring {

// connected: `sock` is the control socket. away: it broke; the same fd number holds a timer that
// fires when the next reconnection is due. lost: no registration to go back to, no more tries.
enum class control_state : uint8_t { connected, away, lost };
enum class reattach_outcome : uint8_t { back, still_away, refused, pending };
// A re-attach try in flight: its socket waits for the answer to HELLO, then to REATTACH.
enum class try_stage : uint8_t { none, hello_sent, reattach_sent };

struct control_link {
    using clock = std::chrono::steady_clock;
    control_state state = control_state::connected;
    unsigned events = 0;                           // control_* bits the application has not read
    std::array<uint8_t, proto::token_bytes> token{}; // from the REGIF reply; all zero: none given
    uint64_t if_offset = 0;                        // what a re-attach reply must repeat
    clock::time_point next_try{};
    std::chrono::milliseconds delay{0}; // before the try after next; 0: none failed yet
    std::string why_lost;               // lost: the sentence daemon_gone carries from then on
    unique_fd timer;                    // the retry timer; its number is parked on `sock` between tries
    try_stage stage = try_stage::none;
    unique_fd conn;                     // the try's socket (also on `sock`'s number while it waits)
    uint32_t conn_seq = 0;
    clock::time_point answer_by{};      // a try not answered by then is abandoned
    uint32_t syncs = 0;                 // syncs since the last look at the control socket
    clock::time_point next_look{};      // connected: when sync() next polls the socket for EOF
};

struct ring_state {
    rings::ring_ref own;
    rings::ring_ref partner; // pipes: the other end's ring; empty for daemon-served ports
    int kick_fd = -1;        // wakes the other side of this ring
    int notify_fd = -1;      // the other side wakes us here
    uint32_t index = 0;      // index among the rings of its direction
    bool tx = false;
    uint64_t seen_errors = 0; // daemon-served rings: the worker's error count at the last sync
    std::string label; // "tx ring 0", for messages
    nr_mon_source source{}; // monitor rings: what the ring copies, as read once at open
};

struct port::impl {
    std::string name;
    open_options opts;
    unique_fd sock;
    uint32_t seq = 0;
    mapped_region region;
    unique_fd region_fd;             // kept for programs that map the region themselves
    uint64_t netmap_if_offset = 0;   // 0: no netmap view
    uint16_t mem_id = 0;
    std::vector<unique_fd> ring_fds; // kick, notify per ring; tx rings first
    rings::region_geometry geo;
    nr_if *nifp = nullptr;
    uint32_t reg_id = 0;
    uint32_t port_kind = 0;
    uint32_t extra_bufs = 0;
    rings::buffer_limits lim;
    rings::mon_env mon;  // pipes: the region as pipe_txsync feeds monitors from it
    bool polled = false; // NR_IF_POLLED: no eventfd announces frames, wait() looks every millisecond
    std::vector<ring_state> tx;
    std::vector<ring_state> rx;
    std::vector<pollfd> pollset; // reused by wait(): sleeping allocates nothing after the first time
    std::string last_error;
    control_link link;

    // Maps the region of a REGIF reply and builds the rings from it, refusing anything inconsistent.
    status attach(const proto::regif_reply &rep, std::vector<unique_fd> fds);

    // Syncs one ring, or all of a direction; records the message of the first failure.
    std::error_code sync(bool tx_dir, uint32_t ring);
    std::error_code sync_one(ring_state &r);
    std::error_code sync_shm(bool tx_dir, uint32_t ring);
    std::error_code sync_socket(bool tx_dir, uint32_t ring);
    std::error_code sync_away(bool tx_dir, uint32_t ring); // no control connection now
    std::error_code fail(errc e, std::string message);

    // The control connection (port_control.cpp). control_broke: connected -> away (lost when the
    // daemon gave no token), the socket's fd number parked on the retry timer. control_woke: the
    // control fd polled readable (a broken socket, or the timer). tend_control: away and a retry is
    // due: one reconnection and REATTACH.
    void control_broke(std::string why);
    void control_woke();
    // From sync(), every few dozen calls: a port that never sleeps in wait() still notices a lost
    // daemon (a zero-timeout poll of the control socket, at most every 100 ms) and retries.
    void watch_control();
    void tend_control();
    reattach_outcome start_try();    // connect and send HELLO, without waiting for anything
    reattach_outcome advance_try();  // the answer the try waits for, if it has come
    void end_try();                  // closes the try's socket; the timer goes back on `sock`
    // Why a REATTACH reply does not describe the registration this port has mapped; empty if it does.
    std::string reattach_mismatch(const proto::regif_reply &rep, const std::vector<unique_fd> &fds) const;
    void give_up(); // away -> lost, the reason already in last_error
    // Pipes and monitors of pipes: their frames move with no daemon at all.
    bool moves_without_daemon() const;
    // The port closes while no daemon can tell a pipe's other end: tell it here.
    void release_partner();

    // Whether `events` are ready now (after a sync), and how many rings are.
    uint32_t ready_rings(unsigned events) const;
    bool arm(unsigned events);
    bool ring_status_set(unsigned events) const; // a wanted ring is marked peer-gone (or garbage)
    void disarm(unsigned events);
    // The notify eventfds of the rings `events` names, then the control fd when there is one.
    void fill_pollset(unsigned events, std::vector<pollfd> &out) const;
};

} // namespace netring
