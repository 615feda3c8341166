// state_segment.hpp and state_records.hpp: a state saved comes back field for field, in this process
// and in one that adopts the fd; the last save wins; a save stopped before its flip, a state too
// big, and records that break the rules leave the previous state; a header or half damaged in any
// of the ways load() checks is refused with its sentence.
#include "state_layout.hpp"
#include "state_segment.hpp"

#include <boost/crc.hpp>
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <string_view>

namespace netring::netringd {
namespace {

kept_ring ring(uint64_t off, uint32_t fd_id) { return {off, off + 4096, 8192, 256, fd_id}; }

kept_state sample()
{
    kept_state s;
    s.last_reg_id = 42;
    s.next_fd_id = 20;
    s.regions.push_back({"pipe:pipeA", 0, 2048, 65536, 8u << 20, 136u << 20, 1, false, true, 1000,
                         {{0x1000, 0x800}, {0x10000, 0x7f0000}}, {{1001, 64535}}});
    s.regions.push_back({"nic:eth0", 1, 4096, 1024, 1u << 20, 5u << 20, 2, true, false, 0, {}, {{2, 1022}}});
    kept_pipe p;
    p.key = "pipe:pipeA{1}";
    p.parent = "pipe:pipeA";
    p.dir_rings = {2, 1};
    p.dir_slots = {256, 512};
    p.ends[0] = {"netmap:pipeA{1", true, true, 41, 1234, 8, 0x1000, 0x200, {ring(0x2000, 2), ring(0x4000, 3)},
                 {ring(0x6000, 4)}};
    p.ends[1] = {"netmap:pipeA}1",
                 false,
                 false,
                 0,
                 0,
                 0,
                 0x8000,
                 0x200,
                 {ring(0x9000, 5)},
                 {ring(0xa000, 6), ring(0xc000, 7)}};
    p.bufs = {2, 3, 4, 1000, 65535};
    p.tables[0] = {{0xe000, 0x180}, {0xe200, 0x180}};
    p.tables[1] = {{0xe400, 0x180}};
    p.broken = true;
    s.pipes.push_back(p);
    kept_registration r;
    r.reg_id = 41;
    r.key = p.key;
    r.name = "netmap:pipeA{1/x";
    r.uid = 1000, r.gid = 100, r.pid = 1234, r.buffers = 776;
    for (int i = 0; i < 16; i++)
        r.token[i] = static_cast<uint8_t>(0xa0 + i);
    r.netmap_if_offset = 0x7000, r.view_bytes = 0x300, r.mem_id = 1, r.port_kind = 2;
    r.tx_rings = 2, r.rx_rings = 1, r.tx_slots = 256, r.rx_slots = 512, r.extra_bufs = 8,
    r.if_offset = 0x1000;
    r.region = "pipe:pipeA";
    r.fd_ids = {0, 5, 2, 6, 3, 4, 7};
    s.registrations.push_back(r);
    r.reg_id = 7, r.key = "nic:eth0", r.name = "netmap:eth0", r.region = "nic:eth0", r.fd_ids = {1, 19};
    r.token.fill(0x5a);
    s.registrations.push_back(r);
    s.regions.push_back(
        {"vale0:p1", 8, 2048, 1024, 1u << 20, 5u << 20, 3, false, true, 1000, {}, {{200, 824}}});
    r.reg_id = 9, r.key = "vale0:p1", r.name = "vale0:p1", r.region = "vale0:p1",
    r.fd_ids = {8, 9, 10, 11, 12};
    s.registrations.push_back(r);
    kept_switch sw;
    sw.name = "vale0";
    sw.persistent = true;
    kept_switch_port port;
    port.name = "p1";
    port.kind = "ephemeral";
    port.tx = {0x2000, 0x3000, 0x1180, 64, 9, 10, 5, 4};
    port.rx = {0x4000, 0x5000, 0x1180, 64, 11, 12, 60, 3};
    port.bufs = {2, 3, 4, 199};
    port.regs = {{9, 4321, 0x1000, 0x200, 16, true}};
    port.counters = {1, 2, 3, 4, 5, 6, 7};
    sw.ports.push_back(port);
    sw.macs = {{0x0a0000000002, 0, 3}, {0x0b0000000002, 0, 250}};
    s.switches.push_back(sw);
    kept_nic n;
    n.key = "nic:eth0", n.ifname = "eth0", n.region = "nic:eth0", n.hw_queues = 4;
    n.xdp_map_fd_id = 8, n.xdp_prog_fd_id = 9, n.xdp_link_fd_id = 10;
    kept_nic_queue q;
    q.index = 2, q.users = 1, q.exclusive = true;
    q.tx = {0x20000, 0x21000, 0x1180, 512, 11, 12, 5, 3, 4};
    q.rx = {0x22000, 0x23000, 0x1180, 512, 13, 14, 100, 99, 0};
    q.xsk_fd_id = 15, q.xsk_ring_size = 4096, q.fill_ring_size = 4096, q.tx_in_kernel = 1, q.tx_credits = 0;
    q.held = {900, 901, 902};
    n.queues.push_back(q);
    n.registrations.push_back({7, 4321, {2}, 0x24000, 0x140, 16});
    n.owned = {3, 4, 900, 901, 902};
    s.nics.push_back(n);
    r.reg_id = 12, r.key = p.key, r.name = "netmap:pipeA{1/t", r.region = "pipe:pipeA", r.port_kind = 3;
    r.fd_ids = {0, 16, 17, 18, 19};
    s.registrations.push_back(r);
    kept_monitor m;
    m.port = p.key, m.name = "netmap:pipeA{1/t", m.reg_id = 12, m.if_off = 0xf000, m.if_bytes = 0x180;
    m.rings = {{0x10000, 0x11000, 0x1180, 2, 16, 17}, {0x12000, 0x13000, 0x1180, 2, 18, 19}};
    m.src = {{1, 0}, {1, 1}};
    m.bufs = {500, 501, 502, 503};
    m.entries = {{0, 0, 0}, {0, 1, 0}};
    s.monitors.push_back(m);
    return s;
}

// The segment's bytes as a successor (or a disk error) sees them, to read and damage.
mapped_region map_of(const state_segment &seg)
{
    struct stat st {};
    EXPECT_EQ(::fstat(seg.fd(), &st), 0);
    auto m = mapped_region::map(seg.fd(), static_cast<size_t>(st.st_size));
    EXPECT_TRUE(m.ok());
    return std::move(m.value());
}

state_header &header_of(const mapped_region &m) { return *reinterpret_cast<state_header *>(m.base()); }

uint8_t *half_of(const mapped_region &m, uint32_t i)
{
    return m.base() + header_of(m).half_offset + i * header_of(m).half_bytes;
}

state_segment adopt_dup(const state_segment &seg)
{
    auto a = state_segment::adopt(unique_fd(::dup(seg.fd())));
    EXPECT_TRUE(a.ok()) << (a.ok() ? "" : a.err().message);
    return std::move(a.value());
}

// The state `seg` holds; an empty one (and a failure) when it cannot be read.
kept_state loaded(const state_segment &seg)
{
    auto s = seg.load();
    EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.err().message);
    return s.ok() ? std::move(s.value()) : kept_state{};
}

void expect_refused(const result<kept_state> &r, errc code, std::string_view sentence)
{
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.err().code, make_error_code(code)) << r.err().message;
    EXPECT_NE(r.err().message.find(sentence), std::string::npos) << r.err().message;
}

