// Objective: what netring-dump writes is what crossed the port: a pcapng file that tshark reads back
// holding every frame once, in order, byte for byte, on the interface named after the ring it
// crossed and marked with its direction, for every kind of port; its filter keeps exactly the frames
// it names; and a dump that never reads costs the watched port nothing.
// Steps: netring-pktgen (or nic_peer, from the veth's namespace) sends N frames numbered 0..N-1,
// paced so the dump keeps up; netring-dump (uid 65534) captures them through a /rt monitor into a
// file; tshark reads the file back and each frame is rebuilt from its Ethernet fields and data.data
// and checked with netring-pktgen's own frame_inspect. The closing line of each paced capture must
// say N captured and 0 dropped.
//  - pipe: receiver on capP}1, a dump of each end (the sender's stops at -c N, the receiver's when
//    both ends have closed), sender on capP{1: N out on "capP{1 tx0", N in on "capP}1 rx0".
//  - NIC (a veth bound in AF_XDP mode, nic_fixture.hpp): N frames from the namespace, in on
//    "IF rx0"; a dump opened before any application, N frames sent by netring-pktgen, out on
//    "IF tx0" (the peer receives them all); netring-pktgen on the host rings IF^, N frames out to
//    the kernel stack on "IF^ host-tx0".
//  - switch: receiver on valeC:b, a dump of the persistent port valeC:a (a monitor needs its port
//    to exist) and one of b (which ends when b's receiver leaves), N broadcasts from a: out on
//    "valeC:a tx0", in on "valeC:b rx0".
//  - filter: on the NIC, N pktgen frames then M UDP frames; "udp dst port 7777" captures the M and
//    counts as filtered out exactly what else the link carried.
//  - stopped dump: SIGSTOPped once it watches capS{1 while 200000 frames cross unpaced: the
//    receiver gets them all; resumed, the dump ends with the pipe, having kept the first ring's
//    worth intact and counted the rest as dropped.
// Without tshark (Debian package tshark; scripts/deps.sh installs it) the tests are skipped.
#include "nic_fixture.hpp"
#include "switch_fixture.hpp"

#include "frame.hpp"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <cstring>
#include <sstream>

