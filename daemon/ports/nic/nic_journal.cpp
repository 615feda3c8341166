#include "nic_journal.hpp"

#include <rings/ring_ops.hpp>

#include <atomic>

namespace netring::netringd {

// One queue: its sequence and two copies, on two cache lines of their own.
struct alignas(64) nic_journal::slot_block {
    uint64_t seq;
    queue_cursors copy[2];
};

namespace {

constexpr uint64_t journal_magic = 0x6c6e72756f6a636e; // "ncjournl"
constexpr uint32_t journal_version = 1;
constexpr uint32_t words = sizeof(queue_cursors) / sizeof(uint32_t);
static_assert(sizeof(queue_cursors) == words * sizeof(uint32_t));

void store(queue_cursors &dst, const queue_cursors &c)
{
    auto *d = reinterpret_cast<uint32_t *>(&dst);
    const auto *s = reinterpret_cast<const uint32_t *>(&c);
    for (uint32_t i = 0; i < words; i++)
        rings::store_relaxed(d[i], s[i]);
}

queue_cursors load(queue_cursors &src)
{
    queue_cursors c;
    auto *s = reinterpret_cast<uint32_t *>(&src);
    auto *d = reinterpret_cast<uint32_t *>(&c);
    for (uint32_t i = 0; i < words; i++)
        d[i] = rings::load_relaxed(s[i]);
    return c;
}

} // namespace

nic_journal::slot_block *nic_journal::block(uint32_t slot) const
{
    return reinterpret_cast<slot_block *>(file_.body()) + slot;
}

result<nic_journal> nic_journal::create(const std::string &ifname)
{
    auto f = journal_file::create("netringd-journal:nic:" + ifname, journal_magic, journal_version, slots,
                                  uint64_t{slots} * sizeof(slot_block), "the journal of NIC " + ifname);
    if (!f)
        return f.err();
    return nic_journal(std::move(f.value()));
}

result<nic_journal> nic_journal::adopt(unique_fd fd)
{
    auto f = journal_file::adopt(std::move(fd), journal_magic, journal_version, slots,
                                 uint64_t{slots} * sizeof(slot_block), "NIC journal");
    if (!f)
        return f.err();
    return nic_journal(std::move(f.value()));
}

void nic_journal::reset(uint32_t slot, const queue_cursors &c)
{
    if (slot >= slots)
        return;
    slot_block *b = block(slot);
    store(b->copy[0], c);
    store(b->copy[1], c);
}

void nic_journal::commit(uint32_t slot, const queue_cursors &c)
{
    if (slot >= slots)
        return;
    slot_block *b = block(slot);
    const uint64_t next = rings::load_relaxed(b->seq) + 1; // only this thread writes it
    store(b->copy[next & 1], c);
    rings::store_release(b->seq, next); // partner: the acquire in read()
}

queue_cursors nic_journal::read(uint32_t slot) const
{
    if (slot >= slots)
        return {};
    slot_block *b = block(slot);
    for (;;) {
        const uint64_t seq = rings::load_acquire(b->seq);
        const queue_cursors c = load(b->copy[seq & 1]);
        std::atomic_thread_fence(std::memory_order_acquire); // the loads above before the check below
        if (rings::load_relaxed(b->seq) == seq)
            return c;
    }
}

} // namespace netring::netringd