TEST(state_segment_test, new_segment_loads_as_an_empty_state)
{
    auto seg = state_segment::create();
    ASSERT_TRUE(seg.ok()) << seg.err().message;
    EXPECT_EQ(seg->generation(), 1u);
    auto s = seg->load();
    ASSERT_TRUE(s.ok()) << s.err().message;
    EXPECT_EQ(*s, kept_state{});
}

TEST(state_segment_test, round_trip_keeps_every_field)
{
    auto seg = state_segment::create();
    ASSERT_TRUE(seg.ok());
    const kept_state s = sample();
    ASSERT_TRUE(seg->save(s).ok());
    EXPECT_EQ(seg->generation(), 2u);
    auto back = seg->load();
    ASSERT_TRUE(back.ok()) << back.err().message;
    EXPECT_EQ(*back, s); // defaulted ==: every field of every record
    EXPECT_EQ(back->pipes[0].ends[0].tx[1].notify_fd_id, 3u);
    EXPECT_EQ(back->registrations[1].token[15], 0x5a);
    EXPECT_EQ(back->nics[0].queues[0].rx.hwtail, 99u);
    EXPECT_EQ(back->nics[0].queues[0].held[2], 902u);
    EXPECT_EQ(back->monitors[0].rings[1].notify_fd_id, 19u);
    EXPECT_EQ(back->monitors[0].entries[1][1], 1u);
}

