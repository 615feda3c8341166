#include "fwd_journal.hpp"

#include <rings/ring_ops.hpp>

#include <atomic>

namespace netring::netringd {
namespace {

constexpr uint64_t journal_magic = 0x6c6e72756f6a7266; // "frjournl"
constexpr uint32_t journal_version = 2;
constexpr uint64_t copies_offset = 64; // after the sequence, on its own cache line
constexpr uint64_t copy_bytes = uint64_t{fwd_journal::slots} * sizeof(journal_cursors);
constexpr uint64_t body_bytes = copies_offset + 2 * copy_bytes;

void store(journal_cursors &dst, const journal_cursors &c)
{
    rings::store_relaxed(dst.tx_hwcur, c.tx_hwcur);
    rings::store_relaxed(dst.tx_hwtail, c.tx_hwtail);
    rings::store_relaxed(dst.rx_hwcur, c.rx_hwcur);
    rings::store_relaxed(dst.rx_hwtail, c.rx_hwtail);
}

journal_cursors load(journal_cursors &src)
{
    return {rings::load_relaxed(src.tx_hwcur), rings::load_relaxed(src.tx_hwtail),
            rings::load_relaxed(src.rx_hwcur), rings::load_relaxed(src.rx_hwtail)};
}

} // namespace

fwd_journal::fwd_journal(journal_file f) : file_(std::move(f)) { seq_ = rings::load_acquire(seq()); }

uint64_t &fwd_journal::seq() const { return *reinterpret_cast<uint64_t *>(file_.body()); }

journal_cursors *fwd_journal::copy(uint64_t seq) const
{
    return reinterpret_cast<journal_cursors *>(file_.body() + copies_offset + (seq & 1) * copy_bytes);
}

result<fwd_journal> fwd_journal::create(const std::string &switch_name)
{
    auto f = journal_file::create("netringd-journal:" + switch_name, journal_magic, journal_version, slots,
                                  body_bytes, "the journal of switch " + switch_name);
    if (!f)
        return f.err();
    return fwd_journal(std::move(f.value()));
}

result<fwd_journal> fwd_journal::adopt(unique_fd fd)
{
    auto f = journal_file::adopt(std::move(fd), journal_magic, journal_version, slots, body_bytes,
                                 "switch journal");
    if (!f)
        return f.err();
    return fwd_journal(std::move(f.value()));
}

void fwd_journal::reset(uint32_t slot, const journal_cursors &c)
{
    seq_ = rings::load_relaxed(seq());
    store(copy(0)[slot], c);
    store(copy(1)[slot], c);
}

void fwd_journal::stage(uint32_t slot, const journal_cursors &c)
{
    if (slot < slots)
        store(copy(seq_ + 1)[slot], c);
}

void fwd_journal::commit()
{
    seq_++;
    rings::store_release(seq(), seq_); // partner: the acquire in read()
}

journal_cursors fwd_journal::read(uint32_t slot) const
{
    if (slot >= slots)
        return {};
    for (;;) {
        const uint64_t s = rings::load_acquire(seq());
        const journal_cursors c = load(copy(s)[slot]);
        std::atomic_thread_fence(std::memory_order_acquire); // the loads above before the check below
        if (rings::load_relaxed(seq()) == s)
            return c;
    }
}

} // namespace netring::netringd
