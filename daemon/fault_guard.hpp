// Keeps the daemon alive when a client takes hugepage memory away under it.
//
//   fault_guard::install();                          // once, before any guarded range exists
//   int slot = fault_guard::add(base, size, 2 << 20); // -1: table full, the range is not guarded
//   ... fault_guard::faults(slot) ...                 // how many pages were replaced so far
//   fault_guard::remove(slot);                        // before the range is unmapped
//
// A client holding a hugetlb region's memfd can punch holes into it (the seals do not forbid
// FALLOC_FL_PUNCH_HOLE). The daemon's next access to such a hole needs a fresh huge page; when the
// pool has none, the access raises SIGBUS. The handler installed here looks the address up among
// the guarded ranges; inside one, it maps private zeroed memory over the whole page in the daemon's
// mapping, counts the fault, writes one line to stderr and returns, so the access is retried and
// succeeds. From then on that page of the daemon's view is its own: frames the daemon writes there
// no longer reach the clients, which is what the client that punched the hole asked for. A SIGBUS
// anywhere else takes the default action (the process dies with a core), as without the handler.
//
// The table is fixed-size and lock-free so the handler can read it; add/remove may be called from
// any thread, but a slot must not be removed while a thread may still touch its range.
#pragma once

#include <cstddef>
#include <cstdint>

namespace netring::netringd::fault_guard {

inline constexpr int max_ranges = 256;

// Installs the SIGBUS handler; later calls do nothing. Returns false if sigaction failed.
bool install();

// Guards [base, base + size), whose pages are `page` bytes (a power of two; base page-aligned).
// Returns the slot, or -1 if the handler is not installed or every slot is taken.
int add(void *base, size_t size, size_t page);

// Stops guarding the slot's range (a no-op for -1).
void remove(int slot);

// Pages of the slot's range replaced after a SIGBUS so far (0 for -1).
uint64_t faults(int slot);

} // namespace netring::netringd::fault_guard
