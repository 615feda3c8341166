// Objective: monitor ports ("netmap:PORT/r", "/t", "/rt") see a copy of every frame that crosses the
// port they watch, in order per ring, with the right direction, without the port losing anything
// when the monitor is slow or stopped; and only clients the policy lets open a port may watch it.
// Steps (pipes, in-process clients of a real netringd): a /rt monitor of end A opened after the
// receiver and before the sender; A sends frames carrying sequence numbers, B answers some; the
// monitor's tx-copy ring holds A's frames byte for byte in order, its rx-copy ring B's. A monitor
// that never reads: the pipe delivers everything, the monitor keeps one ring's worth and counts the
// rest as drops, which STATS and netring-ctl (status, info) report; STATS shows its ring full. A monitor opened before either
// end creates the pipe. Several monitors at once.
// uid 65534, allowed pipeA* only, cannot monitor netmap:secret{1 ("cannot monitor ..., access
// denied") but can monitor netmap:pipeA{1.
#include "harness.hpp"

#include <netring/port_name.hpp>

#include <cstring>

namespace netring::itest {
namespace {

using namespace std::chrono_literals;

class monitor_test : public daemon_test {
protected:
    std::string config_text() const override
    {
        return default_limits() + "allow uid=65534 netmap:pipeA*\n";
    }

