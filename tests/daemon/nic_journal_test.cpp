// The journal a NIC worker commits its cursors to: each queue's commit is whole or not there at
// all, queues do not disturb each other, tags name one queue binding each, and a successor adopts
// only a NIC journal.
#include "ports/nic/nic_journal.hpp"
#include "ports/vale/fwd_journal.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <set>

namespace netring::netringd {
namespace {

unique_fd dup_of(int fd) { return unique_fd(::fcntl(fd, F_DUPFD_CLOEXEC, 0)); }

queue_cursors cursors(uint32_t base)
{
    queue_cursors c;
    auto *w = reinterpret_cast<uint32_t *>(&c);
    for (uint32_t i = 0; i < sizeof c / sizeof(uint32_t); i++)
        w[i] = base + i; // every field different: a field lost or swapped shows
    return c;
}

TEST(nic_journal, each_queue_sees_its_own_last_whole_commit)
{
    auto j = nic_journal::create("eth0");
    ASSERT_TRUE(j.ok()) << j.err().describe();
    j->reset(0, cursors(100));
    j->reset(1, cursors(200));
    EXPECT_EQ(j->read(0), cursors(100));
    for (uint32_t k = 1; k <= 5; k++) // odd and even sequences: both copies in turn
        j->commit(0, cursors(100 + 20 * k));
    EXPECT_EQ(j->read(0), cursors(200));
    EXPECT_EQ(j->read(1), cursors(200)) << "queue 1 was never committed";
    j->commit(1, cursors(300));
    j->commit(nic_journal::slots, cursors(1)); // a queue past the journal: written nowhere
    j->reset(nic_journal::slots + 7, cursors(1));
    EXPECT_EQ(j->read(nic_journal::slots), queue_cursors{});
    EXPECT_EQ(j->claim(nic_journal::slots), 0u) << "a queue past the journal gets no tag";
    EXPECT_EQ(j->tag(nic_journal::slots), 0u);

    auto next = nic_journal::adopt(dup_of(j->fd()));
    ASSERT_TRUE(next.ok()) << next.err().describe();
    EXPECT_EQ(next->read(0), cursors(200));
    EXPECT_EQ(next->read(1), cursors(300));
    next->commit(0, cursors(400)); // the successor carries on from the sequence it found
    EXPECT_EQ(j->read(0), cursors(400));
}

TEST(nic_journal, tags_are_never_given_twice_even_by_a_successor)
{
    auto j = nic_journal::create("eth0");
    ASSERT_TRUE(j.ok());
    std::set<uint64_t> tags;
    for (uint32_t q = 0; q < 3; q++)
        EXPECT_TRUE(tags.insert(j->claim(q)).second);
    const uint64_t first = j->tag(0);
    j->free_slot(0);
    EXPECT_EQ(j->tag(0), 0u);
    EXPECT_NE(j->claim(0), first) << "a queue bound again is another binding";
    auto next = nic_journal::adopt(dup_of(j->fd()));
    ASSERT_TRUE(next.ok());
    EXPECT_EQ(next->tag(2), j->tag(2));
    EXPECT_TRUE(tags.insert(next->claim(1)).second);
}

TEST(nic_journal, a_successor_refuses_what_is_not_a_nic_journal)
{
    EXPECT_FALSE(nic_journal::adopt(unique_fd(::eventfd(0, EFD_CLOEXEC))).ok());
    EXPECT_FALSE(nic_journal::adopt(unique_fd()).ok());
    auto sw = fwd_journal::create("vale0");
    ASSERT_TRUE(sw.ok());
    auto wrong = nic_journal::adopt(dup_of(sw->fd()));
    ASSERT_FALSE(wrong.ok());
    EXPECT_EQ(wrong.err().code, make_error_code(errc::bad_message));
    auto nic = nic_journal::create("eth0");
    ASSERT_TRUE(nic.ok());
    EXPECT_FALSE(fwd_journal::adopt(dup_of(nic->fd())).ok());
}

} // namespace
} // namespace netring::netringd