namespace netring::itest {
namespace {

using namespace std::chrono_literals;
using pktgen::mac_addr;

constexpr uint64_t frames_n = 4000;
// netring-dump's monitor rings hold 8191 copies (its -B default, 8192 slots): at this rate over a
// second and a half of slack for a dump that a busy machine leaves unscheduled for a while.
constexpr const char *paced_pps = "5000";
// NIC and host rings carry frames of the kernel's too (the host TAP sends a few of its own).
constexpr const char *pktgen_frames = "ether proto 0x88b5";
constexpr uint32_t inbound = 1, outbound = 2; // pcapng EPB flags, bits 0-1

// The counts of netring-dump's closing line.
struct dump_counts {
    uint64_t captured = 0, dropped = 0, filtered = 0;
};

// (No std::regex: GCC 12 warns inside it under ASan, and the build treats warnings as errors.)
std::optional<dump_counts> closing_counts(const std::string &err)
{
    const size_t at = err.rfind("netring-dump: ");
    if (at == std::string::npos)
        return std::nullopt;
    dump_counts c;
    unsigned long long captured = 0, dropped = 0, filtered = 0;
    char frames[8] = {};
    const int got = std::sscanf(err.c_str() + at,
                                "netring-dump: %llu %7s captured, %llu dropped by the monitor, %llu filtered out",
                                &captured, frames, &dropped, &filtered);
    if (got != 4 || (std::string(frames) != "frames" && std::string(frames) != "frame"))
        return std::nullopt;
    c.captured = captured;
    c.dropped = dropped;
    c.filtered = filtered;
    return c;
}

// Appends the bytes of hex text ("ff:ff:..", "0x88b5", "4e5250..."), skipping separators.
void append_hex(std::string text, std::vector<uint8_t> &out)
{
    if (text.rfind("0x", 0) == 0)
        text.erase(0, 2);
    std::string digits;
    for (const char c : text)
        if (std::isxdigit(static_cast<unsigned char>(c)))
            digits += c;
    for (size_t i = 0; i + 1 < digits.size(); i += 2)
        out.push_back(static_cast<uint8_t>(std::stoul(digits.substr(i, 2), nullptr, 16)));
}

// True once process `pid` has stopped on a signal ("T" after the command name in /proc/PID/stat).
bool stopped(pid_t pid)
{
    const std::string stat = detail::read_file("/proc/" + std::to_string(pid) + "/stat");
    const size_t paren = stat.rfind(')');
    return paren != std::string::npos && stat.compare(paren + 1, 3, " T ") == 0;
}

// One frame of a capture file as tshark decodes it.
struct read_frame {
    std::string iface;
    uint32_t direction = 0;
    uint32_t wire_len = 0;
    std::vector<uint8_t> bytes; // Ethernet header fields, then data.data
};

const char *const frame_fields[] = {"frame.interface_name",
                                    "frame.packet_flags_direction",
                                    "frame.len",
                                    "eth.dst",
                                    "eth.src",
                                    "eth.type",
                                    "data.data"};

read_frame frame_of(const std::vector<std::string> &row)
{
    read_frame f;
    if (row.size() != std::size(frame_fields))
        return f;
    f.iface = row[0];
    f.direction = static_cast<uint32_t>(std::stoul(row[1], nullptr, 0));
    f.wire_len = static_cast<uint32_t>(std::stoul(row[2]));
    for (size_t i = 3; i < row.size(); i++)
        append_hex(row[i], f.bytes);
    return f;
}

// `frames` must be netring-pktgen's frames 0..n-1, `len` bytes from `src` to broadcast, all seen on
// `iface` in direction `dir`; every byte is checked by the frame checker netring-pktgen rx uses.
void expect_pktgen_frames(const std::vector<read_frame> &frames, uint64_t n, uint32_t len,
                          const std::string &iface, uint32_t dir,
                          const mac_addr &src = pktgen::default_src_mac)
{
    ASSERT_EQ(frames.size(), n) << "frames in the capture of " << iface;
    for (uint64_t i = 0; i < n; i++) {
        const read_frame &f = frames[i];
        ASSERT_EQ(f.iface, iface) << "frame " << i;
        ASSERT_EQ(f.direction, dir) << "frame " << i << " on " << iface;
        ASSERT_EQ(f.wire_len, len) << "frame " << i << " on " << iface;
        ASSERT_EQ(f.bytes.size(), len) << "frame " << i << " on " << iface << " as tshark rebuilt it";
        ASSERT_EQ(std::memcmp(f.bytes.data(), pktgen::broadcast_mac.b, 6), 0) << "destination of frame " << i;
        ASSERT_EQ(std::memcmp(f.bytes.data() + 6, src.b, 6), 0) << "source of frame " << i;
        const pktgen::frame_verdict v =
            pktgen::frame_inspect(f.bytes.data(), len, pktgen::payload_kind::full);
        ASSERT_EQ(v.fault, pktgen::frame_fault::none)
            << pktgen::frame_fault_name(v.fault) << " in frame " << i << " on " << iface;
        ASSERT_EQ(v.seq, i) << "frame " << i << " on " << iface;
    }
}

// A fixture with netring-dump and tshark helpers, on any of the daemon fixtures.
template <class Base>
class capture_fixture : public Base {
protected:
    void SetUp() override
    {
        static const bool have_tshark = run_command({"tshark", "--version"}) == 0; // half a second
        if (!have_tshark)
            GTEST_SKIP() << "the captures are read back with tshark, which is missing (Debian package "
                            "tshark; scripts/deps.sh installs it)";
        Base::SetUp();
        if (this->IsSkipped() || this->HasFatalFailure())
            return;
        // netring-dump runs as uid 65534 and writes its files here.
        captures_ = this->dir() + "/captures";
        ASSERT_EQ(::mkdir(captures_.c_str(), 0755), 0) << std::strerror(errno);
        ASSERT_EQ(::chown(captures_.c_str(), nobody_uid, nobody_uid), 0) << std::strerror(errno);
    }

