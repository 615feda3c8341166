#include "fwd_journal.hpp"

#include "sealed_memfd.hpp"

#include <rings/ring_ops.hpp>

#include <fcntl.h>
#include <sys/stat.h>

#include <atomic>
#include <cerrno>

namespace netring::netringd {

struct fwd_journal::header {
    uint64_t magic;
    uint32_t version;
    uint32_t slots;
    uint64_t next_tag; // control thread only
    uint64_t seq;      // commits made; the copy seq & 1 is the last whole one
    uint64_t tag[fwd_journal::slots];
};

namespace {

constexpr uint64_t journal_magic = 0x6c6e72756f6a7266; // "frjournl"
constexpr uint32_t journal_version = 1;
constexpr uint64_t copies_offset = 4096; // the header fits a page
constexpr uint64_t copy_bytes = uint64_t{fwd_journal::slots} * sizeof(journal_cursors);
constexpr uint64_t journal_bytes = copies_offset + 2 * copy_bytes;

error bad(const std::string &why) { return error::from(errc::bad_message, "kept switch journal: " + why); }

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

fwd_journal::fwd_journal(unique_fd fd, mapped_region map) : fd_(std::move(fd)), map_(std::move(map))
{
    static_assert(sizeof(header) <= copies_offset);
    seq_ = rings::load_acquire(head().seq);
}

fwd_journal::header &fwd_journal::head() const { return *reinterpret_cast<header *>(map_.base()); }

journal_cursors *fwd_journal::copy(uint64_t seq) const
{
    return reinterpret_cast<journal_cursors *>(map_.base() + copies_offset + (seq & 1) * copy_bytes);
}

result<fwd_journal> fwd_journal::create(const std::string &switch_name)
{
    auto fd = make_sealed_memfd("netringd-journal:" + switch_name, journal_bytes, false,
                                "the journal of switch " + switch_name);
    if (!fd)
        return fd.err();
    auto map = mapped_region::map(fd->get(), journal_bytes);
    if (!map)
        return map.err();
    auto *h = reinterpret_cast<header *>(map->base()); // a new memfd reads as zeros
    h->magic = journal_magic;
    h->version = journal_version;
    h->slots = slots;
    h->next_tag = 1;
    return fwd_journal(std::move(fd.value()), std::move(map.value()));
}

result<fwd_journal> fwd_journal::adopt(unique_fd fd)
{
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0)
        return error::from_errno(errno, "fstat of a kept switch journal");
    const int seals = ::fcntl(fd.get(), F_GET_SEALS);
    if (seals < 0 || !(seals & F_SEAL_SHRINK) || !(seals & F_SEAL_GROW))
        return bad("the fd is not a memfd sealed against resizing");
    if (static_cast<uint64_t>(st.st_size) != journal_bytes)
        return bad("the memfd is " + std::to_string(st.st_size) + " bytes, not " +
                   std::to_string(journal_bytes));
    auto map = mapped_region::map(fd.get(), journal_bytes);
    if (!map)
        return map.err();
    const auto *h = reinterpret_cast<const header *>(map->base());
    if (h->magic != journal_magic || h->version != journal_version || h->slots != slots)
        return bad("its header is not a version " + std::to_string(journal_version) + " journal of " +
                   std::to_string(slots) + " slots");
    fwd_journal j(std::move(fd), std::move(map.value()));
    uint64_t top = 0; // tags only grow: a damaged next_tag must not give one out again
    for (uint32_t s = 0; s < slots; s++)
        top = std::max(top, j.head().tag[s]);
    if (j.head().next_tag <= top || top == UINT64_MAX)
        j.head().next_tag = top == UINT64_MAX ? 1 : top + 1;
    return j;
}

uint64_t fwd_journal::claim(uint32_t slot)
{
    header &h = head();
    const uint64_t t = h.next_tag++;
    h.tag[slot] = t;
    return t;
}

uint64_t fwd_journal::tag(uint32_t slot) const { return slot < slots ? head().tag[slot] : 0; }

void fwd_journal::free_slot(uint32_t slot) { head().tag[slot] = 0; }

void fwd_journal::reset(uint32_t slot, const journal_cursors &c)
{
    seq_ = rings::load_relaxed(head().seq);
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
    rings::store_release(head().seq, seq_); // partner: the acquire in read()
}

journal_cursors fwd_journal::read(uint32_t slot) const
{
    if (slot >= slots)
        return {};
    for (;;) {
        const uint64_t seq = rings::load_acquire(head().seq);
        const journal_cursors c = load(copy(seq)[slot]);
        std::atomic_thread_fence(std::memory_order_acquire); // the loads above before the check below
        if (rings::load_relaxed(head().seq) == seq)
            return c;
    }
}

} // namespace netring::netringd