TEST(state_segment_test, the_last_save_wins)
{
    auto seg = state_segment::create();
    ASSERT_TRUE(seg.ok());
    kept_state first = sample(), second = sample();
    second.registrations.erase(second.registrations.begin() + 1); // reg 7, on the NIC
    second.nics.clear(); // it served the registration erased
    second.last_reg_id = 43;
    ASSERT_TRUE(seg->save(first).ok());
    ASSERT_TRUE(seg->save(second).ok());
    EXPECT_EQ(seg->generation(), 3u);
    auto back = seg->load();
    ASSERT_TRUE(back.ok()) << back.err().message;
    EXPECT_EQ(*back, second);
}

TEST(state_segment_test, an_adopted_dup_loads_the_same_state)
{
    auto seg = state_segment::create();
    ASSERT_TRUE(seg.ok());
    ASSERT_TRUE(seg->save(sample()).ok());
    auto next = adopt_dup(*seg);
    EXPECT_EQ(next.generation(), seg->generation());
    auto back = next.load();
    ASSERT_TRUE(back.ok()) << back.err().message;
    EXPECT_EQ(*back, sample());
    // The successor saves into the same memory: the predecessor's mapping sees it.
    ASSERT_TRUE(next.save({}).ok());
    EXPECT_EQ(loaded(*seg), kept_state{});
}

TEST(state_segment_test, a_save_stopped_before_its_flip_leaves_the_previous_state)
{
    auto seg = state_segment::create();
    ASSERT_TRUE(seg.ok());
    ASSERT_TRUE(seg->save(sample()).ok());
    const uint64_t gen = seg->generation();
    ASSERT_TRUE(seg->stage({}).ok()); // the process dies here
    EXPECT_EQ(loaded(adopt_dup(*seg)), sample());
    // Whatever the dying save left in the inactive half and its description does not matter.
    auto m = map_of(*seg);
    const uint32_t inactive = 1 - header_of(m).active;
    std::memset(half_of(m, inactive), 0xee, 8192);
    header_of(m).half[inactive] = {~0ull, ~0ull, 0xdeadbeef, 0};
    auto next = adopt_dup(*seg);
    EXPECT_EQ(next.generation(), gen);
    EXPECT_EQ(loaded(next), sample());
    ASSERT_TRUE(next.save({}).ok()); // and the successor saves over it
    EXPECT_EQ(loaded(next), kept_state{});
}

TEST(state_segment_test, bad_magic_is_refused)
{
    auto seg = state_segment::create();
    ASSERT_TRUE(seg.ok());
    auto m = map_of(*seg);
    header_of(m).magic = 0x12345678;
    expect_refused(seg->load(), errc::bad_message, "magic 0x12345678 is not netringd's state");
    auto a = state_segment::adopt(unique_fd(::dup(seg->fd())));
    ASSERT_FALSE(a.ok());
    EXPECT_NE(a.err().message.find("magic"), std::string::npos) << a.err().message;
}

