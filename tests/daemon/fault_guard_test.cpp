// fault_guard: a SIGBUS on a guarded range replaces the page and the access goes on; anywhere else
// (unguarded, removed, sent by kill) the process still dies of it. The first tests fault on a 4 KiB
// memfd shrunk under its mapping (no root needed); the last one does what a hostile client does to a
// hugetlb region: punch a hole while no huge page is free.
#include "fault_guard.hpp"
#include "region.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <linux/falloc.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <string>

namespace netring::netringd {
namespace {

constexpr size_t small_page = 4096;

// A shared mapping of a 4-page memfd, then the file shrunk to one page: pages 1..3 raise SIGBUS.
struct shrunk_mapping {
    int fd = -1;
    uint8_t *base = nullptr;
    static constexpr size_t size = 4 * small_page;

    shrunk_mapping()
    {
        fd = ::memfd_create("nrt-fault-guard", MFD_CLOEXEC);
        EXPECT_GE(fd, 0);
        EXPECT_EQ(::ftruncate(fd, size), 0);
        void *p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        EXPECT_NE(p, MAP_FAILED);
        base = static_cast<uint8_t *>(p);
        base[0] = 0x5a;
        EXPECT_EQ(::ftruncate(fd, small_page), 0);
    }
    ~shrunk_mapping()
    {
        ::munmap(base, size);
        ::close(fd);
    }
};

TEST(FaultGuard, GuardedRangeSurvivesSigbusAndCountsEachPage)
{
    ASSERT_TRUE(fault_guard::install());
    shrunk_mapping m;
    const int slot = fault_guard::add(m.base, m.size, small_page);
    ASSERT_GE(slot, 0);
    volatile uint8_t *v = m.base;

    v[2 * small_page + 5] = 9; // beyond the end of the file: SIGBUS, then private memory
    EXPECT_EQ(fault_guard::faults(slot), 1u);
    EXPECT_EQ(v[2 * small_page + 5], 9);
    EXPECT_EQ(v[2 * small_page + 6], 0); // the replacement page starts out zeroed
    v[2 * small_page + 7] = 1;           // the same page again: no second fault
    EXPECT_EQ(fault_guard::faults(slot), 1u);

    EXPECT_EQ(v[3 * small_page], 0); // a read faults too, and gets its own page
    EXPECT_EQ(fault_guard::faults(slot), 2u);

    // The page still inside the file is untouched and still shared with the file.
    EXPECT_EQ(v[0], 0x5a);
    v[1] = 0x33;
    uint8_t back = 0;
    ASSERT_EQ(::pread(m.fd, &back, 1, 1), 1);
    EXPECT_EQ(back, 0x33);
    fault_guard::remove(slot);
}

// With the handler installed, writes past the end of a shrunk mapping that is not (or no longer)
// guarded: the process must die of the SIGBUS.
void write_past_end_unguarded(bool guard_then_remove)
{
    fault_guard::install();
    shrunk_mapping m;
    if (guard_then_remove)
        fault_guard::remove(fault_guard::add(m.base, m.size, small_page));
    volatile uint8_t *v = m.base;
    v[2 * small_page] = 1;
}

TEST(FaultGuardDeathTest, UnguardedSigbusStillKills)
{
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    EXPECT_EXIT(write_past_end_unguarded(false), testing::KilledBySignal(SIGBUS), "");
}

TEST(FaultGuardDeathTest, RemovedRangeIsNoLongerGuarded)
{
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    EXPECT_EXIT(write_past_end_unguarded(true), testing::KilledBySignal(SIGBUS), "");
}

TEST(FaultGuardDeathTest, SigbusSentByKillIsNotSwallowed)
{
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    EXPECT_EXIT(
        {
            fault_guard::install();
            shrunk_mapping m;
            fault_guard::add(m.base, m.size, small_page);
            ::kill(::getpid(), SIGBUS);
            ::pause();
        },
        testing::KilledBySignal(SIGBUS), "");
}

TEST(FaultGuard, BadArgumentsAreRefused)
{
    ASSERT_TRUE(fault_guard::install());
    uint8_t x[64];
    EXPECT_EQ(fault_guard::add(nullptr, 4096, small_page), -1);
    EXPECT_EQ(fault_guard::add(x, 0, small_page), -1);
    EXPECT_EQ(fault_guard::add(x, sizeof x, 3000), -1); // not a power of two
    EXPECT_EQ(fault_guard::faults(-1), 0u);
    fault_guard::remove(-1); // no-op
}

// ---- the hugetlb case, through region ------------------------------------------------------

long read_long(const std::string &path)
{
    std::ifstream f(path);
    long v = -1;
    f >> v;
    return v;
}

bool write_long(const std::string &path, long v)
{
    std::ofstream f(path);
    f << v << "\n";
    f.flush();
    return static_cast<bool>(f);
}

long meminfo(const std::string &key)
{
    std::ifstream f("/proc/meminfo");
    std::string k;
    long v = -1;
    while (f >> k) {
        if (k == key + ":") {
            f >> v;
            return v;
        }
        std::getline(f, k);
    }
    return -1;
}

// The hugepage pool as the test needs it; restored on the way out.
struct hugepage_pool {
    const std::string nr = "/proc/sys/vm/nr_hugepages";
    const std::string over = "/proc/sys/vm/nr_overcommit_hugepages";
    long nr0 = read_long(nr), over0 = read_long(over);

    ~hugepage_pool()
    {
        write_long(over, over0);
        write_long(nr, nr0);
    }
    // One more free page than now, and no surplus pages on demand.
    bool add_one()
    {
        return write_long(over, 0) && write_long(nr, nr0 + 1) && meminfo("HugePages_Free") >= 1;
    }
    // Gives back every free page, so the next fault of an unreserved page finds none.
    bool drain() { return write_long(nr, meminfo("HugePages_Total") - meminfo("HugePages_Free")); }
};

TEST(FaultGuard, HugetlbRegionSurvivesAPunchedHoleWithNoFreePage)
{
    if (::geteuid() != 0)
        GTEST_SKIP() << "needs root to size the hugepage pool";
    hugepage_pool pool;
    if (!pool.add_one())
        GTEST_SKIP() << "no huge page could be added to the pool";
    // buf_size 2048, 512 buffers, 1 MiB - 4 KiB of metadata: a region of exactly one 2 MiB page.
    region_options opt{2048, 512, (1u << 20) - 4096, true};
    std::string why;
    auto r = region::create("nrt-hole", opt, [&](const std::string &m) { why = m; });
    ASSERT_TRUE(r) << r.err().message;
    ASSERT_TRUE((*r)->hugepages()) << why;
    ASSERT_EQ((*r)->size(), 2u << 20);
    volatile uint8_t *v = (*r)->base();
    const uint64_t off = (*r)->geometry().buffers_offset + 100;
    v[off] = 7;

    // What a client holding the region fd can do: punch the page out, then leave no page free.
    ASSERT_EQ(::fallocate((*r)->fd(), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 2 << 20), 0);
    ASSERT_TRUE(pool.drain());
    ASSERT_EQ(meminfo("HugePages_Free"), 0);

    v[off + 1] = 8; // without the guard: SIGBUS, the daemon dies
    EXPECT_EQ((*r)->hugepage_faults(), 1u);
    EXPECT_EQ(v[off + 1], 8);
    EXPECT_EQ(v[off], 0); // the client's hole: the old contents are gone
}

} // namespace
} // namespace netring::netringd
