// The journal a switch's forwarding thread commits its ring cursors to: a commit is whole or not
// there at all, tags name one port each, and a successor adopts only a journal it recognises.
#include "ports/vale/fwd_journal.hpp"
#include "sealed_memfd.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <set>

namespace netring::netringd {
namespace {

unique_fd dup_of(int fd) { return unique_fd(::fcntl(fd, F_DUPFD_CLOEXEC, 0)); }

TEST(fwd_journal, a_commit_is_seen_whole_and_only_once_made)
{
    auto j = fwd_journal::create("vale0");
    ASSERT_TRUE(j.ok()) << j.err().describe();
    j->reset(3, {1, 0, 2, 5});
    EXPECT_EQ(j->read(3), (journal_cursors{1, 0, 2, 5}));
    j->stage(3, {7, 6, 2, 9});
    EXPECT_EQ(j->read(3), (journal_cursors{1, 0, 2, 5})) << "staged but not committed";
    j->commit();
    EXPECT_EQ(j->read(3), (journal_cursors{7, 6, 2, 9}));
    j->stage(3, {8, 7, 3, 9});
    j->commit();
    j->stage(3, {9, 8, 3, 10}); // a pass the daemon died in
    j->stage(fwd_journal::slots, {1, 1, 1, 1}); // a port with no slot: written nowhere
    EXPECT_EQ(j->read(fwd_journal::slots), journal_cursors{});

    // A successor maps the same memfd and sees the last commit.
    auto next = fwd_journal::adopt(dup_of(j->fd()));
    ASSERT_TRUE(next.ok()) << next.err().describe();
    EXPECT_EQ(next->read(3), (journal_cursors{8, 7, 3, 9}));
}

TEST(fwd_journal, tags_are_never_given_twice_even_by_a_successor)
{
    auto j = fwd_journal::create("vale0");
    ASSERT_TRUE(j.ok());
    std::set<uint64_t> tags;
    for (uint32_t s = 0; s < 4; s++) {
        const uint64_t t = j->claim(s);
        EXPECT_NE(t, 0u);
        EXPECT_TRUE(tags.insert(t).second);
        EXPECT_EQ(j->tag(s), t);
    }
    j->free_slot(2);
    EXPECT_EQ(j->tag(2), 0u);
    EXPECT_EQ(j->tag(fwd_journal::slots), 0u) << "a slot past the journal has no tag";
    auto next = fwd_journal::adopt(dup_of(j->fd()));
    ASSERT_TRUE(next.ok());
    EXPECT_EQ(next->tag(1), j->tag(1));
    EXPECT_TRUE(tags.insert(next->claim(2)).second);
}

TEST(fwd_journal, a_successor_refuses_what_is_not_a_journal)
{
    unique_fd efd(::eventfd(0, EFD_CLOEXEC));
    auto not_memfd = fwd_journal::adopt(std::move(efd));
    ASSERT_FALSE(not_memfd.ok());

    auto j = fwd_journal::create("vale0");
    ASSERT_TRUE(j.ok());
    auto other_size = make_sealed_memfd("test", 64 * 1024, false, "a test memfd");
    ASSERT_TRUE(other_size.ok());
    auto wrong = fwd_journal::adopt(std::move(other_size.value()));
    ASSERT_FALSE(wrong.ok());
    EXPECT_EQ(wrong.err().code, make_error_code(errc::bad_message));

    // The right size, sealed, but zeros: no magic.
    struct stat st {};
    ASSERT_EQ(::fstat(j->fd(), &st), 0);
    auto zeros = make_sealed_memfd("test", static_cast<uint64_t>(st.st_size), false, "a test memfd");
    ASSERT_TRUE(zeros.ok());
    auto blank = fwd_journal::adopt(std::move(zeros.value()));
    ASSERT_FALSE(blank.ok());
    EXPECT_NE(blank.err().message.find("header"), std::string::npos) << blank.err().message;
}

} // namespace
} // namespace netring::netringd
