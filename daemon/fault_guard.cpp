#include "fault_guard.hpp"

#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <mutex>

namespace netring::netringd::fault_guard {
namespace {

// A slot is free while begin is 0. add() fills end and page before publishing begin; remove()
// clears begin first. The handler reads begin, then the rest.
struct range {
    std::atomic<uintptr_t> begin{0};
    std::atomic<uintptr_t> end{0};
    std::atomic<uintptr_t> page{0};
    std::atomic<uint64_t> faults{0};
};

range table[max_ranges];
std::atomic<bool> installed{false};
std::mutex slots_mutex; // add/remove against each other; the handler takes no lock

static_assert(std::atomic<uintptr_t>::is_always_lock_free && std::atomic<uint64_t>::is_always_lock_free);

// stderr writing with nothing but write(2): the handler may not call printf or allocate.
void put(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    ssize_t ignored = ::write(STDERR_FILENO, s, n);
    (void)ignored;
}

void put_hex(uintptr_t v)
{
    char buf[2 + 2 * sizeof v + 1];
    buf[0] = '0';
    buf[1] = 'x';
    for (size_t i = 0; i < 2 * sizeof v; i++)
        buf[2 + i] = "0123456789abcdef"[(v >> (4 * (2 * sizeof v - 1 - i))) & 0xf];
    buf[sizeof buf - 1] = '\0';
    put(buf);
}

void on_sigbus(int sig, siginfo_t *info, void *)
{
    const auto addr = reinterpret_cast<uintptr_t>(info->si_addr);
    // Only a fault of this process's own access (not a kill(2)) has a meaningful si_addr.
    if (info->si_code > 0) {
        for (range &r : table) {
            const uintptr_t b = r.begin.load(std::memory_order_acquire);
            if (b == 0 || addr < b || addr >= r.end.load(std::memory_order_relaxed))
                continue;
            const uintptr_t page = r.page.load(std::memory_order_relaxed);
            const uintptr_t at = addr & ~(page - 1);
            void *p = ::mmap(reinterpret_cast<void *>(at), page, PROT_READ | PROT_WRITE,
                             MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
            if (p == MAP_FAILED)
                break;
            r.faults.fetch_add(1, std::memory_order_relaxed);
            put("netringd: SIGBUS in guarded region memory at offset ");
            put_hex(at - b);
            put(" (a client punched a hole the kernel could not fill); that page of the daemon's view is now "
                "private memory\n");
            return; // the faulting access runs again, on the new page
        }
    }
    // Not ours: the default action, as if no handler were installed. The signal is blocked while
    // the handler runs, so it is delivered (and kills) as soon as the handler returns.
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    ::sigaction(sig, &dfl, nullptr);
    ::raise(sig);
}

} // namespace

bool install()
{
    std::lock_guard lock(slots_mutex);
    if (installed.load())
        return true;
    struct sigaction sa {};
    sa.sa_sigaction = on_sigbus;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    if (::sigaction(SIGBUS, &sa, nullptr) != 0)
        return false;
    installed.store(true);
    return true;
}

int add(void *base, size_t size, size_t page)
{
    std::lock_guard lock(slots_mutex);
    if (!installed.load() || base == nullptr || size == 0 || page == 0 || (page & (page - 1)) != 0)
        return -1;
    for (int i = 0; i < max_ranges; i++) {
        range &r = table[i];
        if (r.begin.load(std::memory_order_relaxed) != 0)
            continue;
        const auto b = reinterpret_cast<uintptr_t>(base);
        r.end.store(b + size, std::memory_order_relaxed);
        r.page.store(page, std::memory_order_relaxed);
        r.faults.store(0, std::memory_order_relaxed);
        r.begin.store(b, std::memory_order_release); // partner: the handler's load_acquire
        return i;
    }
    return -1;
}

void remove(int slot)
{
    if (slot < 0 || slot >= max_ranges)
        return;
    std::lock_guard lock(slots_mutex);
    table[slot].begin.store(0, std::memory_order_release);
}

uint64_t faults(int slot)
{
    if (slot < 0 || slot >= max_ranges)
        return 0;
    return table[slot].faults.load(std::memory_order_relaxed);
}

} // namespace netring::netringd::fault_guard
