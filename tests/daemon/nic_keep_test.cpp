// nic_keep.cpp, xsk_rings.cpp and xdp_program::adopt: a registry's AF_XDP NIC port, exported and
// adopted by a second registry as a successor process would (its fds are duplicates of the first
// one's). The adopted registration waits for its owner and comes back with the same memory; a frame
// that arrived while no worker ran reaches the adopted rx ring. Records that do not match what they
// describe (a socket ring's size, an fd of the wrong kind, the fill ring's buffers, the frames in
// flight, a ring's indices or place, the interface's queue count, the queue's users) refuse the
// whole state and leave the registry empty; the kept objects are untouched, so a good state is
// still adopted afterwards. A handoff that fails starts the paused worker again (resume_kept).
// The same for a port in AF_PACKET mode (its packet socket and RX ring).
// A crash (nic_keep_running): the records come from a save made while the worker ran, before
// frames arrived; the worker delivered them and committed its journal, and died (as played here)
// after the commit and before publishing the last batch. The successor takes the cursors from the
// journal, delivers that batch again into the same slots, and neither loses nor repeats a frame.
// Steps: a veth pair nrk<pid>a / nrk<pid>b in the root namespace (IPv6 off), netmap:nrk<pid>a
// registered in AF_XDP mode, frames sent into b with an AF_PACKET socket. Needs root.
#include "policy.hpp"
#include "passed_fds.hpp"
#include "ports/nic/nic_journal.hpp"
#include "ports/nic/xsk_rings.hpp"
#include "registry.hpp"

#include <gtest/gtest.h>

#include <netring/layout.h>

#include <fcntl.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <string>
#include <thread>

namespace netring::netringd {
namespace {

int sh(const std::string &cmd) { return std::system((cmd + " >/dev/null 2>&1").c_str()); }

proto::regif request(const std::string &name)
{
    proto::regif r{};
    proto::set_text(r.port_name, sizeof r.port_name, name);
    return r;
}

class nic_keep : public ::testing::Test {
protected:
    void SetUp() override
    {
        if (::geteuid() != 0)
            GTEST_SKIP() << "needs root (veth pair, XDP program, AF_XDP socket)";
        a_ = "nrk" + std::to_string(::getpid()) + "a";
        b_ = "nrk" + std::to_string(::getpid()) + "b";
        ASSERT_EQ(sh("ip link add " + a_ + " type veth peer name " + b_), 0);
        for (const auto &n : {a_, b_})
            std::ofstream("/proc/sys/net/ipv6/conf/" + n + "/disable_ipv6") << "1";
        ASSERT_EQ(sh("ip link set " + a_ + " up && ip link set " + b_ + " up"), 0);
        cfg_ = parse_config(
            "buf_size 2048\nregion_buffers 8192\nregion_meta_bytes 1048576\ndefault_slots 64\n"
            "nic_mode " +
                std::string(mode()) + "\nallow uid=1000 netmap:" + a_ + "*\nallow uid=1000 vale0:*\n",
            "nic_keep_test");
        pol_ = std::make_unique<policy>(cfg_, 0);
        old_ = std::make_unique<registry>(cfg_, *pol_);
        open_ports();
        ASSERT_TRUE(reg_.ok()) << reg_.err().describe();
        if (!running_save()) {
            EXPECT_EQ(old_->release_unkept(), 0u);
        }
        kept_ = old_->export_state(ids_);
    }

    virtual const char *mode() const { return "afxdp"; }
    // A save made after a change, as a crash leaves it (the default: a handoff's).
    virtual bool running_save() const { return false; }
    virtual const char *suffix() const { return ""; } // "*": the NIC's rings and its host rings
    virtual void open_ports()
    {
        reg_ = old_->register_port({7, 1000, 1000, 111}, request("netmap:" + a_ + suffix()));
    }

    void TearDown() override
    {
        old_.reset();
        if (!a_.empty())
            sh("ip link del " + a_); // takes the peer with it
    }

