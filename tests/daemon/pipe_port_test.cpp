// The pipe port in-process: registry + region + pipe_port, no socket. A "client" maps the region
// fd it was handed (a second mapping, as a real client would) and moves packets with socket-path
// syncs through the registry. Checks payloads, fd wiring, extra buffers, busy and broken pipes,
// buffer accounting, and that corrupt ring state is reset with an error, never a crash.
#include "policy.hpp"
#include "registry.hpp"

#include <rings/region_format.hpp>

#include <gtest/gtest.h>

#include <sys/eventfd.h>
#include <unistd.h>

#include <cstring>
#include <set>

namespace netring::netringd {
namespace {

constexpr uint64_t session = 7;

config small_config()
{
    config c;
    c.buf_size = 2048;
    c.region_buffers = 1024;
    c.region_meta_bytes = 1u << 20;
    c.default_slots = 64;
    return c;
}

proto::regif request(const char *name, uint32_t extra = 0, uint32_t slots = 0)
{
    proto::regif r{};
    proto::set_text(r.port_name, sizeof r.port_name, name);
    r.extra_bufs = extra;
    r.tx_slots = r.rx_slots = slots;
    return r;
}

// A client's view: its own mapping of the region it was given.
struct client_view {
    mapped_region map;
    nr_if *nifp = nullptr;

    explicit client_view(const registered &r)
    {
        auto m = mapped_region::map(r.a.fds[0], r.a.mem->size());
        EXPECT_TRUE(m.ok());
        map = std::move(m.value());
        EXPECT_EQ(rings::check_if_block(map.base(), r.a.mem->geometry(), r.a.if_offset), "");
        nifp = reinterpret_cast<nr_if *>(map.base() + r.a.if_offset);
    }
    nr_ring *tx(uint32_t i) const { return nr_txring(nifp, i); }
    nr_ring *rx(uint32_t i) const { return nr_rxring(nifp, i); }
};

class pipe_port_test : public ::testing::Test {
protected:
    config cfg = small_config();
    policy pol{cfg, ::getuid()};
    registry reg{cfg, pol};

    registered open(const char *name, uint32_t extra = 0)
    {
        auto r = reg.register_port({session, 0, 0, ::getpid()}, request(name, extra));
        EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.err().describe());
        return r.ok() ? std::move(r.value()) : registered{};
    }

    // Writes `count` packets "pkt <first + k>" on tx ring 0 and publishes them.
    static void put(nr_ring *tx, uint32_t first, uint32_t count)
    {
        for (uint32_t k = 0; k < count; k++) {
            nr_slot &s = tx->slot[tx->head];
            const int n = std::snprintf(nr_buf(tx, s.buf_idx), 64, "pkt %u", first + k);
            s.len = static_cast<uint16_t>(n + 1);
            tx->head = tx->cur = nr_ring_next(tx, tx->head);
        }
    }

