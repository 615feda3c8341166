// The thread of a data-path loop (a NIC port's worker, a switch's forwarding thread), with the
// stop flag and the wake eventfd every such loop needs.
//
//   worker_thread t;
//   t.start("the NIC worker", [this] { while (!t.stopping()) { ...; poll({t.wake_fd(), ...}); } });
//   t.stop();   // raises the flag, wakes a sleeping loop, joins; partner of start
//
// The body polls wake_fd() along with its own fds whenever it sleeps, so stop() never waits for
// traffic. One thread at a time: start() on a running worker stops it first.
#pragma once

#include <netring/error.hpp>
#include <netring/unique_fd.hpp>
#include <rings/bits.hpp>
#include <rings/eventfd.hpp>

#include <sys/eventfd.h>

#include <atomic>
#include <cerrno>
#include <string>
#include <thread>
#include <utility>

namespace netring::netringd {

class worker_thread {
public:
    worker_thread() = default;
    ~worker_thread() { stop(); }
    worker_thread(const worker_thread &) = delete;
    worker_thread &operator=(const worker_thread &) = delete;

    // Fails only when the wake eventfd cannot be made (`what` names the worker in the error).
    template <class Body>
    status start(const char *what, Body &&body)
    {
        stop();
        if (!wake_.valid()) {
            wake_.reset(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
            if (!wake_.valid())
                return error::from_errno(errno, std::string("eventfd for ") + what);
        }
        stop_.store(false, std::memory_order_relaxed);
        thread_ = std::thread(std::forward<Body>(body));
        return ok_status();
    }

    // Returns once the body has returned. No-op when not running.
    void stop()
    {
        if (!thread_.joinable())
            return;
        stop_.store(true, std::memory_order_release); // partner: the acquire in stopping()
        rings::eventfd_signal(wake_.get());
        thread_.join();
        rings::eventfd_drain(wake_.get());
    }

    // The body of every data-path loop, run on the thread until stop(): `pass` does one pass and
    // says whether it moved anything; after `spin` empty passes in a row `sleep` arms the rings'
    // wake flags and sleeps in poll() (with wake_fd()), and spinning starts over.
    template <class Pass, class Sleep>
    void spin_then_sleep(uint32_t spin, Pass &&pass, Sleep &&sleep)
    {
        uint32_t idle = 0;
        while (!stopping()) {
            if (pass()) {
                idle = 0;
            } else if (++idle < spin) {
                rings::cpu_relax();
            } else {
                sleep();
                idle = 0;
            }
        }
    }

    bool running() const { return thread_.joinable(); }
    bool stopping() const { return stop_.load(std::memory_order_acquire); }
    int wake_fd() const { return wake_.get(); }

private:
    unique_fd wake_;
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

} // namespace netring::netringd