    // Monitors get rings larger than what a test sends, so none of their copies can be dropped.
    port open(const std::string &name, uint32_t rx_slots = 0)
    {
        open_options o = options();
        o.rx_slots = rx_slots;
        auto p = port::open(name, o);
        EXPECT_TRUE(p.ok()) << name << ": " << (p.ok() ? "" : p.err().describe());
        if (!p.ok())
            throw std::runtime_error("open failed");
        return std::move(p.value());
    }
};

// A frame of `len` bytes whose bytes say which sequence number and which sender made them.
void fill(uint8_t *b, uint32_t len, uint32_t seq, uint8_t who)
{
    for (uint32_t i = 0; i < len; i++)
        b[i] = static_cast<uint8_t>(seq * 7 + i + who);
    std::memcpy(b, &seq, 4);
    b[4] = who;
}

bool matches(const uint8_t *b, uint32_t len, uint32_t seq, uint8_t who)
{
    std::vector<uint8_t> want(len);
    fill(want.data(), len, seq, who);
    return std::memcmp(b, want.data(), len) == 0;
}

uint32_t frame_len(uint32_t seq) { return 60 + seq % 1400; }

// Sends frames [first, first + n) on tx ring 0 of `p`, waiting for room as needed.
void send(port &p, uint32_t first, uint32_t n, uint8_t who)
{
    nr_ring *tx = p.tx_ring(0);
    uint32_t seq = first;
    while (seq < first + n) {
        std::error_code ec;
        if (nr_ring_space(tx) == 0) {
            ASSERT_GE(p.wait(wait_tx, 10000, ec), 1) << ec.message();
            continue;
        }
        nr_slot &s = tx->slot[tx->cur];
        fill(reinterpret_cast<uint8_t *>(p.buffer(s.buf_idx)), frame_len(seq), seq, who);
        s.len = static_cast<uint16_t>(frame_len(seq));
        tx->head = tx->cur = nr_ring_next(tx, tx->cur);
        seq++;
        if (nr_ring_space(tx) == 0 || seq == first + n) {
            ASSERT_FALSE(p.txsync()) << p.last_error();
        }
    }
}

// Receives n frames on `p` (every rx ring, in order), checking them against `who`'s sequence.
void receive(port &p, uint32_t first, uint32_t n, uint8_t who)
{
    uint32_t seq = first;
    while (seq < first + n) {
        std::error_code ec;
        ASSERT_GE(p.wait(wait_rx, 10000, ec), 1) << ec.message() << " after " << seq - first << " frames";
        nr_ring *rx = p.rx_ring(0);
        while (!nr_ring_empty(rx) && seq < first + n) {
            const nr_slot &s = rx->slot[rx->cur];
            ASSERT_EQ(s.len, frame_len(seq));
            ASSERT_TRUE(matches(reinterpret_cast<uint8_t *>(p.buffer(s.buf_idx)), s.len, seq, who)) << seq;
            rx->head = rx->cur = nr_ring_next(rx, rx->cur);
            seq++;
        }
        ASSERT_FALSE(p.rxsync()) << p.last_error();
    }
}

// What a monitor read from one of its rings.
struct capture {
    std::vector<uint32_t> seq;
    std::vector<uint8_t> who;
    uint32_t bad = 0; // frames whose bytes do not match their sequence number
    uint64_t last_ns = 0;
    bool ns_monotonic = true;
};

// Reads every ring of monitor `m` until `want` frames in total or `limit` passes.
std::vector<capture> drain(port &m, size_t want)
{
    std::vector<capture> c(m.rx_rings());
    size_t got = 0;
    const auto end = std::chrono::steady_clock::now() + 20s;
    while (got < want && std::chrono::steady_clock::now() < end) {
        std::error_code ec;
        if (m.wait(wait_rx, 100, ec) < 0)
            break;
        for (uint32_t r = 0; r < m.rx_rings(); r++) {
            nr_ring *ring = m.rx_ring(r);
            while (!nr_ring_empty(ring)) {
                const nr_slot &s = ring->slot[ring->cur];
                const auto *b = reinterpret_cast<const uint8_t *>(m.buffer(s.buf_idx));
                uint32_t seq;
                std::memcpy(&seq, b, 4);
                c[r].seq.push_back(seq);
                c[r].who.push_back(b[4]);
                if (s.len != frame_len(seq) || !matches(b, s.len, seq, b[4]))
                    c[r].bad++;
                const uint64_t ns = nr_mon_slot_ns(&s);
                if (ns < c[r].last_ns)
                    c[r].ns_monotonic = false;
                c[r].last_ns = ns;
                ring->head = ring->cur = nr_ring_next(ring, ring->cur);
                got++;
            }
        }
        (void)m.rxsync();
    }
    return c;
}

void expect_sequence(const capture &c, uint32_t first, uint32_t n, uint8_t who, const std::string &what)
{
    ASSERT_EQ(c.seq.size(), n) << what;
    for (uint32_t i = 0; i < n; i++) {
        ASSERT_EQ(c.seq[i], first + i) << what << " frame " << i;
        ASSERT_EQ(c.who[i], who) << what << " frame " << i;
    }
    EXPECT_EQ(c.bad, 0u) << what;
    EXPECT_TRUE(c.ns_monotonic) << what;
}

TEST_F(monitor_test, rt_monitor_of_a_pipe_end_sees_both_directions_in_order)
{
    port b = open("netmap:pipeA}1");
    port m = open("netmap:pipeA{1/rt", 4096);
    ASSERT_TRUE(m.is_monitor());
    ASSERT_EQ(m.tx_rings(), 0u);
    ASSERT_EQ(m.rx_rings(), 2u);
    monitor_source s0, s1;
    ASSERT_TRUE(m.monitor_source_of(0, s0));
    ASSERT_TRUE(m.monitor_source_of(1, s1));
    EXPECT_TRUE(s0.tx);
    EXPECT_FALSE(s1.tx);
    EXPECT_EQ(s0.ring, 0u);
    EXPECT_FALSE(m.monitor_source_of(2, s0));
    port a = open("netmap:pipeA{1");
    const uint64_t t0 = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                                  std::chrono::system_clock::now().time_since_epoch())
                                                  .count());

