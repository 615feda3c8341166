// The NIC port's data path: one thread that serves the tx and rx rings of every bound queue.
//
//   nic_worker w;
//   w.start(base, limits, {&q0, &q1}, spin);   // the thread owns those queues' ring state now
//   w.stop();                                  // joins; the control thread may touch them again
//
// Per pass and per queue: reclaim transmitted buffers and publish the tx ring's new hwtail; take
// the frames the application published (tx head) and hand them to the queue's I/O; collect the
// rx ring's released slots (rx head) and receive frames into them, publishing hwtail. Every index
// read from shared memory is checked as netmap's sync prologues do and every slot before use.
//
// Idle: after `spin` passes with no progress the worker sets kern_need_kick on every ring, fences,
// re-checks, and sleeps in poll() on the rings' kick eventfds, the I/O's rx fds (when the rx ring
// has room) and its own wake eventfd. Applications write a ring's kick only when the flag is set.
// The worker writes a ring's notify eventfd only when the application set appl_need_kick.
#pragma once

#include "nic_io.hpp"
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
    uint32_t users = 0;     // registrations naming this queue
    bool exclusive = false; // held with /x
    // Monitor rings fed a copy of what this queue transmits / receives (monitor_rings.hpp). Set
    // by the control thread while the worker is stopped.
    std::vector<const served_ring *> tx_mon;
    std::vector<const served_ring *> rx_mon;
};

class nic_worker {
public:
    nic_worker() = default;
    ~nic_worker() { stop(); }
    nic_worker(const nic_worker &) = delete;
    nic_worker &operator=(const nic_worker &) = delete;

    // Starts the thread over `queues` (bound: io set, rings formatted). `base` is the region mapping.
    // The thread runs on the CPUs of `numa_node` when the machine has several nodes (-1: anywhere).
    // `mon`: the region as monitor copies are written into it.
    status start(uint8_t *base, const rings::buffer_limits &lim, std::vector<nic_queue *> queues,
                 uint32_t spin, int numa_node = -1, const rings::mon_env &mon = {});
    // Partner of start: returns once the thread has left the queues alone. No-op when not running.
    void stop();
    bool running() const { return thread_.running(); }

private:
    void run();
    bool serve_tx(nic_queue &q);
    bool serve_rx(nic_queue &q);
    void sleep();
    void feed(const std::vector<const served_ring *> &mons, const io_slot *batch, uint32_t n);

    rings::ring_ref ref(const served_ring &r) const;
    void fault(const served_ring &r);

    uint8_t *base_ = nullptr;
    rings::buffer_limits lim_;
    rings::mon_env mon_;
    uint32_t spin_ = 0;
    std::vector<nic_queue *> queues_;
    std::vector<pollfd> pollset_;
    worker_thread thread_; // last: stopped before the members its body uses go
};

} // namespace netring::netringd
