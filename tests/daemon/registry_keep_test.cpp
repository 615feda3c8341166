// registry_keep.cpp: a registry's pipes and their registrations, exported and adopted by a second
// registry as a successor process would (its fds are duplicates of the first one's). The adopted
// registrations wait for their owners; REATTACH needs the token and the uid; the pipe's memory and
// eventfds are the same objects; frames queued in a ring before the handoff are still there.
// Records that do not fit the region (a ring outside the metadata, a buffer outside the pool, a
// missing fd, a registration without its pipe) refuse the whole state and leave the registry empty.
// A pipe's monitor comes back with the pipe. Switches: switch_keep_test.cpp.
#include "keep_test_support.hpp"

#include <gtest/gtest.h>

#include <netring/layout.h>
#include <rings/eventfd.hpp>
#include <rings/monitor.hpp>
#include <rings/pipe_sync.hpp>
#include <rings/region_format.hpp>
#include <rings/ring_ops.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <map>
#include <string>
#include <thread>

namespace netring::netringd {
namespace {

using namespace keep_test;

class registry_keep : public ::testing::Test {
protected:
    void SetUp() override
    {
        a = old_reg.register_port({7, 1000, 1000, 111}, request("netmap:kp{1"));
        ASSERT_TRUE(a.ok()) << a.err().describe();
        b = old_reg.register_port({8, 1001, 1001, 222}, request("netmap:kp}1"));
        ASSERT_TRUE(b.ok()) << b.err().describe();
        register_more();
        kept = old_reg.export_state(ids);
    }
    // What a variant registers besides the pipe's two ends, before the export.
    virtual void register_more() {}

