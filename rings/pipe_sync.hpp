// Zero-copy pipe handoff: the txsync and rxsync of one pipe ring pair.
//
// Pipe end A's tx ring i and end B's rx ring i have the same size and are used in lockstep: the
// packet in A.tx slot j moves to B.rx slot j by lending its buffer, as netmap's pipes do: the rx
// slot gets the tx slot's buffer index and the tx slot keeps it, so nothing is copied and the
// sender gets its buffers (and frames) back when B releases the slots. A buffer B swaps into a
// released slot (marked NS_BUF_CHANGED, as netmap requires) goes to A's slot instead.
//   A.tx.hwcur == B.rx.hwtail   (both advanced by A's txsync)
//   A.tx.hwtail == B.rx.head-1  (A may refill what B has released; one slot stays empty)
// Both ends share one region (one trust domain), so the handoff runs in whichever process calls
// sync: the client's libnetring on the fast path, the daemon for socket TXSYNC/RXSYNC. Either way
// every index and slot read from shared memory is checked here before use, so a corrupt ring can
// make a sync fail but can never make the caller touch memory outside the region.
//
// Wake-ups follow the sync model's event suppression: a waiter sets its appl_need_kick, fences and
// re-checks; the other side publishes its index, fences, and reports `kick` if the flag was set.
#pragma once

#include "monitor.hpp"
#include "ring_fault.hpp"
#include "ring_ops.hpp"

#include <cstdint>

namespace netring::rings {

// txsync for pipe tx ring `tx` whose partner is `peer_rx`. Resets `tx` on invalid indices or slots.
// With `mon` (the region as the caller maps it), frames that cross also go to the monitors the
// daemon listed for the pair; an unwatched pair costs one load of a line the sync reads anyway.
sync_outcome pipe_txsync(const ring_ref &tx, const ring_ref &peer_rx, const buffer_limits &lim,
                         const mon_env *mon = nullptr);

// rxsync for pipe rx ring `rx` whose partner is `peer_tx`. Repairs slots the peer wrote badly.
sync_outcome pipe_rxsync(const ring_ref &rx, const ring_ref &peer_tx, const buffer_limits &lim);

// Arms the wait flag of `r` and tells whether the caller may sleep: false when work arrived in
// between (the re-check that closes the lost-wakeup race). `want_rx`: wait for packets, else space.
bool pipe_arm_wait(const ring_ref &r, const ring_ref &partner, bool want_rx);
// Partner of pipe_arm_wait: called after the sleep (or when not sleeping after all).
void disarm_wait(const ring_ref &r);

// Sets up a fresh pipe ring pair: tx empty with n-1 free slots, rx empty.
void pipe_pair_init(const ring_ref &tx, const ring_ref &rx);

} // namespace netring::rings