    constexpr uint32_t n = 3000; // more than a pipe ring: the monitor reads while the pipe moves
    std::thread rx([&] { receive(b, 0, n, 'A'); });
    std::vector<capture> c;
    std::thread mon([&] { c = drain(m, n + 200); });
    send(a, 0, n, 'A');
    rx.join();
    // B answers with 200 frames: A receives them, the monitor of A sees them as received.
    std::thread back([&] { receive(a, 0, 200, 'B'); });
    send(b, 0, 200, 'B');
    back.join();
    mon.join();
    ASSERT_EQ(c.size(), 2u);
    expect_sequence(c[0], 0, n, 'A', "tx copies");
    expect_sequence(c[1], 0, 200, 'B', "rx copies");
    EXPECT_GE(c[0].last_ns, t0) << "copies carry the time they crossed the port";
    EXPECT_EQ(m.monitor_drops(0) + m.monitor_drops(1), 0u);
}

TEST_F(monitor_test, stopped_monitor_drops_copies_never_frames)
{
    port b = open("netmap:pipeA}2");
    open_options o = options();
    o.rx_slots = 64;
    auto mon = port::open("netmap:pipeA}2/r", o);
    ASSERT_TRUE(mon.ok()) << mon.err().describe();
    port a = open("netmap:pipeA{2");
    constexpr uint32_t n = 20000;
    std::thread rx([&] { receive(b, 0, n, 'A'); });
    send(a, 0, n, 'A');
    rx.join();
    // The monitor never read: one ring's worth kept (a ring holds slots - 1), the rest dropped.
    EXPECT_EQ(mon->monitor_drops(0), n - 63);
    // STATS says the monitor's ring is full: 63 frames wait for an application that does not read.
    bool full = false;
    const daemon_stats before_drain = stats();
    for (size_t i = 0; i < before_drain.registrations.size(); i++) {
        if (before_drain.registrations[i].port_name != "netmap:pipeA}2/r")
            continue;
        for (const ring_stats &r : before_drain.rings) {
            if (r.registration != i)
                continue;
            EXPECT_EQ(r.num_slots, 64u);
            EXPECT_EQ(r.occupied, 63u);
            full = true;
        }
    }
    EXPECT_TRUE(full) << "STATS lists the monitor's ring";
    std::vector<capture> c = drain(*mon, 63);
    expect_sequence(c[0], 0, 63, 'A', "what the stopped monitor kept");
    const daemon_stats s = stats();
    bool listed = false;
    for (size_t i = 0; i < s.registrations.size(); i++) {
        if (s.registrations[i].port_name != "netmap:pipeA}2/r")
            continue;
        listed = true;
        uint64_t drops = 0;
        for (const ring_stats &r : s.rings)
            if (r.registration == i)
                drops += r.drops;
        EXPECT_EQ(drops, n - 63);
    }
    EXPECT_TRUE(listed) << "STATS lists the monitor";
    // netring-ctl names the monitor and its drops, in status and in the info of the port.
    for (const std::vector<std::string> &args : {std::vector<std::string>{"status"},
                                                std::vector<std::string>{"info", "netmap:pipeA}2"}}) {
        auto c = ctl(args);
        const child_result r = c->wait(30s);
        ASSERT_TRUE(r.exited && r.exit_code == 0) << r.describe();
        const size_t section = r.out.find("monitors: 1");
        ASSERT_NE(section, std::string::npos) << r.out;
        const size_t line = r.out.find("  netmap:pipeA}2/r ", section);
        ASSERT_NE(line, std::string::npos) << r.out;
        const std::string row = r.out.substr(line, r.out.find('\n', line) - line);
        EXPECT_NE(row.find(" " + std::to_string(n - 63) + " "), std::string::npos) << row;
    }
}