    std::string capture_file(const std::string &name) const { return captures_ + "/" + name + ".pcapng"; }

    // netring-dump -i port -w file [args: options, filter words] as uid 65534, once its monitor is open.
    std::unique_ptr<child> start_dump(const std::string &port, const std::string &file,
                                      const std::vector<std::string> &args = {})
    {
        std::vector<std::string> argv = {
            binary_path("/tools/netring-dump"), "-i", port, "-w", file, "--socket", this->socket_path()};
        argv.insert(argv.end(), args.begin(), args.end());
        auto c = this->spawn(argv, true);
        if (!c)
            return nullptr;
        const bool watching =
            eventually(
                [&] {
                    return c->read_err().find("netring-dump: watching") != std::string::npos || !c->running();
                },
                20s) &&
            c->running();
        if (!watching) {
            ADD_FAILURE() << "netring-dump -i " << port << " did not start watching: " << c->read_err();
            return nullptr;
        }
        return c;
    }

    // The closing counts of a dump that must end by itself (-c, or its port going away) with exit 0.
    // One that does not (short of its -c count after drops, say) gets SIGINT, so that its closing
    // line still tells what it saw.
    static dump_counts finish_dump(child &dump, const std::string &what)
    {
        const bool ended = eventually([&] { return !dump.running(); }, 20s);
        if (!ended)
            dump.signal(SIGINT);
        const child_result r = dump.wait(30s);
        EXPECT_TRUE(ended) << "netring-dump of " << what << " did not end by itself: " << r.describe();
        EXPECT_TRUE(r.exited && r.exit_code == 0) << "netring-dump of " << what << ": " << r.describe();
        const std::optional<dump_counts> c = closing_counts(r.err);
        EXPECT_TRUE(c) << "netring-dump of " << what << " printed no closing line: " << r.describe();
        return c.value_or(dump_counts{});
    }

    // tshark -r file -T fields -e ...: one row of values per frame.
    std::vector<std::vector<std::string>> read_fields(const std::string &file,
                                                      const std::vector<std::string> &fields)
    {
        std::vector<std::string> argv = {"tshark", "-r", file, "-T", "fields"};
        for (const std::string &f : fields)
            argv.insert(argv.end(), {"-e", f});
        auto c = this->spawn(argv, false);
        if (!c)
            return {};
        const child_result r = c->wait(60s);
        EXPECT_TRUE(r.exited && r.exit_code == 0) << "tshark -r " << file << ": " << r.describe();
        std::vector<std::vector<std::string>> rows;
        std::istringstream lines(r.out);
        for (std::string line; std::getline(lines, line);) {
            std::vector<std::string> row;
            std::istringstream values(line);
            for (std::string v; std::getline(values, v, '\t');)
                row.push_back(v);
            if (line.ends_with('\t'))
                row.emplace_back(); // an empty last field
            rows.push_back(std::move(row));
        }
        return rows;
    }

    std::vector<read_frame> read_frames(const std::string &file)
    {
        std::vector<read_frame> frames;
        for (const auto &row : read_fields(file, {std::begin(frame_fields), std::end(frame_fields)}))
            frames.push_back(frame_of(row));
        return frames;
    }

    // The dump ends by itself with n captured, nothing dropped; its file holds pktgen frames 0..n-1.
    void expect_capture(child &dump, const std::string &file, uint64_t n, uint32_t len,
                        const std::string &iface, uint32_t dir, const mac_addr &src = pktgen::default_src_mac)
    {
        const dump_counts c = finish_dump(dump, iface);
        EXPECT_EQ(c.captured, n) << iface;
        EXPECT_EQ(c.dropped, 0u) << iface << ": the dump fell behind";
        expect_pktgen_frames(read_frames(file), n, len, iface, dir, src);
    }