    const config cfg = small_config();
    const policy pol{cfg, 0};
    registry old_reg{cfg, pol};
    result<registered> a = error::from(errc::internal, "");
    result<registered> b = error::from(errc::internal, "");
    std::vector<std::pair<uint32_t, int>> ids;
    kept_state kept;
};

TEST_F(registry_keep, the_successor_adopts_the_pipe_and_only_owners_with_tokens_get_it_back)
{
    ASSERT_EQ(kept.regions.size(), 1u);
    ASSERT_EQ(kept.pipes.size(), 1u);
    ASSERT_EQ(kept.registrations.size(), 2u);
    // A frame queued on a's tx ring before the handoff.
    const region &mem = *a->a.mem;
    auto *nifp = reinterpret_cast<nr_if *>(mem.base() + a->a.if_offset);
    auto *tx = reinterpret_cast<nr_ring *>(reinterpret_cast<char *>(nifp) + nifp->ring_ofs[0]);
    tx->slot[tx->head].len = 77;
    tx->head = tx->cur = (tx->head + 1) % tx->num_slots;

    passed_fds fds(ids);
    registry fresh(cfg, pol);
    ASSERT_TRUE(fresh.adopt_state(kept, fds.taker(), 100).ok());
    EXPECT_EQ(fresh.registrations(), 2u);
    EXPECT_EQ(fresh.waiting(), 2u);
    auto region = fresh.find_region("pipe:kp");
    ASSERT_TRUE(region);
    EXPECT_EQ(inode_of(region->fd()), inode_of(mem.fd())) << "not the same memory";
    EXPECT_EQ(region->pool().available(), old_reg.find_region("pipe:kp")->pool().available());
    auto *adopted_if = reinterpret_cast<nr_if *>(region->base() + a->a.if_offset);
    auto *adopted_tx = reinterpret_cast<nr_ring *>(reinterpret_cast<char *>(adopted_if) + adopted_if->ring_ofs[0]);
    EXPECT_EQ(adopted_tx->slot[0].len, 77u) << "the queued frame is gone";

    // Another uid, a wrong token, another registration's token: refused alike.
    EXPECT_EQ(fresh.reattach({20, 1001, 1001, 333}, a->reg_id, a->token).err().code,
              make_error_code(errc::not_registered));
    auto wrong = a->token;
    wrong[0] ^= 1;
    EXPECT_EQ(fresh.reattach({20, 1000, 1000, 333}, a->reg_id, wrong).err().code,
              make_error_code(errc::not_registered));
    EXPECT_EQ(fresh.reattach({20, 1000, 1000, 333}, b->reg_id, a->token).err().code,
              make_error_code(errc::not_registered));

    auto back = fresh.reattach({20, 1000, 1000, 333}, a->reg_id, a->token);
    ASSERT_TRUE(back.ok()) << back.err().describe();
    EXPECT_EQ(back->a.if_offset, a->a.if_offset);
    ASSERT_EQ(back->a.fds.size(), a->a.fds.size());
    for (size_t i = 0; i < back->a.fds.size(); i++)
        EXPECT_EQ(inode_of(back->a.fds[i]), inode_of(a->a.fds[i])) << "fd " << i;
    EXPECT_EQ(fresh.waiting(), 1u);
    // Once held, nobody re-attaches it again, not even with the token.
    EXPECT_FALSE(fresh.reattach({21, 1000, 1000, 444}, a->reg_id, a->token).ok());

    // b's client never comes back: released after the timeout, a stays.
    EXPECT_EQ(fresh.expire_waiting(129, 30), 0u);
    EXPECT_EQ(fresh.expire_waiting(130, 30), 1u);
    EXPECT_EQ(fresh.registrations(), 1u);
    // New registrations get ids after the old ones.
    auto c = fresh.register_port({22, 0, 0, 555}, request("netmap:kq{1"));
    ASSERT_TRUE(c.ok()) << c.err().describe();
    EXPECT_GT(c->reg_id, b->reg_id);
}

TEST_F(registry_keep, records_that_do_not_fit_the_region_refuse_everything)
{
    const std::vector<damage> cases = {
        {"ring outside the metadata", [](kept_state &k) { k.pipes[0].ends[0].tx[0].ring_off = 1ull << 40; }},
        {"buffer outside the pool", [](kept_state &k) { k.pipes[0].bufs[3] = 1u << 30; }},
        {"missing eventfd", [](kept_state &k) { k.pipes[0].ends[1].rx[0].notify_fd_id = 9999; }},
        {"registration without its pipe", [](kept_state &k) { k.registrations[0].key = "pipe:nope{1}"; }},
        {"registration of another geometry", [](kept_state &k) { k.registrations[1].tx_slots = 128; }},
        {"open end with no registration", [](kept_state &k) { k.registrations.pop_back(); }},
        {"region fd missing", [](kept_state &k) { k.regions[0].fd_id = 9999; }},
        {"free list past the pool", [](kept_state &k) { k.regions[0].bufs_free.push_back({1u << 30, 1}); }},
        {"region of another size", [](kept_state &k) { k.regions[0].num_buffers *= 2; }},
    };
    expect_each_refused(kept, ids, cases, "netmap:kp{1");
}

// A /t monitor of a pipe end, kept with the pipe: the successor gives the monitor's client the same
// rings and eventfds back, the pipe's sender (in shared memory, as libnetring's pipe_txsync does)
// copies a frame sent after the adoption into the monitor's ring, and the region's free buffers
// are what they were. Damaged monitor records refuse everything.
class registry_keep_monitor : public registry_keep {
protected:
    void register_more() override
    {
        m = old_reg.register_port({9, 1000, 1000, 333}, request("netmap:kp{1/t"));
        ASSERT_TRUE(m.ok()) << m.err().describe();
    }

