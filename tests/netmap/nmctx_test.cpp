// nmctx (libclient/netmap/nmctx.cpp): the default context, messages through the error callback,
// verbosity, the allocator and lock callbacks.
#include "nm_test_ctx.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

// libnetmap.h only names it inside libnetmap_init(); the library defines it.
extern "C" int nmctx_threadsafe;

namespace {

TEST(Nmctx, DefaultIsThreadSafeAndSwappable)
{
    nmctx *def = nmctx_get();
    ASSERT_NE(def, nullptr);
    EXPECT_NE(def->lock, nullptr);
    EXPECT_NE(def->malloc, nullptr);
    EXPECT_EQ(nmctx_threadsafe, 1);
    recording_ctx rc;
    EXPECT_EQ(nmctx_set_default(rc.get()), def);
    EXPECT_EQ(nmctx_get(), rc.get());
    EXPECT_EQ(nmctx_set_default(def), rc.get());
    EXPECT_EQ(nmctx_get(), def);
}

TEST(Nmctx, SetThreadsafeGivesALockOnlyWhenMissing)
{
    recording_ctx rc;
    rc.ctx.lock = nullptr;
    nmctx *def = nmctx_set_default(rc.get());
    nmctx_set_threadsafe();
    EXPECT_NE(rc.ctx.lock, nullptr);
    nmctx_lock(rc.get()); // must not deadlock or crash
    nmctx_unlock(rc.get());
    nmctx_set_default(def);
}

TEST(Nmctx, FerrorFormatsAndRespectsVerbose)
{
    recording_ctx rc;
    nmctx_ferror(rc.get(), "port %s: %d rings", "eth0", 4);
    ASSERT_EQ(rc.errors.size(), 1u);
    EXPECT_EQ(rc.errors[0], "port eth0: 4 rings");
    rc.ctx.verbose = 0;
    nmctx_ferror(rc.get(), "hidden");
    EXPECT_EQ(rc.errors.size(), 1u);
}

TEST(Nmctx, LongMessagesAreCutAndMarked)
{
    recording_ctx rc;
    const std::string big(5000, 'e');
    nmctx_ferror(rc.get(), "%s", big.c_str());
    ASSERT_EQ(rc.errors.size(), 1u);
    EXPECT_LT(rc.errors[0].size(), big.size());
    EXPECT_EQ(rc.errors[0].substr(rc.errors[0].size() - 3), "...");
}

struct counting_ctx {
    recording_ctx rc;
    int mallocs = 0, frees = 0, locks = 0, unlocks = 0;
};

counting_ctx *counting(nmctx *c) { return reinterpret_cast<counting_ctx *>(c); }

TEST(Nmctx, AllocatorAndLockCallbacksAreUsed)
{
    counting_ctx cc;
    cc.rc.ctx.malloc = [](nmctx *c, size_t n) {
        counting(c)->mallocs++;
        return std::malloc(n);
    };
    cc.rc.ctx.free = [](nmctx *c, void *p) {
        counting(c)->frees++;
        std::free(p);
    };
    cc.rc.ctx.lock = [](nmctx *c, int lock) { lock ? counting(c)->locks++ : counting(c)->unlocks++; };
    nmctx *def = nmctx_set_default(cc.rc.get());
    nmport_d *d = nmport_prepare("netmap:eth0@conf=2"); // the descriptor and the option text
    ASSERT_NE(d, nullptr);
    EXPECT_GE(cc.mallocs, 2);
    nmport_undo_prepare(d);
    EXPECT_EQ(cc.mallocs, cc.frees);
    nmctx_lock(cc.rc.get());
    nmctx_unlock(cc.rc.get());
    EXPECT_EQ(cc.locks, 1);
    EXPECT_EQ(cc.unlocks, 1);
    nmctx_set_default(def);
}

} // namespace
