// Objective: a pipe keeps moving frames while no netringd runs, and its ports report the daemon's
// absence, and then the registration the next daemon did not take back, as events, not errors.
// Steps: as root in-process open both ends of a pipe (shm sync, survive_restart on: the default)
// and move 1000 frames; SIGKILL the daemon; wait on each port until it reports control_lost; with
// no daemon running move 200000 sequence-numbered frames (a sender and a receiver thread, each
// sleeping in wait() when its ring is full or empty) and check that every one arrives intact, in
// order, and that no call failed; start a new netringd on the same socket: it has no saved state,
// so it refuses REATTACH and each port reports registration_lost (never control_back); move
// 200000 more frames the same way. An alarm guards against hangs: a hang kills the test process.
//
// Objective (restart_from_store): with its state and fds in a service manager's fd store (the
// notify protocol, played by notify_store), a netringd SIGKILLed under traffic is replaced by one
// that adopts everything: the pipe never stops, a switch pair resumes without losing or repeating
// a frame, both ends get their registrations back, and STATS shows the same registrations, buffers
// and quota holdings as before the kill.
// Steps: start netringd with NOTIFY_SOCKET; open both ends in-process, move 1000 frames, wait for
// the STATUS= line that follows the save of two registrations and take STATS; twice: keep a
// sender and a receiver moving checked frames in chunks, SIGKILL the daemon, let three chunks
// pass with no daemon (a switch pair: 100 ms), start a new netringd with the store's fds
// (LISTEN_FDS, LISTEN_FDNAMES), let three more chunks pass, stop the traffic; then each port must
// report control_lost and control_back and never registration_lost, the new daemon's log must say
// it adopted the state,
// STATS must match the first, and the store must hold each name once. With a /t monitor of end A
// (16384 slots) as well: it gets control_lost and control_back too, and after the second kill
// sees 8000 frames sent, every one in order and intact.
#include "harness.hpp"
#include "notify_store.hpp"

#include <unistd.h>

#include <atomic>
#include <cstring>
#include <optional>
#include <thread>

