// Small helpers both sides use: power-of-two and alignment arithmetic, the spin-wait hint, and the
// full fence that the sync protocol's store-load orders need. Header-only, no syscalls.
#pragma once

#include <netring/layout.h>

#include <atomic>
#include <cstdint>

namespace netring::rings {

constexpr bool is_pow2(uint64_t v) { return v != 0 && (v & (v - 1)) == 0; }

// v rounded up to a multiple of a (a > 0).
constexpr uint64_t round_up(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

// The spin-wait hint of the public ring helpers (layout.h).
inline void cpu_relax() { nr_cpu_relax(); }

// A store followed by a load of another field must not be reordered (publish, then read the other
// side's need_kick flag; arm a flag, then re-check the ring): only a full fence orders store-load.
inline void full_fence() { std::atomic_thread_fence(std::memory_order_seq_cst); }

} // namespace netring::rings