    // A netring-pktgen run that must move exactly n frames intact.
    static void expect_moved(child &pktgen, uint64_t n, const std::string &what)
    {
        const child_result r = pktgen.wait(60s);
        EXPECT_TRUE(r.exited && r.exit_code == 0) << what << ": " << r.describe();
        EXPECT_EQ(json_number(r.out, "packets"), static_cast<double>(n)) << what << ": " << r.describe();
        EXPECT_EQ(json_number(r.out, "lost"), 0.0) << what << ": " << r.describe();
        EXPECT_EQ(json_number(r.out, "corrupt"), 0.0) << what << ": " << r.describe();
    }

private:
    std::string captures_;
};

class capture_pipe : public capture_fixture<daemon_test> {
protected:
    std::string config_text() const override { return default_limits() + "allow uid=65534 netmap:cap*\n"; }
};

class capture_nic : public capture_fixture<nic_test> {
protected:
    mac_addr peer_mac() const
    {
        mac_addr m;
        EXPECT_TRUE(pktgen::parse_mac(net().peer_mac(), m)) << net().peer_mac();
        return m;
    }
};

class capture_switch : public capture_fixture<switch_fixture<daemon_test>> {};

const std::string n_text = std::to_string(frames_n);

TEST_F(capture_pipe, both_ends_of_a_pipe_captured_byte_for_byte)
{
    auto rx = pktgen({"-i", "netmap:capP}1", "-f", "rx", "-n", n_text, "-T", "60", "--json"});
    ASSERT_TRUE(rx);
    ASSERT_TRUE(wait_registered(rx->pid())) << rx->read_err();
    const std::string sent = capture_file("sender"), received = capture_file("receiver");
    auto sender_dump = start_dump("netmap:capP{1", sent, {"-c", n_text});
    auto receiver_dump = start_dump("netmap:capP}1", received); // ends when both ends have closed
    ASSERT_TRUE(sender_dump && receiver_dump);
    auto tx =
        pktgen({"-i", "netmap:capP{1", "-f", "tx", "-n", n_text, "-l", "60", "-R", paced_pps, "--json"});
    ASSERT_TRUE(tx);
    expect_moved(*tx, frames_n, "netring-pktgen tx");
    expect_moved(*rx, frames_n, "netring-pktgen rx");
    expect_capture(*sender_dump, sent, frames_n, 60, "netmap:capP{1 tx0", outbound);
    expect_capture(*receiver_dump, received, frames_n, 60, "netmap:capP}1 rx0", inbound);
}

TEST_F(capture_nic, frames_a_nic_receives_captured_inbound)
{
    auto rx = pktgen({"-i", nic_port(), "-f", "rx", "-n", n_text, "-T", "60", "--json"});
    ASSERT_TRUE(rx);
    ASSERT_TRUE(wait_registered(rx->pid(), 20s)) << rx->read_err();
    const std::string file = capture_file("nic-rx");
    auto dump = start_dump(nic_port("/rt"), file, {"-c", n_text, pktgen_frames});
    ASSERT_TRUE(dump);
    auto tx = peer_send({"--count", n_text, "--len", "200", "--rate", paced_pps});
    ASSERT_TRUE(tx);
    const child_result t = tx->wait(60s);
    EXPECT_TRUE(t.exited && t.exit_code == 0) << "nic_peer send: " << t.describe();
    expect_moved(*rx, frames_n, "netring-pktgen rx");
    expect_capture(*dump, file, frames_n, 200, nic_port() + " rx0", inbound, peer_mac());
}

TEST_F(capture_nic, frames_a_nic_transmits_captured_outbound_by_a_dump_opened_first)
{
    const std::string file = capture_file("nic-tx");
    auto dump = start_dump(nic_port("/rt"), file, {"-c", n_text, pktgen_frames}); // before any application
    ASSERT_TRUE(dump);
    auto cap = peer_capture({"--count", n_text, "--timeout-s", "60"});
    ASSERT_TRUE(cap);
    ASSERT_TRUE(wait_ready(*cap, 20s)) << "nic_peer capture did not start: " << cap->read_err();
    auto tx = pktgen({"-i", nic_port(), "-f", "tx", "-n", n_text, "-l", "1000", "-R", paced_pps, "--json"});
    ASSERT_TRUE(tx);
    expect_moved(*tx, frames_n, "netring-pktgen tx");
    const child_result c = cap->wait(60s);
    EXPECT_TRUE(c.exited && c.exit_code == 0) << "nic_peer capture: " << c.describe();
    EXPECT_EQ(json_number(c.out, "received"), static_cast<double>(frames_n)) << c.describe();
    expect_capture(*dump, file, frames_n, 1000, nic_port() + " tx0", outbound);
}

TEST_F(capture_nic, frames_sent_to_the_host_stack_captured_on_the_host_ring)
{
    const std::string host = nic_port("^");
    const std::string file = capture_file("host-tx");
    auto dump = start_dump(host + "/rt", file, {"-c", n_text, pktgen_frames});
    ASSERT_TRUE(dump);
    auto tx = pktgen({"-i", host, "-f", "tx", "-n", n_text, "-l", "300", "-R", paced_pps, "--json"});
    ASSERT_TRUE(tx);
    expect_moved(*tx, frames_n, "netring-pktgen tx on the host rings");
    expect_capture(*dump, file, frames_n, 300, host + " host-tx0", outbound);
}

TEST_F(capture_nic, filter_keeps_exactly_the_frames_it_names)
{
    constexpr uint64_t udp_n = 3000;
    const std::string udp_text = std::to_string(udp_n);
    // A receiver that keeps the NIC bound, reads everything, and counts what is not UDP as other.
    auto rx = flow_rx(nic_port(), {"--count", udp_text, "--idle-ms", "20000", "--max-s", "60"});
    ASSERT_TRUE(rx);
    ASSERT_TRUE(wait_registered(rx->pid(), 20s)) << rx->read_err();
    const std::string file = capture_file("udp");
    // -c: the dump stops at the last UDP frame, after every pktgen frame sent before it.
    auto dump = start_dump(nic_port(), file, {"-c", udp_text, "udp", "dst", "port", "7777"});
    ASSERT_TRUE(dump);
    for (const std::vector<std::string> &what :
         {std::vector<std::string>{"--count", n_text, "--rate", paced_pps},
          std::vector<std::string>{"--count", udp_text, "--format", "udp", "--rate", paced_pps}}) {
        auto tx = peer_send(what);
        ASSERT_TRUE(tx);
        const child_result t = tx->wait(60s);
        EXPECT_TRUE(t.exited && t.exit_code == 0) << "nic_peer send: " << t.describe();
    }
    const child_result r = rx->wait(60s);
    EXPECT_TRUE(r.exited && r.exit_code == 0) << "nic_flow_rx: " << r.describe();
    EXPECT_EQ(json_number(r.out, "received"), static_cast<double>(udp_n)) << r.describe();
    const std::optional<double> other = json_number(r.out, "other");
    EXPECT_GE(other.value_or(0), static_cast<double>(frames_n)) << r.describe();

    const dump_counts c = finish_dump(*dump, "the UDP filter");
    EXPECT_EQ(c.captured, udp_n);
    EXPECT_EQ(c.dropped, 0u);
    // The monitor copies what the receiver got: the filter rejects its "other" frames, no more, no
    // fewer. With IPv6 off on the veth (netns.hpp) that has always been exactly the N pktgen frames.
    EXPECT_EQ(static_cast<double>(c.filtered), other.value_or(-1));
    const auto rows = read_fields(file, {"udp.dstport", "ip.src"});
    ASSERT_EQ(rows.size(), udp_n) << "frames tshark counts in the filtered capture";
    for (size_t i = 0; i < rows.size(); i++) {
        ASSERT_EQ(rows[i].size(), 2u) << "frame " << i;
        ASSERT_EQ(rows[i][0], "7777") << "frame " << i;
        ASSERT_EQ(rows[i][1], "10.77.0.2") << "frame " << i;
    }
}

TEST_F(capture_switch, switch_ports_captured_out_of_the_sender_and_into_the_receiver)
{
    // A monitor needs its switch port to exist: a persistent port is there before its sender opens it.
    for (const std::vector<std::string> &cmd :
         {std::vector<std::string>{"create", "valeC"}, {"add", "valeC:a"}}) {
        const child_result r = switch_cmd(cmd);
        ASSERT_TRUE(r.exited && r.exit_code == 0) << "netring-switch " << cmd[0] << ": " << r.describe();
    }
    auto rx = pktgen({"-i", "valeC:b", "-f", "rx", "-n", n_text, "-T", "60", "--json"});
    ASSERT_TRUE(rx);
    ASSERT_TRUE(wait_registered(rx->pid())) << rx->read_err();
    const std::string sent = capture_file("valeC-a"), received = capture_file("valeC-b");
    auto sender_dump = start_dump("valeC:a/rt", sent, {"-c", n_text});
    auto receiver_dump = start_dump("valeC:b/rt", received); // b is ephemeral: ends with its receiver
    ASSERT_TRUE(sender_dump && receiver_dump);
    auto tx = pktgen({"-i", "valeC:a", "-f", "tx", "-n", n_text, "-l", "128", "-R", paced_pps, "--json"});
    ASSERT_TRUE(tx);
    expect_moved(*tx, frames_n, "netring-pktgen tx");
    expect_moved(*rx, frames_n, "netring-pktgen rx");
    expect_capture(*sender_dump, sent, frames_n, 128, "valeC:a tx0", outbound);
    expect_capture(*receiver_dump, received, frames_n, 128, "valeC:b rx0", inbound);
}

TEST_F(capture_pipe, stopped_dump_costs_the_pipe_nothing)
{
    constexpr uint64_t n = 200000;
    constexpr uint64_t ring_holds = 1023; // -B 1024, one slot kept empty
    const std::string count = std::to_string(n);
    auto rx = pktgen({"-i", "netmap:capS}1", "-f", "rx", "-n", count, "-T", "60", "--json"});
    ASSERT_TRUE(rx);
    ASSERT_TRUE(wait_registered(rx->pid())) << rx->read_err();
    const std::string file = capture_file("stopped");
    auto dump = start_dump("netmap:capS{1", file, {"-B", "1024"});
    ASSERT_TRUE(dump);
    dump->signal(SIGSTOP);
    ASSERT_TRUE(eventually([&] { return stopped(dump->pid()); }, 10s)) << "netring-dump did not stop";
    auto tx = pktgen({"-i", "netmap:capS{1", "-f", "tx", "-n", count, "--json"});
    ASSERT_TRUE(tx);
    expect_moved(*tx, n, "netring-pktgen tx");
    expect_moved(*rx, n, "netring-pktgen rx");
    // Both ends have closed: resumed, the dump reads what its monitor kept and ends by itself. (A
    // SIGINT sent now could stop it before it read them, which is what SIGINT is for.)
    dump->signal(SIGCONT);
    const dump_counts c = finish_dump(*dump, "the stopped pipe end");
    EXPECT_EQ(c.captured + c.dropped, n);
    EXPECT_GT(c.dropped, 0u);
    EXPECT_EQ(c.captured, ring_holds) << "a stopped monitor keeps one ring's worth";
    expect_pktgen_frames(read_frames(file), c.captured, 60, "netmap:capS{1 tx0", outbound);
}

} // namespace
} // namespace netring::itest