TEST(state_segment_test, another_layout_version_is_refused)
{
    auto seg = state_segment::create();
    ASSERT_TRUE(seg.ok());
    auto m = map_of(*seg);
    const uint32_t other = state_layout_version + 1;
    header_of(m).layout_version = other;
    expect_refused(seg->load(), errc::unsupported_version,
                   "state layout version " + std::to_string(other) + ", this netringd reads " +
                       std::to_string(state_layout_version));
    EXPECT_FALSE(state_segment::adopt(unique_fd(::dup(seg->fd()))).ok());
}

TEST(state_segment_test, an_active_index_other_than_0_or_1_is_refused)
{
    auto seg = state_segment::create();
    ASSERT_TRUE(seg.ok());
    auto m = map_of(*seg);
    header_of(m).active = 7;
    expect_refused(seg->load(), errc::bad_message, "the active half is 7, neither 0 nor 1");
}

TEST(state_segment_test, a_flipped_byte_in_the_active_half_fails_the_crc)
{
    auto seg = state_segment::create();
    ASSERT_TRUE(seg.ok());
    ASSERT_TRUE(seg->save(sample()).ok());
    auto m = map_of(*seg);
    const auto &h = header_of(m);
    half_of(m, h.active)[h.half[h.active].used_bytes / 2] ^= 0x10;
    expect_refused(seg->load(), errc::bad_message, "has CRC-32 0x");
}

TEST(state_segment_test, a_string_without_terminator_is_refused_even_with_a_good_crc)
{
    auto seg = state_segment::create();
    ASSERT_TRUE(seg.ok());
    ASSERT_TRUE(seg->save(sample()).ok());
    auto m = map_of(*seg);
    auto &h = header_of(m);
    auto &d = h.half[h.active];
    uint8_t *half = half_of(m, h.active);
    // "netmap:pipeA}1" is short: Boost keeps it inside the string object, its NUL right after.
    const std::string_view name = "netmap:pipeA}1";
    auto *at = static_cast<uint8_t *>(::memmem(half, d.used_bytes, name.data(), name.size() + 1));
    ASSERT_NE(at, nullptr);
    at[name.size()] = 'X';
    boost::crc_32_type crc;
    crc.process_bytes(half, d.used_bytes);
    d.crc32 = crc.checksum(); // damage a checksum cannot see: a writer's bug
    expect_refused(seg->load(), errc::bad_message, "end B name has no terminator");
}

TEST(state_segment_test, a_state_too_big_is_refused_and_the_previous_state_stays)
{
    auto seg = state_segment::create(64u << 10);
    ASSERT_TRUE(seg.ok()) << seg.err().message;
    ASSERT_TRUE(seg->save(sample()).ok());
    kept_state big = sample();
    for (uint32_t id = 100; id < 2100; id++) {
        auto r = big.registrations[0];
        r.reg_id = id;
        big.registrations.push_back(r);
    }
    auto saved = seg->save(big);
    ASSERT_FALSE(saved.ok());
    EXPECT_EQ(saved.err().code, make_error_code(errc::limit_exceeded)) << saved.err().message;
    EXPECT_NE(saved.err().message.find("does not fit in a half of"), std::string::npos)
        << saved.err().message;
    EXPECT_EQ(seg->generation(), 2u);
    EXPECT_EQ(loaded(*seg), sample());
}

