// Monitor rings, the producer side: copying frames that cross a port into the rings of the
// monitors watching it (layout.h, "monitor rings", has the shared-memory side; docs/MONITORS.md
// the model).
//
//   mon_frame f[64]; ... fill with the frames that crossed ...
//   auto r = monitor_push(mon_ring, env, f, n, monitor_clock_ns());   // copies what fits
//   if (r.wake) eventfd_signal(notify);                               // the monitor sleeps
//
// A monitor never slows the port it watches: a copy that does not fit is dropped and counted in
// the monitor ring's kern.drops, and nothing here waits. The monitor ring is read like any ring a
// client writes: its head and its slots' buffer indices are checked before use.
//
// Producers: the NIC worker and the switch's forwarding thread (daemon-served ports), and for
// pipes the sending process itself, in pipe_txsync (pipe_feed_monitors), which finds the monitors
// of a ring pair in the pair's nr_mon_table.
#pragma once

#include "ring_ops.hpp"

#include <cstdint>

namespace netring::rings {

// One frame to copy: where its bytes are in the caller's mapping.
struct mon_frame {
    const uint8_t *data = nullptr;
    uint32_t len = 0;
};

// The region a monitor ring lives in, as the producer maps it: the ring's buffers are found from
// here, never from the ring header.
struct mon_env {
    uint8_t *base = nullptr;
    uint64_t size = 0;
    uint64_t buffers_offset = 0;
    buffer_limits lim;
};

struct mon_push_result {
    uint32_t copied = 0;
    bool wake = false; // the monitor armed its wait flag (now cleared): write its notify eventfd
};

// Copies frames [0, n) into the free slots of monitor ring `mon`, each at offset 0 of its buffer,
// cut to the buffer size, stamped with `ts_ns`; counts what did not fit as drops.
mon_push_result monitor_push(const ring_ref &mon, const mon_env &env, const mon_frame *frames, uint32_t n,
                             uint64_t ts_ns);

// Free slots of monitor ring `mon` as its producer sees them (0 when its head cannot be trusted).
uint32_t monitor_room(const ring_ref &mon);

// CLOCK_REALTIME in nanoseconds: the time a copy says its frame crossed the port (vDSO, no syscall).
uint64_t monitor_clock_ns();

// Pipes: the tx slots [from, to) of `tx` have just been lent to the peer; copies go to every
// monitor the daemon listed for this ring pair. Called by pipe_txsync only when the tx ring's
// flags.monitors is non-zero; `env` is the pipe's region as the caller maps it.
void pipe_feed_monitors(const ring_ref &tx, uint32_t from, uint32_t to, const mon_env &env);

// Daemon side of the table's handshake: whether no producer can still be using an entry cleared
// before this call. `seen` holds the producer's seq from the last look (0 the first time); a
// producer that stopped between reading the table and finishing its copies keeps this false.
bool mon_table_quiet(nr_mon_table &t, uint32_t &seen);

} // namespace netring::rings