    // Reads every packet waiting on rx ring 0, checks its payload, releases the slots.
    static uint32_t take(nr_ring *rx, uint32_t first)
    {
        uint32_t got = 0;
        while (!nr_ring_empty(rx)) {
            const nr_slot &s = rx->slot[rx->cur];
            EXPECT_EQ(std::string(nr_buf(rx, s.buf_idx)), "pkt " + std::to_string(first + got));
            rx->head = rx->cur = nr_ring_next(rx, rx->cur);
            got++;
        }
        return got;
    }
};

TEST_F(pipe_port_test, moves_packets_between_the_ends)
{
    auto a = open("netmap:pa{1");
    auto b = open("netmap:pa}1");
    ASSERT_EQ(a.a.fds.size(), 5u);
    ASSERT_EQ(b.a.fds.size(), 5u);
    EXPECT_NE(a.a.if_offset, b.a.if_offset);
    EXPECT_EQ(a.a.tx_slots, 64u);
    // A.tx's kick is B.rx's notify, and the other way round.
    EXPECT_EQ(a.a.fds[1], b.a.fds[4]);
    EXPECT_EQ(b.a.fds[1], a.a.fds[4]);

    client_view ca(a), cb(b);
    ASSERT_EQ(nr_ring_space(ca.tx(0)), 63u);
    put(ca.tx(0), 0, 10);
    auto s = reg.sync(session, a.reg_id, 0, true);
    ASSERT_TRUE(s.ok()) << s.message;
    EXPECT_EQ(s.tail, 63u); // nothing to refill before B releases
    EXPECT_EQ(nr_ring_space(ca.tx(0)), 53u);
    ASSERT_TRUE(reg.sync(session, b.reg_id, 0, false).ok());
    EXPECT_EQ(nr_ring_space(cb.rx(0)), 10u);
    EXPECT_EQ(take(cb.rx(0), 0), 10u);
    ASSERT_TRUE(reg.sync(session, b.reg_id, 0, false).ok());
    ASSERT_TRUE(reg.sync(session, a.reg_id, proto::all_rings, true).ok());
    EXPECT_EQ(nr_ring_space(ca.tx(0)), 63u); // every slot B released came back

    // Wrap the ring several times in both directions.
    for (uint32_t round = 0; round < 10; round++) {
        // A txsync with nothing new collects the slots the peer released since.
        ASSERT_TRUE(reg.sync(session, a.reg_id, 0, true).ok());
        ASSERT_TRUE(reg.sync(session, b.reg_id, 0, true).ok());
        ASSERT_EQ(nr_ring_space(ca.tx(0)), 63u);
        ASSERT_EQ(nr_ring_space(cb.tx(0)), 63u);
        put(ca.tx(0), round * 40, 40);
        put(cb.tx(0), round * 40, 40);
        auto sa = reg.sync(session, a.reg_id, 0, true);
        ASSERT_TRUE(sa.ok()) << sa.message;
        ASSERT_TRUE(reg.sync(session, b.reg_id, 0, true).ok());
        ASSERT_TRUE(reg.sync(session, a.reg_id, 0, false).ok());
        ASSERT_TRUE(reg.sync(session, b.reg_id, 0, false).ok());
        EXPECT_EQ(take(cb.rx(0), round * 40), 40u);
        EXPECT_EQ(take(ca.rx(0), round * 40), 40u);
        ASSERT_TRUE(reg.sync(session, a.reg_id, 0, false).ok());
        ASSERT_TRUE(reg.sync(session, b.reg_id, 0, false).ok());
    }
}

TEST_F(pipe_port_test, txsync_wakes_a_peer_that_armed_its_wait)
{
    auto a = open("netmap:pw{1");
    auto b = open("netmap:pw}1");
    client_view cb(b);
    auto *sync = reinterpret_cast<nr_sync *>(reinterpret_cast<uint8_t *>(cb.nifp) +
                                             nr_get_ring_ext(cb.nifp, 1)->sync_ofs); // B rx ring 0
    sync->flags.appl_need_kick = 1;
    client_view ca(a);
    put(ca.tx(0), 0, 1);
    ASSERT_TRUE(reg.sync(session, a.reg_id, 0, true).ok());
    eventfd_t v = 0;
    ASSERT_EQ(::eventfd_read(b.a.fds[4], &v), 0); // B's rx notify
    EXPECT_EQ(v, 1u);
    EXPECT_EQ(sync->flags.appl_need_kick, 0u);
}

TEST_F(pipe_port_test, extra_buffers_are_linked_and_distinct)
{
    auto a = open("netmap:px{1", 5);
    EXPECT_EQ(a.a.extra_bufs, 5u);
    client_view ca(a);
    std::set<uint32_t> seen;
    for (uint32_t i = 0; i < ca.tx(0)->num_slots; i++)
        seen.insert(ca.tx(0)->slot[i].buf_idx);
    uint32_t idx = ca.nifp->ni_bufs_head, count = 0;
    const auto &g = a.a.mem->geometry();
    while (idx != 0 && count < 100) {
        ASSERT_LT(idx, g.num_buffers);
        ASSERT_GE(idx, NR_RESERVED_BUFFERS);
        EXPECT_TRUE(seen.insert(idx).second) << "buffer " << idx << " handed out twice";
        std::memcpy(&idx, ca.map.base() + g.buffers_offset + uint64_t{idx} * g.buf_size, sizeof idx);
        count++;
    }
    EXPECT_EQ(count, 5u);
}

TEST_F(pipe_port_test, an_end_admits_one_registration)
{
    auto a = open("netmap:pb{1");
    auto again = reg.register_port({session, 0, 0, 1}, request("netmap:pb{1/x"));
    ASSERT_FALSE(again.ok());
    EXPECT_EQ(again.err().code, make_error_code(errc::port_busy));
    EXPECT_NE(again.err().message.find("netmap:pb{1 is already open (pid "), std::string::npos);
    auto b = reg.register_port({session, 0, 0, 1}, request("netmap:pb}1/x")); // /x is accepted
    EXPECT_TRUE(b.ok());
}

TEST_F(pipe_port_test, closing_one_end_breaks_the_pipe)
{
    auto a = open("netmap:pc{1");
    auto b = open("netmap:pc}1");
    client_view ca(a);
    ASSERT_TRUE(reg.unregister(session, b.reg_id).ok());
    EXPECT_EQ(reg.ports(), 1u);
    EXPECT_EQ(reg.regions(), 1u); // end A still maps it

    eventfd_t v = 0;
    EXPECT_EQ(::eventfd_read(a.a.fds[2], &v), 0); // A's tx notify: a sleeper would wake
    EXPECT_EQ(::eventfd_read(a.a.fds[4], &v), 0); // A's rx notify
    auto s = reg.sync(session, a.reg_id, 0, true);
    EXPECT_EQ(s.code, errc::peer_gone);
    EXPECT_NE(s.message.find("closed"), std::string::npos);
    EXPECT_EQ(reg.sync(session, a.reg_id, 0, false).code, errc::peer_gone);

    auto reopen = reg.register_port({session, 0, 0, 1}, request("netmap:pc}1"));
    ASSERT_FALSE(reopen.ok());
    EXPECT_EQ(reopen.err().code, make_error_code(errc::port_busy));
    EXPECT_EQ(reopen.err().message, "pipe is closing: the other end is still open");

    ASSERT_TRUE(reg.unregister(session, a.reg_id).ok());
    EXPECT_EQ(reg.ports(), 0u);
    EXPECT_EQ(reg.regions(), 0u); // nothing uses pipe:pc any more
    open("netmap:pc}1");          // a fresh pipe
    EXPECT_EQ(reg.ports(), 1u);
}

TEST_F(pipe_port_test, destroying_a_pipe_returns_every_buffer)
{
    auto keep = open("netmap:pd{9"); // keeps region pipe:pd alive across the other pipe
    auto mem = reg.find_region("pipe:pd");
    ASSERT_TRUE(mem);
    const uint32_t free_before = mem->pool().available();
    const uint64_t meta_before = mem->meta().free_bytes();

    auto a = open("netmap:pd{1", 7);
    auto b = open("netmap:pd}1", 3);
    EXPECT_EQ(mem->pool().available(), free_before - 4 * 64 - 10);
    EXPECT_EQ(mem->users(), 3u);
    {
        client_view ca(a);
        put(ca.tx(0), 0, 20);
        ASSERT_TRUE(reg.sync(session, a.reg_id, 0, true).ok());
        // A client scribbling over its slots cannot change what goes back to the pool.
        for (uint32_t i = 0; i < ca.tx(0)->num_slots; i++)
            ca.tx(0)->slot[i].buf_idx = 2;
        ca.nifp->ni_bufs_head = 3;
    }
    mem.reset();
    EXPECT_EQ(reg.unregister_session(session), 3u);
    EXPECT_EQ(reg.regions(), 0u);

    keep = open("netmap:pd{9");
    mem = reg.find_region("pipe:pd");
    a = open("netmap:pd{1", 7);
    b = open("netmap:pd}1", 3);
    ASSERT_TRUE(reg.unregister(session, a.reg_id).ok());
    ASSERT_TRUE(reg.unregister(session, b.reg_id).ok());
    EXPECT_EQ(mem->pool().available(), free_before);
    EXPECT_EQ(mem->meta().free_bytes(), meta_before);
    EXPECT_EQ(mem->pool().rejected_returns(), 0u);
}

TEST_F(pipe_port_test, corrupt_rings_are_reset_and_the_pipe_keeps_working)
{
    auto a = open("netmap:pe{1");
    auto b = open("netmap:pe}1");
    client_view ca(a), cb(b);
    nr_ring *tx = ca.tx(0);

    tx->head = 9999;
    auto s = reg.sync(session, a.reg_id, 0, true);
    EXPECT_EQ(s.code, errc::ring_reset);
    EXPECT_NE(s.message.find("netmap:pe{1 tx ring 0: head 9999"), std::string::npos) << s.message;
    EXPECT_EQ(tx->head, 0u);
    EXPECT_EQ(tx->cur, 0u);

    tx->cur = 70;
    EXPECT_EQ(reg.sync(session, a.reg_id, 0, true).code, errc::ring_reset);

    tx->slot[0].buf_idx = 1u << 30;
    tx->head = tx->cur = 1;
    s = reg.sync(session, a.reg_id, 0, true);
    EXPECT_EQ(s.code, errc::ring_reset);
    EXPECT_NE(s.message.find("buf_idx"), std::string::npos) << s.message;
    EXPECT_LT(tx->slot[0].buf_idx, a.a.mem->geometry().num_buffers); // repaired

    tx->slot[0].len = 4000;
    tx->head = tx->cur = 1;
    EXPECT_EQ(reg.sync(session, a.reg_id, 0, true).code, errc::ring_reset);

    cb.rx(0)->head = 5000;
    EXPECT_EQ(reg.sync(session, b.reg_id, 0, false).code, errc::ring_reset);

    auto *sync = reinterpret_cast<nr_sync *>(reinterpret_cast<uint8_t *>(ca.nifp) + nr_get_ring_ext(ca.nifp, 0)->sync_ofs);
    sync->kern.hwcur = 123456;
    EXPECT_EQ(reg.sync(session, a.reg_id, 0, true).code, errc::ring_reset);
    EXPECT_EQ(reg.sync(session, a.reg_id, 7, true).code, errc::bad_ring);

    // After the resets the pipe still carries data.
    put(tx, 100, 3);
    ASSERT_TRUE(reg.sync(session, a.reg_id, 0, true).ok());
    ASSERT_TRUE(reg.sync(session, b.reg_id, 0, false).ok());
    EXPECT_EQ(take(cb.rx(0), 100), 3u);

    ASSERT_TRUE(reg.unregister(session, a.reg_id).ok());
    ASSERT_TRUE(reg.unregister(session, b.reg_id).ok());
    EXPECT_EQ(reg.regions(), 0u);
}

TEST_F(pipe_port_test, requests_over_the_limits_are_refused)
{
    auto expect = [&](const proto::regif &r, errc code, const char *text) {
        auto res = reg.register_port({session, 0, 0, 1}, r);
        ASSERT_FALSE(res.ok());
        EXPECT_EQ(res.err().code, make_error_code(code));
        EXPECT_NE(res.err().message.find(text), std::string::npos) << res.err().message;
    };
    expect(request("netmap:pl{1", 0, 65536), errc::limit_exceeded, "tx_slots 65536 exceeds max_slots 16384");
    expect(request("netmap:pl{1", 0, 1000), errc::limit_exceeded, "not a power of two");
    expect(request("netmap:pl{1", 5000), errc::limit_exceeded, "extra_bufs 5000 exceeds max_extra_bufs 4096");
    expect(request("netmap:pl{1", 0, 4096), errc::out_of_buffers, "this pipe needs 16384; raise region_buffers");
    expect(request("netmap:pl{1", 2000), errc::out_of_buffers, "raise region_buffers");
    auto many = request("netmap:pl{1");
    many.tx_rings = 9;
    expect(many, errc::limit_exceeded, "tx_rings 9 exceeds max_rings 8");
    // An interface that does not exist (no test may bind a real one: it would take its traffic).
    expect(request("netmap:nrtnone0"), errc::bad_port_name, "nrtnone0: no such interface");
    expect(request("netmap:nrtnone0^"), errc::bad_port_name, "no such interface");
    expect(request("netmap:pl{1/T"), errc::not_supported, "/T and /R");
    expect(request("netmap:"), errc::bad_port_name, "bad port name");
    EXPECT_EQ(reg.ports(), 0u);
    EXPECT_EQ(reg.regions(), 0u); // failed attempts leave nothing behind
    auto wrong = reg.sync(session + 1, 1, 0, true);
    EXPECT_EQ(wrong.code, errc::not_registered);
}

TEST_F(pipe_port_test, ring_counts_pair_up_across_the_ends)
{
    auto r = request("netmap:pm}1");
    r.tx_rings = 2;
    r.rx_rings = 3;
    auto b = reg.register_port({session, 0, 0, 1}, r);
    ASSERT_TRUE(b.ok()) << b.err().describe();
    EXPECT_EQ(b->a.tx_rings, 2u);
    EXPECT_EQ(b->a.rx_rings, 3u);
    EXPECT_EQ(b->a.fds.size(), 11u);
    auto a = open("netmap:pm{1");
    EXPECT_EQ(a.a.tx_rings, 3u);
    EXPECT_EQ(a.a.rx_rings, 2u);
    client_view ca(a), cb(b.value());
    put(ca.tx(2), 0, 4);
    ASSERT_TRUE(reg.sync(session, a.reg_id, 2, true).ok());
    ASSERT_TRUE(reg.sync(session, b->reg_id, proto::all_rings, false).ok());
    EXPECT_EQ(take(cb.rx(2), 0), 4u);
    EXPECT_TRUE(nr_ring_empty(cb.rx(0)));
}

TEST_F(pipe_port_test, stats_count_regions_registrations_and_rings)
{
    auto a = open("netmap:ps{1");
    auto b = open("netmap:ps}1");
    client_view ca(a);
    put(ca.tx(0), 0, 5);
    ASSERT_TRUE(reg.sync(session, a.reg_id, 0, true).ok());
    const auto bytes = reg.build_stats(5, 1, 1); // a protocol version 1 session: no uid records
    ASSERT_GE(bytes.size(), sizeof(proto::stats_reply));
    proto::stats_reply head;
    std::memcpy(&head, bytes.data(), sizeof head);
    ASSERT_EQ(head.n_regions, 1u);
    ASSERT_EQ(head.n_regs, 2u);
    ASSERT_EQ(head.n_rings, 4u);
    ASSERT_EQ(bytes.size(), sizeof head + sizeof(proto::stats_region) + 2 * sizeof(proto::stats_registration) +
                                4 * proto::stats_ring_v3_size);
    proto::stats_region region;
    std::memcpy(&region, bytes.data() + sizeof head, sizeof region);
    EXPECT_STREQ(region.name, "pipe:ps");
    EXPECT_EQ(region.buffers_total, 1022u);
    EXPECT_EQ(region.buffers_free, 1022u - 4 * 64);
    EXPECT_EQ(region.users, 2u);
    proto::stats_ring first{};
    std::memcpy(&first, bytes.data() + sizeof head + sizeof region + 2 * sizeof(proto::stats_registration),
                proto::stats_ring_v3_size);
    EXPECT_EQ(first.registration, 0u);
    EXPECT_EQ(first.dir, NR_RING_DIR_TX);
    EXPECT_EQ(first.packets, 5u);

    // Version 4 records carry how full each ring is: the sync handed the 5 frames to the other
    // end, whose rx ring (the last record) holds them until it reads; a's tx ring is empty.
    const auto v4 = reg.build_stats(5, 1, proto::version);
    std::memcpy(&head, v4.data(), sizeof head);
    ASSERT_EQ(head.n_rings, 4u);
    ASSERT_EQ(v4.size(), sizeof head + sizeof region + 2 * sizeof(proto::stats_registration) +
                             4 * sizeof(proto::stats_ring) + head.n_uids * sizeof(proto::stats_uid));
    proto::stats_ring rec[4];
    std::memcpy(rec, v4.data() + sizeof head + sizeof region + 2 * sizeof(proto::stats_registration), sizeof rec);
    EXPECT_EQ(rec[0].dir, NR_RING_DIR_TX);
    EXPECT_EQ(rec[0].occupied, 0u);
    EXPECT_EQ(rec[3].registration, 1u);
    EXPECT_EQ(rec[3].dir, NR_RING_DIR_RX);
    EXPECT_EQ(rec[3].occupied, 5u);
}

TEST_F(pipe_port_test, stats_list_what_each_uid_holds)
{
    auto a = open("netmap:pu{1");
    auto b = open("netmap:pu}1");
    const auto bytes = reg.build_stats(5, 1, proto::version);
    proto::stats_reply head;
    std::memcpy(&head, bytes.data(), sizeof head);
    ASSERT_EQ(head.n_uids, 1u);
    ASSERT_EQ(bytes.size(), sizeof head + head.n_regions * sizeof(proto::stats_region) +
                                head.n_regs * sizeof(proto::stats_registration) +
                                head.n_rings * sizeof(proto::stats_ring) + sizeof(proto::stats_uid));
    proto::stats_uid u;
    std::memcpy(&u, bytes.data() + bytes.size() - sizeof u, sizeof u);
    EXPECT_EQ(u.registrations, 2u);
    EXPECT_EQ(u.regions, 1u); // the first end's name created pipe:pu
    // The region's buffers, plus the second end's rings (it did not create the region).
    EXPECT_EQ(u.buffers, 1024u + 64u + 64u);
    reg.unregister(session, a.reg_id);
    reg.unregister(session, b.reg_id);
    const auto after = reg.build_stats(5, 1, proto::version);
    std::memcpy(&head, after.data(), sizeof head);
    EXPECT_EQ(head.n_uids, 0u) << "a uid that holds nothing is not listed";
}

TEST_F(pipe_port_test, policy_decides_who_may_register)
{
    config c = parse_config("allow uid=65534 netmap:ok*\n", "test");
    policy p(c, ::getuid());
    registry r(c, p);
    EXPECT_TRUE(r.register_port({1, 65534, 65534, 1}, request("netmap:okay{1")).ok());
    auto no = r.register_port({1, 65534, 65534, 1}, request("netmap:secret{1"));
    ASSERT_FALSE(no.ok());
    EXPECT_EQ(no.err().code, make_error_code(errc::access_denied));
    auto info = r.port_info({1, 65534, 65534, 1}, "netmap:okay}1");
    ASSERT_TRUE(info.ok());
    EXPECT_EQ(info->clients, 1u);
    EXPECT_EQ(info->region_name, "pipe:okay");
}

} // namespace
} // namespace netring::netringd