    // A frame into b: the veth hands it to a, where the XDP program gives it to the socket.
    void send_into_b() { send_out(::if_nametoindex(b_.c_str()), 0x88b5); }
    // A 60-byte broadcast frame of `ethertype` sent out through interface `ifindex`; its byte 14
    // is 0x5a.
    static void send_out(unsigned ifindex, uint16_t ethertype)
    {
        unique_fd s(::socket(AF_PACKET, SOCK_RAW, 0));
        ASSERT_TRUE(s.valid());
        uint8_t f[60] = {};
        std::memset(f, 0xff, 6);
        f[6] = 0x02;
        f[12] = static_cast<uint8_t>(ethertype >> 8), f[13] = static_cast<uint8_t>(ethertype);
        f[14] = 0x5a;
        sockaddr_ll to{};
        to.sll_family = AF_PACKET;
        to.sll_ifindex = static_cast<int>(ifindex);
        to.sll_halen = 6;
        std::memset(to.sll_addr, 0xff, 6);
        ASSERT_EQ(::sendto(s.get(), f, sizeof f, 0, reinterpret_cast<sockaddr *>(&to), sizeof to), 60);
    }

    void expect_adopted_and_carrying_on();
    // A 60-byte frame sent into b reaches the rx ring of registration `r` (its region, as mapped
    // by the registry holding it).
    void expect_frame_in_rx_ring(const registered &r);