namespace netring::itest {
namespace {

using namespace std::chrono_literals;

constexpr uint32_t frames_per_phase = 200000;

class restart_survival : public daemon_test {
protected:
    void TearDown() override
    {
        ::alarm(0);
        daemon_test::TearDown();
    }
};

uint16_t length_of(uint32_t seq) { return static_cast<uint16_t>(60 + seq % 64); }
char byte_of(uint32_t seq, uint32_t i) { return static_cast<char>(seq * 7 + i); }

// Sends frames [first, first + count) on tx ring 0; the first failure's sentence goes to `err`.
void send_frames(port &a, uint32_t first, uint32_t count, std::string &err)
{
    const uint32_t end = first + count;
    nr_ring *tx = a.tx_ring(0);
    for (uint32_t next = first; next < end;) {
        while (next < end && nr_ring_space(tx) > 0) {
            nr_slot &s = tx->slot[tx->cur];
            char *buf = nr_buf(tx, s.buf_idx);
            s.len = length_of(next);
            std::memcpy(buf, &next, sizeof next);
            for (uint32_t i = sizeof next; i < s.len; i++)
                buf[i] = byte_of(next, i);
            tx->head = tx->cur = nr_ring_next(tx, tx->cur);
            next++;
        }
        if (auto e = a.txsync()) {
            err = "txsync: " + e.message() + ": " + a.last_error();
            return;
        }
        std::error_code ec;
        if (next < end && nr_ring_space(tx) == 0 && a.wait(wait_tx, 10000, ec) <= 0) {
            err = "wait for tx space: " + (ec ? ec.message() + ": " + a.last_error() : std::string("timed out"));
            return;
        }
    }
}

// Receives frames [first, first + count) and checks each; counts the bad ones.
void receive_frames(port &b, uint32_t first, uint32_t count, std::string &err, uint32_t &bad)
{
    const uint32_t end = first + count;
    nr_ring *rx = b.rx_ring(0);
    for (uint32_t next = first; next < end;) {
        std::error_code ec;
        if (b.wait(wait_rx, 10000, ec) <= 0) {
            err = "wait for frames at " + std::to_string(next) + ": " +
                  (ec ? ec.message() + ": " + b.last_error() : std::string("timed out"));
            return;
        }
        for (; !nr_ring_empty(rx) && next < end; next++) {
            const nr_slot &s = rx->slot[rx->cur];
            const char *buf = nr_buf(rx, s.buf_idx);
            uint32_t seq;
            std::memcpy(&seq, buf, sizeof seq);
            bool good = seq == next && s.len == length_of(next);
            for (uint32_t i = sizeof seq; good && i < s.len; i++)
                good = buf[i] == byte_of(next, i);
            if (!good && bad++ == 0)
                err = "frame " + std::to_string(next) + " arrived as " + std::to_string(seq) + ", " +
                      std::to_string(s.len) + " bytes";
            rx->head = rx->cur = nr_ring_next(rx, rx->cur);
        }
        if (auto e = b.rxsync()) {
            err = "rxsync: " + e.message() + ": " + b.last_error();
            return;
        }
    }
}

// Moves `count` frames from a to b, numbered from `first`; the sender runs in a thread of its own.
void transfer(port &a, port &b, uint32_t first, uint32_t count)
{
    std::string tx_err, rx_err;
    uint32_t bad = 0;
    std::thread sender([&] { send_frames(a, first, count, tx_err); });
    receive_frames(b, first, count, rx_err, bad);
    sender.join();
    EXPECT_EQ(tx_err, "");
    EXPECT_EQ(rx_err, "");
    EXPECT_EQ(bad, 0u);
}

// Gives back every frame p's rx rings hold.
void drain(port &p)
{
    for (int pass = 0; pass < 2; pass++) { // the rxsync after the first pass brings what came meanwhile
        EXPECT_FALSE(p.rxsync()) << p.last_error();
        for (uint32_t i = 0; i < p.rx_rings(); i++) {
            nr_ring *rx = p.rx_ring(i);
            rx->head = rx->cur = rx->tail;
        }
    }
    EXPECT_FALSE(p.rxsync()) << p.last_error();
}

// Waits on p's empty rx ring until it has reported every event of `want`, or about 20 s of 20 ms
// waits have passed; a failing wait is a test failure. Returns every event seen.
unsigned wait_for_events(port &p, unsigned want)
{
    unsigned seen = 0;
    for (int i = 0; i < 1000 && (seen & want) != want; i++) {
        std::error_code ec;
        EXPECT_GE(p.wait(wait_rx, 20, ec), 0) << ec.message() << ": " << p.last_error();
        seen |= p.control_events();
    }
    return seen;
}

TEST_F(restart_survival, pipe_moves_frames_with_no_daemon_and_after_a_new_one)
{
    auto a = open_port("netmap:pipeR{1", options());
    auto b = open_port("netmap:pipeR}1", options());
    ASSERT_TRUE(a && b);
    transfer(*a, *b, 0, 1000);
    ASSERT_TRUE(a->daemon_present() && b->daemon_present());

    kill_daemon();
    ::alarm(240); // a hang from here on ends the process, failing the test
    EXPECT_EQ(wait_for_events(*a, control_lost), control_lost) << a->last_error();
    EXPECT_EQ(wait_for_events(*b, control_lost), control_lost) << b->last_error();
    EXPECT_FALSE(a->daemon_present());

    ASSERT_FALSE(daemon_alive());
    transfer(*a, *b, 1000, frames_per_phase);
    ASSERT_FALSE(daemon_alive());

    ASSERT_TRUE(restart_daemon());
    const unsigned seen_a = wait_for_events(*a, registration_lost);
    const unsigned seen_b = wait_for_events(*b, registration_lost);
    EXPECT_TRUE(seen_a & registration_lost) << a->last_error();
    EXPECT_TRUE(seen_b & registration_lost) << b->last_error();
    EXPECT_FALSE((seen_a | seen_b) & control_back);
    EXPECT_NE(b->last_error().find("refused to re-attach"), std::string::npos) << b->last_error();
    EXPECT_FALSE(b->daemon_present());

    transfer(*a, *b, 1000 + frames_per_phase, frames_per_phase);
    ::alarm(0);
}

class restart_from_store : public restart_survival {
protected:
    void SetUp() override
    {
        ASSERT_TRUE(store.ok()) << "cannot bind the notify socket";
        daemon_env.push_back(store.env());
        restart_survival::SetUp();
    }

