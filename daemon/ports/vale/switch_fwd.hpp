// A switch's forwarding thread: takes frames from every port, learns source addresses, and copies
// each frame into the rx ring of its destination (known unicast), or of every other port
// (broadcast, multicast, unknown unicast).
//
// A full destination first holds back the source whose frame it cannot take (the frame stays in
// that source's tx ring, so a sender faster than its receiver is slowed instead of losing frames,
// and the CPU goes to the receiver). If the destination makes no room for `stall_grace`, it is
// stalled: frames for it are dropped and counted until it has room again, and it holds back nobody.
// Until then a held source's later frames (to any port) wait behind the held one, and so does any
// flooded frame (it is for the full port too); sources with nothing for it go on.
//
//   switch_fwd f;
//   f.start({&ep1, &ep2}, {spin, stall_grace_ns}); // the thread owns the endpoints' ring state now
//   f.stop();                                       // joins; the control thread may change the set again
//
// Two kinds of endpoint:
//   served  a client port of the switch: the switch is the kernel side of its rings (like the NIC
//           worker): frames come from its tx ring, go to its rx ring;
//   client  an attached NIC or host stack: the switch is the application of a daemon registration
//           of that NIC: frames come from the NIC's rx rings, go to its tx ring 0.
// Every index and slot read from shared memory is checked before use, whichever side wrote it.
//
// A pass publishes nothing until it is committed: the cursors of every client port go to the
// switch's journal first (fwd_journal.hpp), so that a successor after a crash starts from indices
// no client saw go back.
#pragma once

#include "fwd_journal.hpp"
#include "mac_table.hpp"
#include "served_ring.hpp"
#include "worker_thread.hpp"

#include <netring/unique_fd.hpp>
#include <rings/monitor.hpp>
#include <rings/ring_ops.hpp>

#include <poll.h>

#include <atomic>
#include <thread>
#include <vector>

namespace netring::netringd {

// A ring the switch uses as an application (a NIC registration's ring): its own head, the kick
// eventfd to wake the NIC worker, the notify eventfd it sleeps on.
struct app_ring {
    rings::ring_ref r;
    int kick_fd = -1; // borrowed from the NIC port, valid while the registration lasts
    int notify_fd = -1;
    uint32_t head = 0;     // the switch's head: its own copy, never read back
    uint32_t pull_end = 0; // rx: where the last pull stopped; release() moves head there
};

struct fwd_counters {
    std::atomic<uint64_t> rx_packets{0}, rx_bytes{0}, tx_packets{0}, tx_bytes{0}, drops{0}, errors{0};
    std::atomic<uint64_t> flooded{0}; // of rx_packets, the frames flooded (unknown unicast, multicast)
};

struct fwd_endpoint {
    bool served = true;
    uint8_t *base = nullptr; // the endpoint's region: rings are at offsets from here
    uint8_t *bufs = nullptr; // its buffer 0 (base + buffers_offset)
    rings::buffer_limits lim;
    // served: the client port's rings (the switch is their kernel side)
    served_ring *tx = nullptr; // frames in
    served_ring *rx = nullptr; // frames out
    // client: the NIC registration's rings (the switch is their application)
    std::vector<app_ring> in; // NIC rx rings
    app_ring out;             // NIC tx ring 0
    fwd_counters counters;
    uint32_t journal_slot = 0; // served: where its cursors are committed

    // served, per pass: where the tx ring's hwcur and the rx ring's hwtail stood before the pass
    // moved them (the copies the ring_ref shows stay there until the pass is committed).
    bool tx_released = false;
    uint32_t tx_from = 0;
    uint32_t rx_from = 0;

    // Per pass, the forwarding thread's view of the destination ring.
    int64_t full_since_ns = 0; // when it was first seen full (0: it has room)
    bool stalled = false;      // full for longer than the grace: its frames are dropped
    bool held = false;         // as a source: its next frame waits for a full destination
    uint32_t out_cursor = 0;
    uint32_t out_room = 0;
    uint64_t out_pass = 0;
    bool out_touched = false;
    uint32_t pass_tx_packets = 0;
    uint64_t pass_tx_bytes = 0;

    // served: monitor rings fed a copy of what the port sends into the switch (tx) and of what
    // the switch delivers to it (rx), in the port's region `mon` (monitor_rings.hpp). Set by the
    // control thread while the forwarding thread is stopped.
    std::vector<const served_ring *> tx_mon;
    std::vector<const served_ring *> rx_mon;
    rings::mon_env mon;
};

// A learned address outside the thread: its port (a position in the endpoint list) and how many
// seconds ago it was last seen.
struct learned_mac {
    uint64_t mac = 0;
    uint16_t port = 0;
    uint32_t age_s = 0;
};

// How a forwarding thread waits: empty passes before it sleeps, and how long a full destination
// may hold a source back before it counts as stalled (config: worker_spin, switch_stall_ms).
struct fwd_settings {
    uint32_t spin = 0;
    int64_t stall_grace_ns = 0;
};

class switch_fwd {
public:
    switch_fwd();
    ~switch_fwd() { stop(); }
    switch_fwd(const switch_fwd &) = delete;
    switch_fwd &operator=(const switch_fwd &) = delete;

    // `macs`: addresses the thread starts with (positions in `eps`); none, it learns from scratch.
    // `journal`: where each pass commits the served endpoints' cursors, at their journal_slot
    // (reset there by the caller); null, nowhere.
    status start(std::vector<fwd_endpoint *> eps, const fwd_settings &settings,
                 const std::vector<learned_mac> &macs = {}, fwd_journal *journal = nullptr);
    void stop();
    bool running() const { return thread_.running(); }
    // Learned addresses, for `list` (read racily: informational).
    uint32_t mac_entries() const { return mac_count_.load(std::memory_order_relaxed); }
    // Every learned address, positions as in the last start's `eps`. Only while stopped.
    std::vector<learned_mac> learned() const;

    static constexpr uint32_t mac_capacity = 4096; // learned addresses per switch

private:
    static constexpr uint32_t batch = 256; // frames taken from one port at a time
    static constexpr uint32_t mac_ageing_s = 300;
    static constexpr uint32_t eth_header = 14;

    static void feed_monitors(const fwd_endpoint &ep, const served_ring &ring, uint32_t from, uint32_t to,
                              const std::vector<const served_ring *> &mons);

    struct frame {
        const uint8_t *data;
        uint16_t len;
        uint32_t slot; // where it sits in its ring: a partial release stops there
    };

    void run();
    bool forward_from(uint16_t src);
    uint32_t pull(fwd_endpoint &ep, frame *out, uint32_t max, uint32_t &ring_index);
    void release(fwd_endpoint &ep, uint32_t ring_index, uint32_t upto_slot);
    void deliver(uint16_t dst, const frame &f);
    bool open_out(fwd_endpoint &ep);
    bool can_take(uint16_t dst);
    int64_t now_ns();
    bool settle(fwd_endpoint &ep);
    void commit();
    void publish(fwd_endpoint &ep);
    void flush(fwd_endpoint &ep);
    void sleep();
    void arm(bool on);

    std::vector<fwd_endpoint *> eps_;
    fwd_journal *journal_ = nullptr;
    mac_table macs_;
    std::atomic<uint32_t> mac_count_{0};
    uint64_t pass_ = 0;
    uint32_t now_s_ = 0;
    uint32_t spin_ = 0;
    int64_t stall_grace_ns_ = 0;
    bool holding_ = false; // some source is held back by a full destination this pass
    std::vector<pollfd> pollset_;
    worker_thread thread_; // last: stopped before the members its body uses go
};

} // namespace netring::netringd