    std::string a_, b_;
    config cfg_;
    std::unique_ptr<policy> pol_;
    std::unique_ptr<registry> old_;
    result<registered> reg_ = error::from(errc::internal, "");
    std::vector<std::pair<uint32_t, int>> ids_;
    kept_state kept_;
};

struct damage {
    const char *why;
    std::function<void(kept_nic &)> apply;
};

// Each damaged copy of the kept state refuses everything; then the good one is still adopted.
void expect_refused(const kept_state &kept, const std::vector<std::pair<uint32_t, int>> &ids,
                    const config &cfg, const policy &pol, const std::vector<damage> &cases)
{
    for (const damage &d : cases) {
        kept_state k = kept;
        d.apply(k.nics[0]);
        passed_fds fds(ids);
        registry fresh(cfg, pol);
        auto st = fresh.adopt_state(k, fds.taker(), 100);
        ASSERT_FALSE(st.ok()) << d.why;
        EXPECT_NE(st.err().message.find(d.why), std::string::npos) << st.err().message;
        EXPECT_EQ(fresh.registrations(), 0u) << d.why;
        EXPECT_EQ(fresh.ports(), 0u) << d.why;
        EXPECT_EQ(fresh.regions(), 0u) << d.why;
    }
    passed_fds fds(ids);
    registry fresh(cfg, pol);
    auto st = fresh.adopt_state(kept, fds.taker(), 100);
    EXPECT_TRUE(st.ok()) << st.err().describe();
}

void nic_keep::expect_adopted_and_carrying_on()
{
    ASSERT_EQ(kept_.nics.size(), 1u);
    ASSERT_EQ(kept_.nics[0].queues.size(), 1u);
    ASSERT_EQ(kept_.registrations.size(), 1u);
    send_into_b(); // no worker runs: it waits on the socket's RX ring

    passed_fds fds(ids_);
    registry fresh(cfg_, *pol_);
    auto st = fresh.adopt_state(kept_, fds.taker(), 100);
    ASSERT_TRUE(st.ok()) << st.err().describe();
    EXPECT_EQ(fresh.registrations(), 1u);
    EXPECT_EQ(fresh.waiting(), 1u);
    auto back = fresh.reattach({20, 1000, 1000, 333}, reg_->reg_id, reg_->token);
    ASSERT_TRUE(back.ok()) << back.err().describe();
    ASSERT_EQ(back->a.fds.size(), reg_->a.fds.size());
    for (size_t i = 0; i < back->a.fds.size(); i++)
        EXPECT_EQ(inode_of(back->a.fds[i]), inode_of(reg_->a.fds[i])) << "fd " << i;

    // The adopted worker moves the frame into the rx ring.
    expect_frame_in_rx_ring(*back);
}

void nic_keep::expect_frame_in_rx_ring(const registered &r)
{
    // Ring 1 of the if block: the tx ring comes first.
    const region &mem = *r.a.mem;
    auto *nifp = reinterpret_cast<nr_if *>(mem.base() + r.a.if_offset);
    auto *rx = reinterpret_cast<nr_ring *>(reinterpret_cast<char *>(nifp) + nifp->ring_ofs[1]);
    const auto *sync = reinterpret_cast<const nr_sync *>(mem.base() + kept_.nics[0].queues[0].rx.sync_off);
    const uint32_t tail_before = kept_.nics[0].queues[0].rx.hwtail;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (__atomic_load_n(&sync->kern.hwtail, __ATOMIC_ACQUIRE) == tail_before &&
           std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    ASSERT_NE(__atomic_load_n(&sync->kern.hwtail, __ATOMIC_ACQUIRE), tail_before)
        << "the frame never arrived";
    EXPECT_EQ(rx->slot[tail_before].len, 60u);
}

TEST_F(nic_keep, a_failed_handoff_starts_the_paused_worker_again)
{
    ASSERT_EQ(kept_.nics.size(), 1u);
    send_into_b(); // the worker is paused since release_unkept: it waits on the socket's RX ring
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    const auto *sync =
        reinterpret_cast<const nr_sync *>(reg_->a.mem->base() + kept_.nics[0].queues[0].rx.sync_off);
    EXPECT_EQ(__atomic_load_n(&sync->kern.hwtail, __ATOMIC_ACQUIRE), kept_.nics[0].queues[0].rx.hwtail)
        << "a paused worker moved a frame";
    old_->resume_kept();
    expect_frame_in_rx_ring(*reg_);
}

TEST_F(nic_keep, the_successor_adopts_the_nic_and_its_worker_carries_on) { expect_adopted_and_carrying_on(); }

TEST_F(nic_keep, records_that_do_not_match_refuse_everything)
{
    ASSERT_EQ(kept_.nics.size(), 1u);
    // Two frames on the socket's RX ring (no worker runs): their buffers must be ones it holds.
    send_into_b();
    send_into_b();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    const uint32_t region_fd = kept_.regions[0].fd_id; // the region takes it first
    expect_refused(
        kept_, ids_, cfg_, *pol_,
        {
            {"larger than the", [](kept_nic &n) { n.queues[0].xsk_ring_size /= 2; }},
            {"not an AF_XDP socket",
             [](kept_nic &n) { std::swap(n.queues[0].xsk_fd_id, n.queues[0].rx.notify_fd_id); }},
            {"its program is not", [](kept_nic &n) { std::swap(n.xdp_link_fd_id, n.xdp_prog_fd_id); }},
            {"its link does not hold", [&](kept_nic &n) { n.xdp_link_fd_id = region_fd; }},
            {"its map is not an XSKMAP", [](kept_nic &n) { std::swap(n.xdp_map_fd_id, n.xdp_prog_fd_id); }},
            {"its RX ring holds a buffer the record does not",
             [](kept_nic &n) {
                 // The port's other buffers (its rings' slots) in place of the socket's.
                 std::vector<uint32_t> others;
                 for (uint32_t b : n.owned)
                     if (std::find(n.queues[0].held.begin(), n.queues[0].held.end(), b) ==
                         n.queues[0].held.end())
                         others.push_back(b);
                 n.queues[0].held = others;
             }},
            {"its rings hold more than", [](kept_nic &n) { n.queues[0].held.clear(); }},
            {"outside the area or listed twice",
             [](kept_nic &n) { n.queues[0].held[1] = n.queues[0].held[0]; }},
            {"disagree on the frames in flight", [](kept_nic &n) { n.queues[0].tx_in_kernel++; }},
            {"indices do not hold together",
             [](kept_nic &n) { n.queues[0].rx.hwtail = n.queues[0].rx.num_slots; }},
            {"outside its place", [](kept_nic &n) { n.queues[0].tx.ring_off += 64; }},
            {"queues, the record", [](kept_nic &n) { n.hw_queues++; }},
            {"counts users", [](kept_nic &n) { n.queues[0].users = 2; }},
            {"listed twice", [](kept_nic &n) { n.owned.push_back(n.owned.front()); }},
        });
}

class nic_keep_afpacket : public nic_keep {
protected:
    const char *mode() const override { return "afpacket"; }
};

TEST_F(nic_keep_afpacket, the_successor_adopts_the_packet_socket_and_its_worker_carries_on)
{
    ASSERT_EQ(kept_.nics.size(), 1u);
    EXPECT_TRUE(kept_.nics[0].afpacket);
    expect_adopted_and_carrying_on();
}

TEST_F(nic_keep_afpacket, records_that_do_not_match_refuse_everything)
{
    ASSERT_EQ(kept_.nics.size(), 1u);
    expect_refused(
        kept_, ids_, cfg_, *pol_,
        {
            {"its RX ring is not", [](kept_nic &n) { n.queues[0].packet_blocks *= 2; }},
            {"not a packet socket",
             [](kept_nic &n) { std::swap(n.queues[0].xsk_fd_id, n.queues[0].rx.notify_fd_id); }},
            {"the reader's place", [](kept_nic &n) { n.queues[0].packet_block = n.queues[0].packet_blocks; }},
            {"disagree on the frames in flight", [](kept_nic &n) { n.queues[0].tx_in_kernel++; }},
            {"queues, the record", [](kept_nic &n) { n.hw_queues++; }},
        });
}

class nic_keep_running : public nic_keep {
protected:
    bool running_save() const override { return true; }
    // The kept fd the records name `id`.
    int fd_of(uint32_t id) const
    {
        for (const auto &[i, fd] : ids_)
            if (i == id)
                return fd;
        return -1;
    }
    const nr_sync *rx_sync(const registered &r) const
    {
        return reinterpret_cast<const nr_sync *>(r.a.mem->base() + kept_.nics[0].queues[0].rx.sync_off);
    }
    void expect_resumed_from_the_journal(bool undo);
    void undo_last_batch(const kept_nic &kn, const kept_nic_queue &kq, nr_ring *ring, uint32_t tail0);
    bool wait_rx_tail(const registered &r, uint32_t want)
    {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        while (__atomic_load_n(&rx_sync(r)->kern.hwtail, __ATOMIC_ACQUIRE) != want &&
               std::chrono::steady_clock::now() < deadline)
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        return __atomic_load_n(&rx_sync(r)->kern.hwtail, __ATOMIC_ACQUIRE) == want;
    }
};

// Three frames delivered after the save, the worker stopped; `undo` plays a kill between the last
// commit and its publication. The successor shows the three frames in their slots, once, and the
// fourth after them.
void nic_keep_running::expect_resumed_from_the_journal(bool undo)
{
    ASSERT_EQ(kept_.nics.size(), 1u);
    const kept_nic &kn = kept_.nics[0];
    EXPECT_TRUE(kn.running);
    ASSERT_EQ(kn.queues.size(), 1u);
    const kept_nic_queue &kq = kn.queues[0];
    EXPECT_TRUE(kq.held.empty()) << "a running save cannot know the socket's buffers";
    EXPECT_NE(kq.journal_tag, 0u);
    ASSERT_EQ(kept_.registrations.size(), 1u);
    const uint32_t n = kq.rx.num_slots, tail0 = kq.rx.hwtail;

    // Three frames after the save: the worker delivers them and commits each pass.
    for (int i = 0; i < 3; i++)
        send_into_b();
    ASSERT_TRUE(wait_rx_tail(*reg_, (tail0 + 3) % n)) << "the frames never arrived";
    auto *ring = reinterpret_cast<nr_ring *>(reg_->a.mem->base() + kq.rx.ring_off);
    uint32_t delivered[3];
    for (uint32_t i = 0; i < 3; i++)
        delivered[i] = ring->slot[(tail0 + i) % n].buf_idx;
    old_->release_unkept(); // the worker stops; nothing is saved again
    if (undo)
        undo_last_batch(kn, kq, ring, tail0);
    if (HasFatalFailure())
        return;

    // The successor adopts the save made before the frames came.
    passed_fds fds(ids_);
    registry fresh(cfg_, *pol_);
    auto st = fresh.adopt_state(kept_, fds.taker(), 100);
    ASSERT_TRUE(st.ok()) << st.err().describe();
    auto back = fresh.reattach({20, 1000, 1000, 333}, reg_->reg_id, reg_->token);
    ASSERT_TRUE(back.ok()) << back.err().describe();
    EXPECT_EQ(__atomic_load_n(&rx_sync(*back)->kern.hwtail, __ATOMIC_ACQUIRE), (tail0 + 3) % n);
    const uint8_t *bufs = back->a.mem->base() + back->a.mem->geometry().buffers_offset;
    for (uint32_t i = 0; i < 3; i++) {
        const nr_slot s = ring->slot[(tail0 + i) % n];
        EXPECT_EQ(s.buf_idx, delivered[i]) << "slot " << i;
        EXPECT_EQ(s.len, 60u) << "slot " << i;
        const uint8_t *d = bufs + uint64_t{s.buf_idx} * back->a.mem->geometry().buf_size + (s.ptr & 2047);
        EXPECT_EQ(d[14], 0x5a) << "slot " << i;
    }

    // A fourth frame lands after them, and nothing is delivered twice.
    send_into_b();
    ASSERT_TRUE(wait_rx_tail(*back, (tail0 + 4) % n)) << "the adopted worker did not carry on";
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    EXPECT_EQ(__atomic_load_n(&rx_sync(*back)->kern.hwtail, __ATOMIC_ACQUIRE), (tail0 + 4) % n);
    EXPECT_EQ(ring->slot[(tail0 + 3) % n].len, 60u);
}

// The socket's RX consumer and fill producer, the slots' contents and the ring's hwtail as they
// were before the last commit's batch: what a kill right after the commit leaves.
void nic_keep_running::undo_last_batch(const kept_nic &kn, const kept_nic_queue &kq, nr_ring *ring,
                                       uint32_t tail0)
{
    const uint32_t n = kq.rx.num_slots;
    auto journal = nic_journal::adopt(unique_fd(::fcntl(fd_of(kn.journal_fd_id), F_DUPFD_CLOEXEC, 0)));
    ASSERT_TRUE(journal.ok()) << journal.err().describe();
    const queue_cursors c = journal->read(0);
    EXPECT_EQ(c.rx_hwtail, (tail0 + 3) % n);
    const uint32_t batch = c.rx_cons - c.rx_from;
    ASSERT_GE(batch, 1u) << "the last commit delivered frames";
    ASSERT_EQ((c.rx_hwtail - c.rx_tail_from + n) % n, batch);
    {
        xsk_ring_maps maps;
        xsk_ring_prod fill{}, txr{};
        xsk_ring_cons comp{}, rxr{};
        ASSERT_TRUE(maps.map(fd_of(kq.xsk_fd_id), {kq.fill_ring_size, kq.xsk_ring_size, kq.xsk_ring_size,
                                                    kq.xsk_ring_size},
                             &fill, &comp, &rxr, &txr)
                        .ok());
        ASSERT_EQ(*rxr.consumer, c.rx_cons);
        ASSERT_EQ(*fill.producer, c.fill_prod);
        __atomic_store_n(rxr.consumer, c.rx_from, __ATOMIC_RELEASE);
        __atomic_store_n(fill.producer, c.fill_prod - batch, __ATOMIC_RELEASE);
    }
    for (uint32_t i = c.rx_tail_from; i != c.rx_hwtail; i = (i + 1) % n)
        ring->slot[i] = nr_slot{};
    auto *sync = const_cast<nr_sync *>(rx_sync(*reg_));
    __atomic_store_n(&sync->kern.hwtail, c.rx_tail_from, __ATOMIC_RELEASE);
}

TEST_F(nic_keep_running, a_crash_after_a_published_commit_resumes_from_the_journal)
{
    expect_resumed_from_the_journal(false);
}

TEST_F(nic_keep_running, a_crash_between_a_commit_and_its_publication_delivers_the_batch_again)
{
    expect_resumed_from_the_journal(true);
}

TEST_F(nic_keep_running, a_journal_slot_of_another_binding_refuses_everything)
{
    ASSERT_EQ(kept_.nics.size(), 1u);
    expect_refused(kept_, ids_, cfg_, *pol_,
                   {
                       {"its journal slot is not this queue's", [](kept_nic &n) { n.queues[0].journal_tag++; }},
                       {"its journal slot is not this queue's", [](kept_nic &n) { n.queues[0].journal_tag = 0; }},
                       {"not a memfd sealed", [](kept_nic &n) { n.journal_fd_id = n.queues[0].rx.kick_fd_id; }},
                   });
}

// netmap:A* binds the NIC's queue and its host rings (the TAP nr-A): the successor adopts the
// TAP's fd with the rest, so the device, with its addresses, stays, and frames the kernel sends
// through it reach the adopted host rx ring.
class nic_keep_host : public nic_keep {
protected:
    const char *suffix() const override { return "*"; }
};

TEST_F(nic_keep_host, the_successor_keeps_the_tap_and_its_host_rings)
{
    ASSERT_EQ(kept_.nics.size(), 1u);
    ASSERT_EQ(kept_.nics[0].queues.size(), 2u) << "queue 0 and the host queue";
    const kept_nic_queue &host = kept_.nics[0].queues[1];
    ASSERT_EQ(host.index, kept_.nics[0].hw_queues);
    const std::string tap = "nr-" + a_;
    const unsigned index_before = ::if_nametoindex(tap.c_str());
    ASSERT_NE(index_before, 0u);
    std::ofstream("/proc/sys/net/ipv6/conf/" + tap + "/disable_ipv6") << "1";

    passed_fds fds(ids_);
    registry fresh(cfg_, *pol_);
    auto st = fresh.adopt_state(kept_, fds.taker(), 100);
    ASSERT_TRUE(st.ok()) << st.err().describe();
    old_.reset(); // the predecessor's fds close: the TAP lives on in the successor's
    EXPECT_EQ(::if_nametoindex(tap.c_str()), index_before) << "the TAP is not the same device";
    auto back = fresh.reattach({20, 1000, 1000, 333}, reg_->reg_id, reg_->token);
    ASSERT_TRUE(back.ok()) << back.err().describe();

    // A frame the kernel sends out through the TAP: the adopted worker reads it into the host rx ring.
    send_out(index_before, 0x88b6);

    const region &mem = *back->a.mem;
    const auto *sync = reinterpret_cast<const nr_sync *>(mem.base() + host.rx.sync_off);
    const auto *ring = reinterpret_cast<const nr_ring *>(mem.base() + host.rx.ring_off);
    const uint8_t *bufs = mem.base() + mem.geometry().buffers_offset;
    bool found = false;
    uint32_t i = host.rx.hwtail;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!found && std::chrono::steady_clock::now() < deadline) {
        const uint32_t tail = __atomic_load_n(&sync->kern.hwtail, __ATOMIC_ACQUIRE);
        for (; i != tail && !found; i = (i + 1) % host.rx.num_slots) {
            const nr_slot &slot = ring->slot[i];
            const uint8_t *d = bufs + uint64_t{slot.buf_idx} * mem.geometry().buf_size;
            found = slot.len == 60 && d[12] == 0x88 && d[13] == 0xb6 && d[14] == 0x5a;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    EXPECT_TRUE(found) << "the frame sent through the TAP never reached the host rx ring";
}

TEST_F(nic_keep_host, a_host_queue_record_that_does_not_match_refuses_everything)
{
    ASSERT_EQ(kept_.nics.size(), 1u);
    ASSERT_EQ(kept_.nics[0].queues.size(), 2u);
    expect_refused(kept_, ids_, cfg_, *pol_,
                   {
                       {"is not a TAP device's",
                        [](kept_nic &n) { std::swap(n.queues[1].xsk_fd_id, n.queues[1].rx.notify_fd_id); }},
                       {"AF_XDP numbers on the host queue", [](kept_nic &n) { n.queues[1].held.push_back(5); }},
                       {"disagree on the frames in flight", [](kept_nic &n) { n.queues[1].tx_in_kernel++; }},
                   });
}

// netring-switch attach vale0 netmap:A: the switch drives a daemon registration of the NIC. A
// planned restart keeps the NIC, that registration (the successor takes it back itself: nobody
// re-attaches it) and the attachment with the switch's heads on the NIC's rings; a frame that
// arrives at the NIC after the adoption is flooded to the switch's client port.
class nic_keep_attached : public nic_keep {
protected:
    void open_ports() override
    {
        reg_ = old_->register_port({7, 1000, 1000, 111}, request("vale0:p"));
        if (reg_)
            attached_ = old_->switches().attach_nic("vale0", "netmap:" + a_);
    }
    status attached_ = error::from(errc::internal, "not attached");
};

TEST_F(nic_keep_attached, the_successor_keeps_the_attachment_and_forwards_from_the_nic)
{
    ASSERT_TRUE(attached_.ok()) << attached_.err().describe();
    ASSERT_EQ(kept_.switches.size(), 1u);
    ASSERT_EQ(kept_.switches[0].attachments.size(), 1u);
    const kept_attachment &at = kept_.switches[0].attachments[0];
    EXPECT_EQ(at.nic, "netmap:" + a_);
    EXPECT_EQ(at.heads.size(), 2u) << "one rx ring and the tx ring";
    ASSERT_EQ(kept_.nics.size(), 1u);
    ASSERT_EQ(kept_.registrations.size(), 2u) << "the client of vale0:p and the switch's own";

    passed_fds fds(ids_);
    registry fresh(cfg_, *pol_);
    auto st = fresh.adopt_state(kept_, fds.taker(), 100);
    ASSERT_TRUE(st.ok()) << st.err().describe();
    EXPECT_EQ(fresh.registrations(), 2u);
    EXPECT_EQ(fresh.waiting(), 1u) << "only the client waits; the switch took its registration back";
    const auto listed = fresh.switches().list();
    ASSERT_EQ(listed.size(), 1u);
    ASSERT_EQ(listed[0].ports.size(), 2u);
    EXPECT_EQ(listed[0].ports[1].name, "netmap:" + a_);
    EXPECT_EQ(listed[0].ports[1].kind, "nic");

    auto back = fresh.reattach({20, 1000, 1000, 333}, reg_->reg_id, reg_->token);
    ASSERT_TRUE(back.ok()) << back.err().describe();
    send_into_b(); // broadcast: the NIC worker, then the switch, floods it to vale0:p
    const region &mem = *back->a.mem;
    const kept_switch_port &p = kept_.switches[0].ports[0];
    const auto *sync = reinterpret_cast<const nr_sync *>(mem.base() + p.rx.sync_off);
    const auto *ring = reinterpret_cast<const nr_ring *>(mem.base() + p.rx.ring_off);
    const uint32_t before = p.rx.hwtail;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (__atomic_load_n(&sync->kern.hwtail, __ATOMIC_ACQUIRE) == before &&
           std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    ASSERT_NE(__atomic_load_n(&sync->kern.hwtail, __ATOMIC_ACQUIRE), before)
        << "the frame never reached vale0:p: " << [&] {
               std::string c;
               const auto now = fresh.switches().list();
               for (const auto &sp : now.at(0).ports)
                   c += sp.name + " rx " + std::to_string(sp.rx_packets) + " tx " +
                        std::to_string(sp.tx_packets) + " drops " + std::to_string(sp.drops) + "; ";
               return c;
           }();
    EXPECT_EQ(ring->slot[before].len, 60u);

    // Detaching releases the daemon's registration like any other.
    ASSERT_TRUE(fresh.switches().detach_nic("vale0", "netmap:" + a_).ok());
    EXPECT_EQ(fresh.registrations(), 1u);
}

TEST_F(nic_keep_attached, a_damaged_attachment_refuses_everything)
{
    ASSERT_TRUE(attached_.ok()) << attached_.err().describe();
    ASSERT_EQ(kept_.switches.size(), 1u);
    ASSERT_EQ(kept_.switches[0].attachments.size(), 1u);
    const uint32_t client = reg_->reg_id;
    struct damage {
        const char *why;
        std::function<void(kept_attachment &)> apply;
    };
    const damage cases[] = {
        {"heads do not fit", [](kept_attachment &a) { a.heads[0] = 1u << 20; }},
        {"heads do not fit", [](kept_attachment &a) { a.heads.pop_back(); }},
        {"of its own", [&](kept_attachment &a) { a.reg_id = client; }},
        {"of its own", [](kept_attachment &a) { a.reg_id = 999; }},
        {"of its own", [](kept_attachment &a) { a.nic = "netmap:lo"; }}, // another NIC's name
        {"attach takes", [](kept_attachment &a) { a.nic += "/x"; }},     // exclusive: not a name attach takes
    };
    for (const damage &d : cases) {
        kept_state k = kept_;
        d.apply(k.switches[0].attachments[0]);
        passed_fds fds(ids_);
        registry fresh(cfg_, *pol_);
        auto st = fresh.adopt_state(k, fds.taker(), 100);
        ASSERT_FALSE(st.ok()) << d.why;
        EXPECT_NE(st.err().message.find(d.why), std::string::npos) << st.err().message;
        EXPECT_EQ(fresh.registrations(), 0u);
        EXPECT_TRUE(fresh.switches().empty());
    }
    passed_fds fds(ids_);
    registry fresh(cfg_, *pol_);
    auto st = fresh.adopt_state(kept_, fds.taker(), 100);
    EXPECT_TRUE(st.ok()) << st.err().describe();
}

} // namespace
} // namespace netring::netringd
