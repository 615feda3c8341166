// The NIC port's data path: one thread that serves the tx and rx rings of every bound queue.
//
//   nic_worker w;
//   w.start(base, limits, {&q0, &q1}, spin);   // the thread owns those queues' ring state now
//   w.stop();                                  // joins; the control thread may touch them again
//
// Per pass and per queue: take the frames the application published (tx head) and hand them to
// the queue's I/O; reclaim transmitted buffers (the tx ring's new hwtail); collect the rx ring's
// released slots (rx head) and receive frames into them (its new hwtail). All of it is staged
// first, then committed to the port's journal (nic_journal.hpp) when the I/O stages (AF_XDP), and
// only then published: rx slots, the I/O's rings, the served rings' hwcur and hwtail. Every index
// read from shared memory is checked as netmap's sync prologues do and every slot before use.
//
// Idle: after `spin` passes with no progress the worker sets kern_need_kick on every ring, fences,
// re-checks, and sleeps in poll() on the rings' kick eventfds, the I/O's rx fds (when the rx ring
// has room) and its own wake eventfd. Applications write a ring's kick only when the flag is set.
// The worker writes a ring's notify eventfd only when the application set appl_need_kick.
#pragma once

#include "nic_io.hpp"
#include "nic_journal.hpp"
#include "served_ring.hpp"
#include "worker_thread.hpp"

#include <rings/monitor.hpp>
#include <rings/ring_ops.hpp>

#include <poll.h>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

namespace netring::netringd {

struct nic_queue {
    uint32_t index = 0; // hardware queue, or the host queue (index == hardware queue count)
    bool host = false;
    served_ring tx;
    served_ring rx;
    std::unique_ptr<nic_queue_io> io;
    uint64_t journal_tag = 0; // its slot's tag in the port's journal (0: not journaled)
    uint32_t users = 0;       // registrations naming this queue
    bool exclusive = false; // held with /x
    // Monitor rings fed a copy of what this queue transmits / receives (monitor_rings.hpp). Set
    // by the control thread while the worker is stopped.
    std::vector<const served_ring *> tx_mon;
    std::vector<const served_ring *> rx_mon;
};

// Frames [0, n) into the slots from `from` on, as the worker delivers them (also how a successor
// delivers them again after a crash).
void write_rx_slots(const rings::ring_ref &rr, uint32_t from, const io_slot *frames, uint32_t n);

class nic_worker {
public:
    nic_worker() = default;
    ~nic_worker() { stop(); }
    nic_worker(const nic_worker &) = delete;
    nic_worker &operator=(const nic_worker &) = delete;

    // Starts the thread over `queues` (bound: io set, rings formatted). `base` is the region mapping.
    // The thread runs on the CPUs of `numa_node` when the machine has several nodes (-1: anywhere).
    // `mon`: the region as monitor copies are written into it. `journal`: where the cursors of
    // the staging queues are committed, slot = queue index (none: not kept).
    status start(uint8_t *base, const rings::buffer_limits &lim, std::vector<nic_queue *> queues,
                 uint32_t spin, int numa_node = -1, const rings::mon_env &mon = {},
                 nic_journal *journal = nullptr);
    // Partner of start: returns once the thread has left the queues alone. No-op when not running.
    void stop();
    bool running() const { return thread_.running(); }

private:
    // Frames per call into a queue's I/O: big enough to amortise a sendto (copy-mode AF_XDP sends
    // up to the XSK's ring size per call) or a ring update, small enough that one queue cannot
    // starve the others of the thread.
    static constexpr uint32_t io_batch = 256;

    // What a queue's stage step leaves for its publish step.
    struct tx_work {
        uint32_t head = 0;
        bool hwcur = false; // kern.hwcur to publish
        bool tail = false;  // kern.hwtail to publish, and perhaps a wake-up
    };
    struct rx_work {
        bool hwcur = false;
        uint32_t got = 0;         // frames received, in batch
        io_slot *batch = nullptr; // rx_batch_: one queue is served at a time
    };

    void run();
    bool serve(nic_queue &q);
    bool stage_tx(nic_queue &q, tx_work &w);
    bool stage_rx(nic_queue &q, rx_work &w);
    void deliver(nic_queue &q, const rx_work &w);
    void publish_tx(nic_queue &q, const tx_work &w);
    void publish_rx(nic_queue &q, const rx_work &w);
    void sleep();
    void feed(const std::vector<const served_ring *> &mons, const io_slot *batch, uint32_t n);

    rings::ring_ref ref(const served_ring &r) const;
    void fault(const served_ring &r);

    uint8_t *base_ = nullptr;
    rings::buffer_limits lim_;
    rings::mon_env mon_;
    uint32_t spin_ = 0;
    nic_journal *journal_ = nullptr;
    std::vector<nic_queue *> queues_;
    std::vector<pollfd> pollset_;
    io_slot rx_batch_[io_batch]; // the frames of the rx batch being served
    worker_thread thread_; // last: stopped before the members its body uses go
};

} // namespace netring::netringd