    result<registered> m = error::from(errc::internal, "");
};

TEST_F(registry_keep_monitor, the_monitor_comes_back_and_sees_frames_sent_after_the_adoption)
{
    ASSERT_EQ(kept.monitors.size(), 1u);
    ASSERT_EQ(kept.registrations.size(), 3u);
    EXPECT_EQ(kept.monitors[0].port, "pipe:kp{1}");
    EXPECT_EQ(kept.monitors[0].entries.size(), 1u);

    // A client scribbles over the pipe's monitor table meanwhile: the successor writes it again
    // from its records.
    const rings::ring_ref tx = ring_of(*a, 0), peer_rx = ring_of(*b, 1), mon = ring_of(*m, 0);
    const region &old_mem = *a->a.mem;
    auto &table = *reinterpret_cast<nr_mon_table *>(old_mem.base() + tx.sync->flags.mon_table_ofs);
    ASSERT_EQ(table.entry[0].state, NR_MON_ENTRY_ACTIVE);
    table.entry[0] = nr_mon_entry{};
    tx.sync->flags.monitors = 0;

    passed_fds fds(ids);
    registry fresh(cfg, pol);
    const status adopted = fresh.adopt_state(kept, fds.taker(), 100);
    ASSERT_TRUE(adopted.ok()) << adopted.err().describe();
    EXPECT_EQ(fresh.waiting(), 3u);
    auto adopted_mem = fresh.find_region("pipe:kp");
    ASSERT_TRUE(adopted_mem);
    EXPECT_EQ(adopted_mem->pool().available(), old_reg.find_region("pipe:kp")->pool().available());

    // Only the monitor's owner, with its token.
    EXPECT_FALSE(fresh.reattach({20, 1001, 1001, 444}, m->reg_id, m->token).ok());
    auto back = fresh.reattach({20, 1000, 1000, 444}, m->reg_id, m->token);
    ASSERT_TRUE(back.ok()) << back.err().describe();
    EXPECT_EQ(back->a.port_kind, uint32_t{NR_PORT_KIND_MONITOR});
    EXPECT_EQ(back->a.if_offset, m->a.if_offset);
    EXPECT_EQ(back->a.rx_rings, m->a.rx_rings);
    EXPECT_EQ(back->a.rx_slots, m->a.rx_slots);
    ASSERT_EQ(back->a.fds.size(), m->a.fds.size());
    for (size_t i = 0; i < back->a.fds.size(); i++)
        EXPECT_EQ(inode_of(back->a.fds[i]), inode_of(m->a.fds[i])) << "fd " << i;

    // The table entry was written again by the successor: a frame a sends now reaches the monitor.
    ASSERT_EQ(rings::load_relaxed(tx.sync->flags.monitors), 1u);
    const uint32_t before = rings::load_acquire(mon.sync->kern.hwtail);
    const region &mem = *adopted_mem;
    const rings::mon_env env{mem.base(), mem.size(), mem.geometry().buffers_offset, mem.limits()};
    const uint32_t head = rings::load_relaxed(tx.ring->head);
    nr_slot &slot = tx.ring->slot[head];
    uint8_t *frame = mem.base() + mem.geometry().buffers_offset + uint64_t{slot.buf_idx} * mem.geometry().buf_size;
    std::memset(frame, 0x5c, 64);
    slot.len = 64;
    const uint32_t next = (head + 1) % tx.num_slots;
    rings::store_relaxed(tx.ring->cur, next);
    rings::store_relaxed(tx.ring->head, next);
    ASSERT_TRUE(rings::pipe_txsync(tx, peer_rx, mem.limits(), &env).ok());
    ASSERT_EQ(rings::load_acquire(mon.sync->kern.hwtail), (before + 1) % mon.num_slots);
    const nr_slot &copy = mon.ring->slot[before];
    EXPECT_EQ(copy.len, 64u);
    const uint8_t *copied =
        mem.base() + mem.geometry().buffers_offset + uint64_t{copy.buf_idx} * mem.geometry().buf_size;
    EXPECT_EQ(std::memcmp(copied, frame, 64), 0);

    // Its owner closes it: the pipe stops copying.
    EXPECT_EQ(fresh.expire_waiting(130, 30), 2u); // a and b never came back
    EXPECT_TRUE(fresh.unregister(20, m->reg_id).ok());
    EXPECT_EQ(fresh.registrations(), 0u);
}

TEST_F(registry_keep_monitor, damaged_monitor_records_refuse_everything)
{
    const std::vector<damage> cases = {
        {"ring outside the metadata", [](kept_state &k) { k.monitors[0].rings[0].ring_off = 1ull << 40; }},
        {"if block outside the metadata", [](kept_state &k) { k.monitors[0].if_off = 1ull << 40; }},
        {"buffer outside the pool", [](kept_state &k) { k.monitors[0].bufs[1] = 1u << 30; }},
        {"one buffer short", [](kept_state &k) { k.monitors[0].bufs.pop_back(); }},
        {"missing eventfd", [](kept_state &k) { k.monitors[0].rings[0].notify_fd_id = 9999; }},
        {"unknown source flags", [](kept_state &k) { k.monitors[0].src[0].first = 0x80; }},
        {"entry of the other direction", [](kept_state &k) { k.monitors[0].entries[0][0] = 1; }},
        {"entry past the table", [](kept_state &k) { k.monitors[0].entries[0][2] = NR_MON_MAX; }},
        {"entry of another ring", [](kept_state &k) { k.monitors[0].entries[0][1] = 5; }},
        {"name of another pipe", [](kept_state &k) { k.monitors[0].name = "netmap:kz{1/t"; }},
        {"the registration's answer differs", [](kept_state &k) { k.registrations.back().rx_slots = 2; }},
    };
    expect_each_refused(kept, ids, cases, "netmap:kp{1");
}

} // namespace
} // namespace netring::netringd
