// registry_keep.cpp and switch_keep.cpp: a switch with three client ports (and a persistent one
// with an idle port) exported and adopted by a second registry as a successor process would: its
// learned addresses and counters come back, a frame queued while it was held is forwarded by the
// successor's thread to the one port that learned its destination, and damaged switch records
// refuse everything. A save made while the switch forwards resumes from its journal; a switch
// port's monitor comes back with the port.
#include "keep_test_support.hpp"

#include <netring/layout.h>
#include <rings/eventfd.hpp>

#include <chrono>
#include <cstring>
#include <map>
#include <string>
#include <thread>

namespace netring::netringd {
namespace {

using namespace keep_test;

// A client's view of a switch port registration: its rings through the first registry's mapping
// (the successor maps the same memfd), written as libnetring would write them.
struct port_view {
    rings::ring_ref tx, rx;
    uint8_t *bufs = nullptr;
    uint32_t buf_size = 0;
    int tx_kick = -1;

    explicit port_view(const registered &r)
    {
        const region &mem = *r.a.mem;
        rings::checked_if ci;
        EXPECT_EQ(rings::check_if_block(mem.base(), mem.geometry(), r.a.if_offset, &ci), "");
        auto ref = [&](size_t i) {
            return rings::ring_ref{reinterpret_cast<nr_ring *>(mem.base() + ci.rings.at(i).ring_off),
                                   reinterpret_cast<nr_sync *>(mem.base() + ci.rings.at(i).sync_off),
                                   ci.rings.at(i).num_slots};
        };
        tx = ref(0);
        rx = ref(1);
        bufs = mem.base() + mem.geometry().buffers_offset;
        buf_size = mem.geometry().buf_size;
        tx_kick = r.a.fds.at(1);
    }
    // A 60-byte frame from `src` to `dst` carrying `tag`, published and kicked.
    void send(uint8_t dst, uint8_t src, uint32_t tag)
    {
        const uint32_t head = rings::load_relaxed(tx.sync->app.head);
        nr_slot &slot = tx.ring->slot[head];
        uint8_t *f = bufs + uint64_t{slot.buf_idx} * buf_size;
        std::memset(f, 0, 60);
        std::memset(f, dst, 6); // ff..ff: broadcast; 02..02: a unicast address
        std::memset(f + 6, src, 6);
        std::memcpy(f + 14, &tag, sizeof tag);
        slot.len = 60;
        const uint32_t next = (head + 1) % tx.num_slots;
        rings::store_relaxed(tx.sync->app.cur, next);
        rings::store_release(tx.sync->app.head, next); // partner: the switch's acquire of head
        rings::eventfd_signal(tx_kick);
    }
    uint32_t received() const { return rings::load_acquire(rx.sync->kern.hwtail); }
    // Hands every received slot back (head to hwtail), as an application done with them does.
    void consume()
    {
        const uint32_t tail = received();
        rings::store_relaxed(rx.sync->app.cur, tail);
        rings::store_release(rx.sync->app.head, tail);
    }
    uint32_t tag_at(uint32_t i) const
    {
        uint32_t tag = 0;
        std::memcpy(&tag, bufs + uint64_t{rx.ring->slot[i].buf_idx} * buf_size + 14, sizeof tag);
        return tag;
    }
};

// Polls `done` until it holds or a generous bound passes (a hung thread fails, a slow one does not).
bool eventually(const std::function<bool()> &done)
{
    for (int i = 0; i < 20000; i++) {
        if (done())
            return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return done();
}

constexpr uint8_t broadcast = 0xff, mac_a = 0x02, mac_b = 0x0a;

class switch_keep : public ::testing::Test {
protected:
    void SetUp() override
    {
        for (const char *name : {"vale0:a", "vale0:b", "vale0:c"}) {
            auto r = old_reg.register_port({7, 1000, 1000, 111}, request(name));
            ASSERT_TRUE(r.ok()) << r.err().describe();
            regs.push_back(*r);
            views.emplace_back(*r);
        }
        // a floods (the switch learns A on a), b answers A (B learned on b, delivered to a only).
        views[0].send(broadcast, mac_a, 1);
        ASSERT_TRUE(eventually([&] { return views[1].received() == 1 && views[2].received() == 1; }));
        views[1].send(mac_a, mac_b, 2);
        ASSERT_TRUE(eventually([&] { return views[0].received() == 1; }));
        // A persistent switch and port nobody uses: kept as they are.
        ASSERT_TRUE(old_reg.switches().create_switch("vale1").ok());
        ASSERT_TRUE(old_reg.switches().add_port("vale1", "idle").ok());
        old_reg.release_unkept(); // the forwarding thread stops here
        // Queued during the gap: for B, which only b learned.
        views[0].send(mac_b, mac_a, 3);
        kept = old_reg.export_state(ids);
    }

    const config cfg = small_config();
    const policy pol{cfg, 0};
    registry old_reg{cfg, pol};
    std::vector<registered> regs;
    std::vector<port_view> views;
    std::vector<std::pair<uint32_t, int>> ids;
    kept_state kept;
};

TEST_F(switch_keep, the_successor_forwards_a_frame_queued_in_the_gap_where_it_learned)
{
    ASSERT_EQ(kept.switches.size(), 2u);
    ASSERT_EQ(kept.switches[0].ports.size(), 3u);
    EXPECT_EQ(kept.switches[0].macs.size(), 2u);
    EXPECT_EQ(kept.regions.size(), 4u);
    EXPECT_EQ(kept.registrations.size(), 3u);
    EXPECT_EQ(views[1].received(), 1u) << "a held switch forwarded";

    passed_fds fds(ids);
    registry fresh(cfg, pol);
    const status adopted = fresh.adopt_state(kept, fds.taker(), 100);
    ASSERT_TRUE(adopted.ok()) << adopted.err().describe();
    EXPECT_EQ(fresh.waiting(), 3u);
    const auto listed = fresh.switches().list();
    ASSERT_EQ(listed.size(), 2u);
    EXPECT_TRUE(listed[1].persistent);
    ASSERT_EQ(listed[1].ports.size(), 1u);
    EXPECT_EQ(listed[1].ports[0].kind, "persistent");
    EXPECT_EQ(listed[0].mac_entries, 2u);
    ASSERT_EQ(listed[0].ports.size(), 3u);
    EXPECT_GE(listed[0].ports[0].rx_packets, 1u) << "the counters start over";

    // The queued frame reaches b only: the successor knows where B is.
    ASSERT_TRUE(eventually([&] { return views[1].received() == 2; }));
    EXPECT_EQ(views[1].tag_at(1), 3u);
    // A broadcast after it reaches c as c's second frame: the unicast one was not flooded.
    views[0].send(broadcast, mac_a, 4);
    ASSERT_TRUE(eventually([&] { return views[1].received() == 3 && views[2].received() >= 2; }));
    EXPECT_EQ(views[2].tag_at(1), 4u);
    EXPECT_EQ(views[0].received(), 1u);

    // The owner re-attaches to the same eventfds.
    auto back = fresh.reattach({20, 1000, 1000, 333}, regs[0].reg_id, regs[0].token);
    ASSERT_TRUE(back.ok()) << back.err().describe();
    ASSERT_EQ(back->a.fds.size(), regs[0].a.fds.size());
    for (size_t i = 0; i < back->a.fds.size(); i++)
        EXPECT_EQ(inode_of(back->a.fds[i]), inode_of(regs[0].a.fds[i])) << "fd " << i;
    // A client leaving after the restart takes its ephemeral port with it.
    ASSERT_TRUE(fresh.unregister(20, regs[0].reg_id).ok());
    ASSERT_EQ(fresh.switches().list().at(0).ports.size(), 2u);
}

// A /r monitor of a switch port, kept with the port through a handoff: the successor's forwarding
// thread copies what it delivers to the port into the monitor's ring; sources a switch port cannot
// have, or a port that is not kept, refuse everything.
TEST(switch_keep_monitor, the_successor_feeds_the_monitor_of_a_kept_port)
{
    const config cfg = small_config();
    const policy pol{cfg, 0};
    registry old_reg{cfg, pol};
    std::vector<registered> regs;
    for (const char *name : {"vale2:a", "vale2:b", "vale2:b/r"}) {
        auto r = old_reg.register_port({7, 1000, 1000, 111}, request(name));
        ASSERT_TRUE(r.ok()) << r.err().describe();
        regs.push_back(*r);
    }
    old_reg.release_unkept(); // a handoff: the forwarding thread stops
    std::vector<std::pair<uint32_t, int>> ids;
    const kept_state kept = old_reg.export_state(ids);
    ASSERT_EQ(kept.monitors.size(), 1u);
    EXPECT_EQ(kept.monitors[0].port, "vale2:b");

    const std::vector<damage> cases = {
        {"a second ring", [](kept_state &k) { k.monitors[0].src[0].second = 1; }},
        {"a host ring", [](kept_state &k) { k.monitors[0].src[0].first |= NR_MON_SRC_HOST; }},
        {"a port not kept", [](kept_state &k) {
             k.monitors[0].port = k.registrations.back().key = "vale2:z";
             k.monitors[0].name = k.registrations.back().name = "vale2:z/r";
         }},
    };
    expect_each_refused(kept, ids, cases, "vale2:a");

    passed_fds fds(ids);
    registry fresh(cfg, pol);
    const status adopted = fresh.adopt_state(kept, fds.taker(), 100);
    ASSERT_TRUE(adopted.ok()) << adopted.err().describe();
    EXPECT_EQ(fresh.waiting(), 3u);
    auto back = fresh.reattach({20, 1000, 1000, 333}, regs[2].reg_id, regs[2].token);
    ASSERT_TRUE(back.ok()) << back.err().describe();
    EXPECT_EQ(back->a.port_kind, uint32_t{NR_PORT_KIND_MONITOR});
    ASSERT_EQ(back->a.fds.size(), regs[2].a.fds.size());
    for (size_t i = 0; i < back->a.fds.size(); i++)
        EXPECT_EQ(inode_of(back->a.fds[i]), inode_of(regs[2].a.fds[i])) << "fd " << i;

    // a floods a frame: b gets it, and so does b's monitor, from the successor's thread.
    port_view a(regs[0]), b(regs[1]);
    const rings::ring_ref mon = ring_of(regs[2], 0);
    a.send(broadcast, mac_a, 7);
    ASSERT_TRUE(eventually([&] { return b.received() == 1; }));
    ASSERT_TRUE(eventually([&] { return rings::load_acquire(mon.sync->kern.hwtail) == 1; }));
    const region &mem = *regs[2].a.mem;
    const uint8_t *copy = mem.base() + mem.geometry().buffers_offset +
                          uint64_t{mon.ring->slot[0].buf_idx} * mem.geometry().buf_size;
    uint32_t tag = 0;
    std::memcpy(&tag, copy + 14, sizeof tag);
    EXPECT_EQ(tag, 7u);
    EXPECT_EQ(mon.ring->slot[0].len, 60u);
}

// The saves made after each change run while forwarding threads run. A switch is saved with the
// cursors its thread last committed to its journal, and a successor that adopts the save after a
// crash takes the journal's newer ones: frames forwarded after the save are neither forwarded
// again nor taken back from the receiver, which has consumed them.
TEST(switch_keep_running, a_crash_after_the_save_resumes_from_the_journal)
{
    const config cfg = small_config();
    const policy pol{cfg, 0};
    registry old_reg{cfg, pol};
    std::vector<registered> regs;
    std::vector<port_view> views;
    for (const char *name : {"vale0:a", "vale0:b"}) {
        auto r = old_reg.register_port({7, 1000, 1000, 111}, request(name));
        ASSERT_TRUE(r.ok()) << r.err().describe();
        regs.push_back(*r);
        views.emplace_back(*r);
    }
    auto pa = old_reg.register_port({7, 1000, 1000, 111}, request("netmap:krun{1"));
    ASSERT_TRUE(pa.ok()) << pa.err().describe();
    auto pb = old_reg.register_port({8, 1000, 1000, 112}, request("netmap:krun}1"));
    ASSERT_TRUE(pb.ok()) << pb.err().describe();
    views[0].send(broadcast, mac_a, 1);
    ASSERT_TRUE(eventually([&] { return views[1].received() == 1; }));
    ASSERT_FALSE(old_reg.switches().held());

    std::vector<std::pair<uint32_t, int>> ids;
    const kept_state kept = old_reg.export_state(ids);
    ASSERT_EQ(kept.switches.size(), 1u);
    ASSERT_EQ(kept.switches[0].ports.size(), 2u);
    EXPECT_TRUE(kept.switches[0].macs.empty()) << "a running thread's addresses are its own";
    EXPECT_EQ(kept.switches[0].ports[1].rx.hwtail, 1u) << "the journal's last commit";
    EXPECT_EQ(kept.registrations.size(), 4u);
    EXPECT_EQ(kept.regions.size(), 3u);

    // After the save: three more frames, which b consumes. Then the old daemon's threads end
    // without another save (what a crash leaves).
    for (uint32_t tag = 2; tag <= 4; tag++)
        views[0].send(mac_b, mac_a, tag);
    ASSERT_TRUE(eventually([&] { return views[1].received() == 4; }));
    for (uint32_t i = 1; i < 4; i++)
        EXPECT_EQ(views[1].tag_at(i), i + 1);
    views[1].consume();
    old_reg.switches().hold();

    passed_fds fds(ids);
    registry fresh(cfg, pol);
    const status adopted = fresh.adopt_state(kept, fds.taker(), 100);
    ASSERT_TRUE(adopted.ok()) << adopted.err().describe();
    EXPECT_EQ(fresh.waiting(), 4u);
    ASSERT_EQ(fresh.switches().list().size(), 1u);
    EXPECT_EQ(views[1].received(), 4u) << "the rx ring's hwtail went back";

    // The next frame is b's fifth, in the next slot; nothing was forwarded twice or reset.
    views[0].send(mac_b, mac_a, 5);
    ASSERT_TRUE(eventually([&] { return views[1].received() == 5; }));
    EXPECT_EQ(views[1].tag_at(4), 5u);
    std::this_thread::sleep_for(std::chrono::milliseconds(20)); // room for a wrong extra frame
    EXPECT_EQ(views[1].received(), 5u);
    EXPECT_EQ(rings::load_acquire(views[1].rx.sync->kern.errors), 0u);
    EXPECT_EQ(rings::load_acquire(views[0].tx.sync->kern.errors), 0u);
    EXPECT_EQ(rings::load_acquire(views[0].tx.sync->kern.hwcur), 5u);
}

TEST_F(switch_keep, damaged_switch_records_refuse_everything)
{
    auto reg_of = [](kept_state &k, const char *key) -> kept_registration & {
        for (auto &r : k.registrations)
            if (r.key == key)
                return r;
        return k.registrations.front();
    };
    const std::vector<damage> cases = {
        {"ring outside the metadata", [](kept_state &k) { k.switches[0].ports[0].tx.ring_off = 1ull << 40; }},
        // The record's cursors count when the journal no longer carries the port's tag.
        {"ring index past its slots",
         [](kept_state &k) {
             k.switches[0].ports[1].rx.hwtail = 1u << 20;
             k.switches[0].ports[1].journal_tag++;
         }},
        {"tx ring not handed back whole",
         [](kept_state &k) {
             k.switches[0].ports[0].tx.hwtail = k.switches[0].ports[0].tx.hwcur;
             k.switches[0].ports[0].journal_tag = 0;
         }},
        {"journal missing", [](kept_state &k) { k.switches[0].journal_fd_id = 9999; }},
        {"journal is another file",
         [](kept_state &k) { k.switches[0].journal_fd_id = k.switches[0].ports[0].tx.kick_fd_id; }},
        {"journal slot past the journal", [](kept_state &k) { k.switches[0].ports[2].journal_slot = 256; }},
        {"two ports on one journal slot",
         [](kept_state &k) { k.switches[0].ports[2].journal_slot = k.switches[0].ports[0].journal_slot; }},
        {"eventfd missing", [](kept_state &k) { k.switches[0].ports[2].rx.kick_fd_id = 9999; }},
        {"buffer outside the pool", [](kept_state &k) { k.switches[0].ports[0].bufs[0] = 1u << 30; }},
        {"if block outside the metadata",
         [](kept_state &k) { k.switches[0].ports[0].regs[0].if_off = 1ull << 40; }},
        {"address learned on no port", [](kept_state &k) { k.switches[0].macs[0].port = 5; }},
        {"group address learned", [](kept_state &k) { k.switches[0].macs[0].mac |= 1; }},
        {"not a switch name", [](kept_state &k) { k.switches[0].name = "pipe0"; }},
        {"port without its region",
         [](kept_state &k) {
             std::erase_if(k.regions, [](const kept_region &r) { return r.name == "vale0:c"; });
         }},
        {"client without its registration",
         [&](kept_state &k) {
             const uint32_t id = reg_of(k, "vale0:b").reg_id;
             std::erase_if(k.registrations, [&](const kept_registration &r) { return r.reg_id == id; });
         }},
        {"registration on another port",
         [&](kept_state &k) {
             auto &r = reg_of(k, "vale0:b");
             r.key = r.name = r.region = "vale0:c";
         }},
        {"region of no port", [](kept_state &k) { k.switches[0].ports.pop_back(); }},
    };
    expect_each_refused(kept, ids, cases, "vale0:a");
}

} // namespace
} // namespace netring::netringd