    // `watch`: a /t monitor of a's end, which must come back too and see the frames sent after
    // the second kill.
    void survive_two_sigkills(port &a, port &b, const std::string &adopted, port *watch = nullptr);

    notify_store store;
};

// What STATS says is held: registrations, regions with their free buffers, each uid's charges.
void expect_same_holdings(const daemon_stats &before, const daemon_stats &after)
{
    ASSERT_EQ(after.registrations.size(), before.registrations.size());
    for (size_t i = 0; i < before.registrations.size(); i++) {
        const registration_stats &x = before.registrations[i], &y = after.registrations[i];
        EXPECT_EQ(y.port_name, x.port_name);
        EXPECT_EQ(y.reg_id, x.reg_id);
        EXPECT_EQ(y.uid, x.uid);
        EXPECT_EQ(y.gid, x.gid);
        EXPECT_EQ(y.pid, x.pid) << y.port_name << " is not held by the same process";
        EXPECT_EQ(y.tx_rings, x.tx_rings);
        EXPECT_EQ(y.rx_rings, x.rx_rings);
    }
    ASSERT_EQ(after.regions.size(), before.regions.size());
    for (size_t i = 0; i < before.regions.size(); i++) {
        EXPECT_EQ(after.regions[i].name, before.regions[i].name);
        EXPECT_EQ(after.regions[i].size, before.regions[i].size);
        EXPECT_EQ(after.regions[i].buffers_total, before.regions[i].buffers_total);
        EXPECT_EQ(after.regions[i].buffers_free, before.regions[i].buffers_free) << after.regions[i].name;
    }
    ASSERT_EQ(after.uids.size(), before.uids.size());
    for (size_t i = 0; i < before.uids.size(); i++) {
        EXPECT_EQ(after.uids[i].uid, before.uids[i].uid);
        EXPECT_EQ(after.uids[i].registrations, before.uids[i].registrations);
        EXPECT_EQ(after.uids[i].regions, before.uids[i].regions);
        EXPECT_EQ(after.uids[i].buffers, before.uids[i].buffers);
    }
}

// Moves checked frames from a to b while netringd is SIGKILLed twice and replaced from the store;
// `adopted` is the successor's log line. A pipe (`flows_alone`) must keep moving frames while no
// daemon runs; a switch pair waits in its rings and must move them once the successor runs.
void restart_from_store::survive_two_sigkills(port &a, port &b, const std::string &adopted, port *watch)
{
    constexpr uint32_t chunk = 20000;
    const bool flows_alone = adopted.find(" 1 pipe,") != std::string::npos;
    const std::string regs = watch ? "3 registrations," : "2 registrations,";
    transfer(a, b, 0, 1000);
    ASSERT_TRUE(eventually([&] { return store.status().starts_with(regs); }, 10s)) << store.status();
    const daemon_stats before = stats();
    ASSERT_EQ(before.registrations.size(), watch ? 3u : 2u);
    (void)a.control_events();
    (void)b.control_events();
    if (watch)
        (void)watch->control_events();

    ::alarm(400); // a hang from here on ends the process, failing the test
    uint32_t next = 1000;
    for (int round = 1; round <= 2; round++) {
        SCOPED_TRACE("SIGKILL " + std::to_string(round));
        std::atomic<bool> stop{false};
        std::atomic<uint32_t> moved{next};
        std::thread mover([&] {
            while (!stop) {
                transfer(a, b, moved, chunk);
                moved += chunk;
            }
        });
        auto passes = [&](uint32_t from, uint32_t frames) {
            return eventually([&] { return moved >= from + frames; }, 60s);
        };
        EXPECT_TRUE(passes(next, chunk));
        kill_daemon();
        if (flows_alone)
            EXPECT_TRUE(passes(moved, 3 * chunk)) << "the pipe stopped with no daemon";
        else
            std::this_thread::sleep_for(100ms); // frames queue in the rings meanwhile
        const bool up = restart_daemon(store.fds());
        EXPECT_TRUE(passes(moved, 3 * chunk)) << "the flow stopped after the new daemon came";
        stop = true;
        mover.join();
        next = moved;
        ASSERT_TRUE(up);

        const unsigned seen_a = wait_for_events(a, control_lost | control_back);
        const unsigned seen_b = wait_for_events(b, control_lost | control_back);
        EXPECT_EQ(seen_a, control_lost | control_back) << a.last_error();
        EXPECT_EQ(seen_b, control_lost | control_back) << b.last_error();
        if (watch) { // its ring is full of copies: emptied, so that its waits sleep
            drain(*watch);
            EXPECT_EQ(wait_for_events(*watch, control_lost | control_back), control_lost | control_back)
                << watch->last_error();
        }
        EXPECT_NE(daemon_log().find(adopted), std::string::npos) << daemon_log();
        ASSERT_TRUE(eventually([&] { return store.status().starts_with(regs + " state"); }, 10s))
            << store.status();
        expect_same_holdings(before, stats());
        for (const auto &[name, fd] : store.fds())
            EXPECT_EQ(store.count(name), 1u) << name;
        EXPECT_EQ(store.count("state"), 1u);
        EXPECT_EQ(store.count("listen"), 1u);
        EXPECT_EQ(store.problems(), "");
    }
    transfer(a, b, next, chunk);
    next += chunk;
    if (watch) { // the monitor sees what is sent from now on, every frame, in order and intact
        drain(*watch);
        constexpr uint32_t watched = 8000; // fewer than the monitor's slots: it never drops
        transfer(a, b, next, watched);
        std::string err;
        uint32_t bad = 0;
        receive_frames(*watch, next, watched, err, bad);
        EXPECT_EQ(err, "");
        EXPECT_EQ(bad, 0u);
    }
    ::alarm(0);
}

TEST_F(restart_from_store, a_pipe_moves_every_frame_across_two_sigkills_and_its_registrations_come_back)
{
    auto a = open_port("netmap:pipeS{1", options());
    auto b = open_port("netmap:pipeS}1", options());
    ASSERT_TRUE(a && b);
    survive_two_sigkills(*a, *b, "restart: adopted 1 region, 1 pipe, 0 NICs, 0 switches and 2 registrations");
}

// The same with a /t monitor of end A: kept in the saves with the pipe, it comes back with the
// same registration and sees every frame sent after the second kill.
TEST_F(restart_from_store, a_pipe_monitor_comes_back_across_two_sigkills)
{
    auto a = open_port("netmap:pipeM{1", options());
    auto b = open_port("netmap:pipeM}1", options());
    open_options o = options();
    o.rx_slots = 16384;
    auto m = open_port("netmap:pipeM{1/t", o);
    ASSERT_TRUE(a && b && m);
    survive_two_sigkills(*a, *b, "restart: adopted 1 region, 1 pipe, 0 NICs, 0 switches and 3 registrations", &*m);
}

// The same through a switch made on the fly: its forwarding thread commits its cursors to a
// journal the store keeps, so the successor forwards every frame once, from where it stopped.
// (Two ports: each frame, whatever its addresses, is flooded or sent to the other one.)
TEST_F(restart_from_store, a_switch_pair_moves_every_frame_across_two_sigkills)
{
    auto a = open_port("vale7:a", options());
    auto b = open_port("vale7:b", options());
    ASSERT_TRUE(a && b);
    survive_two_sigkills(*a, *b, "restart: adopted 2 regions, 0 pipes, 0 NICs, 1 switch and 2 registrations");
}

} // namespace
} // namespace netring::itest