TEST_F(monitor_test, monitor_opened_first_creates_the_pipe_and_sees_the_end)
{
    port m1 = open("netmap:pipeA{3/t");
    port m2 = open("netmap:pipeA}3/r");
    port m3 = open("netmap:pipeA}3/r");
    port b = open("netmap:pipeA}3");
    port a = open("netmap:pipeA{3");
    std::thread rx([&] { receive(b, 0, 500, 'A'); });
    send(a, 0, 500, 'A');
    rx.join();
    for (port *m : {&m1, &m2, &m3})
        expect_sequence(drain(*m, 500)[0], 0, 500, 'A', m->name());
    // Both ends close: the monitors read nothing more and hear that the port went away.
    { port gone_a = std::move(a); port gone_b = std::move(b); }
    std::error_code ec;
    EXPECT_EQ(m1.wait(wait_rx, 10000, ec), -1);
    EXPECT_EQ(ec, make_error_code(errc::peer_gone)) << ec.message();
}

TEST_F(monitor_test, closing_a_monitor_leaves_the_pipe_and_other_monitors_working)
{
    port b = open("netmap:pipeA}4");
    port keep = open("netmap:pipeA{4/t", 4096);
    port a = open("netmap:pipeA{4");
    for (int round = 0; round < 20; round++) { // entries freed and taken again, up to the limit
        port brief = open("netmap:pipeA{4/t");
        std::thread rx([&] { receive(b, round * 100, 100, 'A'); });
        send(a, round * 100, 100, 'A');
        rx.join();
        expect_sequence(drain(brief, 100)[0], round * 100, 100, 'A', "brief monitor");
    }
    expect_sequence(drain(keep, 2000)[0], 0, 2000, 'A', "long-lived monitor");
    std::vector<port> many;
    for (uint32_t i = 1; i < NR_MON_MAX; i++)
        many.push_back(open("netmap:pipeA{4/t"));
    auto one_too_many = port::open("netmap:pipeA{4/t", options());
    ASSERT_FALSE(one_too_many.ok());
    EXPECT_EQ(one_too_many.err().code, make_error_code(errc::limit_exceeded)) << one_too_many.err().describe();
}

TEST_F(monitor_test, nobody_may_monitor_only_what_it_may_open)
{
    port secret = open("netmap:secret{1");
    auto denied = spawn({binary_path("/tools/netring-pktgen"), "-i", "netmap:secret{1/r", "-f", "rx", "-n", "1",
                         "-T", "5", "--socket", socket_path()},
                        true);
    const child_result d = denied->wait(60s);
    EXPECT_TRUE(d.exited && d.exit_code != 0) << d.describe();
    EXPECT_NE(d.err.find("cannot monitor netmap:secret{1"), std::string::npos) << d.describe();
    EXPECT_NE(d.err.find("access denied"), std::string::npos) << d.describe();

    // netring-pktgen reads a monitor as it reads any rx port, and checks pktgen's own frames.
    auto rx = pktgen({"-i", "netmap:pipeA}5", "-f", "rx", "-n", "1000", "-T", "60", "--json"});
    ASSERT_TRUE(wait_registered(rx->pid())) << rx->read_err();
    auto watch = pktgen({"-i", "netmap:pipeA}5/r", "-f", "rx", "-n", "1000", "-T", "60", "--json"});
    ASSERT_TRUE(wait_registered(watch->pid())) << watch->read_err();
    auto tx = pktgen({"-i", "netmap:pipeA{5", "-f", "tx", "-n", "1000", "-R", "100000", "--json"});
    const child_result t = tx->wait(60s);
    const child_result r = rx->wait(60s);
    const child_result w = watch->wait(60s);
    EXPECT_TRUE(t.exited && t.exit_code == 0) << t.describe();
    EXPECT_TRUE(r.exited && r.exit_code == 0) << r.describe();
    EXPECT_TRUE(w.exited && w.exit_code == 0) << w.describe();
    EXPECT_EQ(json_number(w.out, "packets"), 1000.0) << w.out;
    EXPECT_EQ(json_number(w.out, "lost"), 0.0) << w.out;
    EXPECT_EQ(json_number(w.out, "corrupt"), 0.0) << w.out;
}

} // namespace
} // namespace netring::itest