TEST(state_segment_test, records_that_break_the_rules_are_not_saved)
{
    auto seg = state_segment::create();
    ASSERT_TRUE(seg.ok());
    ASSERT_TRUE(seg->save(sample()).ok());
    const auto refused = [&](kept_state s, std::string_view sentence) {
        auto r = seg->save(s);
        ASSERT_FALSE(r.ok()) << sentence;
        EXPECT_EQ(r.err().code, make_error_code(errc::limit_exceeded)) << r.err().message;
        EXPECT_NE(r.err().message.find(sentence), std::string::npos) << r.err().message;
    };
    kept_state s = sample();
    s.registrations[1].reg_id = 41;
    refused(s, "registration 41 is listed twice");
    s = sample();
    s.registrations[0].fd_ids.push_back(20);
    refused(s, "names fd.20, past the last fd id 20");
    s = sample();
    s.pipes[0].parent = "pipe:pipeB";
    refused(s, "lives in region 'pipe:pipeB', which the state does not hold");
    s = sample();
    s.pipes.push_back(s.pipes[0]);
    refused(s, "pipe pipe:pipeA{1} is listed twice");
    s = sample();
    s.regions[0].name = std::string(64, 'r');
    refused(s, "is 64 bytes long, over the limit of 63");
    s = sample();
    s.pipes[0].ends[0].reg_id = 10;
    refused(s, "is open for registration 10, which the state does not hold");
    s = sample();
    s.switches.push_back(s.switches[0]);
    refused(s, "switch vale0 is listed twice");
    s = sample();
    s.switches[0].ports[0].rx.kick_fd_id = 20;
    refused(s, "names fd.20, past the last fd id 20");
    s = sample();
    s.regions.pop_back();
    std::erase_if(s.registrations, [](const kept_registration &r) { return r.reg_id == 9; });
    s.switches[0].ports[0].regs.clear();
    refused(s, "switch port vale0:p1 has no region in the state");
    s = sample();
    s.switches[0].ports[0].regs[0].reg_id = 41;
    refused(s, "holds registration 41, which the state does not hold for it");
    s = sample();
    s.switches[0].macs[1].port = 1;
    refused(s, "learned an address on port 1, past its 1 ports");
    s = sample();
    s.switches[0].macs[1].mac = s.switches[0].macs[0].mac;
    refused(s, "switch vale0 learned an address twice");
    s = sample();
    s.nics[0].registrations[0].reg_id = 10;
    refused(s, "serves registration 10, which the state does not hold");
    s = sample();
    s.nics[0].queues[0].xsk_fd_id = 20;
    refused(s, "names fd.20, past the last fd id 20");
    s = sample();
    s.nics[0].registrations[0].queues = {3};
    refused(s, "names queue 3, which is not bound");
    s = sample();
    s.nics[0].region = "nic:eth1";
    refused(s, "lives in region 'nic:eth1', which the state does not hold");
    s = sample();
    s.nics.push_back(s.nics[0]);
    refused(s, "port nic:eth0 is listed twice");
    s = sample();
    s.monitors[0].port = "pipe:pipeB{1}";
    refused(s, "which the state does not hold as a monitor of pipe:pipeB{1}");
    s = sample();
    s.monitors[0].reg_id = 41; // the pipe end's, not a monitor's
    refused(s, "which the state does not hold as a monitor of pipe:pipeA{1}");
    s = sample();
    s.monitors[0].src.pop_back();
    refused(s, "has 2 rings, 1 sources and 2 table entries");
    s = sample();
    s.monitors[0].rings[0].kick_fd_id = 20;
    refused(s, "names fd.20, past the last fd id 20");
    s = sample();
    s.monitors.push_back(s.monitors[0]);
    refused(s, "monitor registration 12 is listed twice");
    EXPECT_EQ(loaded(*seg), sample());
}

TEST(state_segment_test, adopt_refuses_an_fd_that_is_not_a_sealed_memfd)
{
    unique_fd plain(::memfd_create("not-sealed", MFD_CLOEXEC));
    ASSERT_TRUE(plain.valid());
    ASSERT_EQ(::ftruncate(plain.get(), 1 << 20), 0);
    auto a = state_segment::adopt(std::move(plain));
    ASSERT_FALSE(a.ok());
    EXPECT_NE(a.err().message.find("not a memfd sealed against shrinking"), std::string::npos)
        << a.err().message;
}

} // namespace
} // namespace netring::netringd
