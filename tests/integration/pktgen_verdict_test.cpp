// Objective: `netring-pktgen -f rx` counts what it receives truthfully: every good frame, each
// damaged frame as corrupt (naming only the first few on stderr), gaps as lost, repeats as
// duplicates, and exits non-zero on corruption. Its rx loop has a fast path for the frame it
// expects next; this checks the counts when the stream leaves that path in every way.
// Steps: start netringd; as uid 65534 start `netring-pktgen -f rx --json` on netmap:pipeV}1 with -n
// the number of frames to come; as root, in-process with libnetring, send on netmap:pipeV{1 pktgen
// frames 0-99, 5 frames with a damaged header, frames 100-149, frames 160-199 (10 lost), frame 10
// again (a duplicate), frame 200 with one payload byte changed, frames 201-209. Expect the JSON
// report to count all 206 frames, corrupt 6, lost 10, duplicate 1, and exit status 1 with exactly
// three "bad frame" lines on stderr.
#include "harness.hpp"

#include "frame.hpp"

#include <netring/netring.hpp>

#include <thread>
#include <vector>

namespace netring::itest {
namespace {

using namespace std::chrono_literals;
using pktgen::frame_template;
using pktgen::payload_kind;

constexpr uint16_t frame_len = 128;

// One frame to send: pktgen's frame `seq`, then damaged as `spoil` says.
struct planned {
    uint64_t seq;
    enum { good, bad_header, bad_payload } spoil;
};

std::vector<planned> plan()
{
    std::vector<planned> v;
    for (uint64_t s = 0; s < 100; s++)
        v.push_back({s, planned::good});
    for (uint64_t s = 0; s < 5; s++)
        v.push_back({1000 + s, planned::bad_header});
    for (uint64_t s = 100; s < 150; s++)
        v.push_back({s, planned::good});
    for (uint64_t s = 160; s < 200; s++)
        v.push_back({s, planned::good});
    v.push_back({10, planned::good});
    v.push_back({200, planned::bad_payload});
    for (uint64_t s = 201; s < 210; s++)
        v.push_back({s, planned::good});
    return v;
}

class pktgen_verdict : public daemon_test {};

TEST_F(pktgen_verdict, counts_good_corrupt_lost_and_duplicate_frames)
{
    const std::vector<planned> frames = plan();
    auto rx = pktgen({"-i", "netmap:pipeV}1", "-f", "rx", "-n", std::to_string(frames.size()), "-T", "60",
                      "-l", std::to_string(frame_len), "--json"});
    ASSERT_TRUE(rx);
    ASSERT_TRUE(wait_registered(rx->pid())) << "receiver never registered: " << rx->read_err();

    auto opened = port::open("netmap:pipeV{1", options());
    ASSERT_TRUE(opened) << opened.err().describe();
    port tx = std::move(opened).value();
    const frame_template tmpl(pktgen::broadcast_mac, pktgen::default_src_mac, frame_len, payload_kind::full);
    nr_ring *ring = tx.tx_ring(0);
    size_t next = 0;
    for (int round = 0; round < 100000 && next < frames.size(); round++) {
        while (next < frames.size() && nr_ring_space(ring) > 0) {
            nr_slot &slot = ring->slot[ring->cur];
            unsigned char *data = reinterpret_cast<unsigned char *>(nr_buf(ring, slot.buf_idx));
            tmpl.write(data, frames[next].seq);
            if (frames[next].spoil == planned::bad_header)
                data[pktgen::off_ethertype] ^= 0x01;
            else if (frames[next].spoil == planned::bad_payload)
                data[frame_len - 1] ^= 0x80;
            slot.ptr = 0;
            slot.len = frame_len;
            ring->head = ring->cur = nr_ring_next(ring, ring->cur);
            next++;
        }
        ASSERT_EQ(tx.txsync(0), std::error_code()) << tx.last_error();
        if (next < frames.size())
            std::this_thread::sleep_for(1ms);
    }
    ASSERT_EQ(next, frames.size()) << "the receiver stopped taking frames";

    const child_result r = rx->wait(60s);
    ASSERT_TRUE(r.exited) << r.describe();
    EXPECT_EQ(r.exit_code, 1) << "corruption must fail the run: " << r.describe();
    EXPECT_EQ(json_number(r.out, "packets"), static_cast<double>(frames.size())) << r.out;
    EXPECT_EQ(json_number(r.out, "corrupt"), 6.0) << r.out;
    EXPECT_EQ(json_number(r.out, "lost"), 10.0) << r.out;
    EXPECT_EQ(json_number(r.out, "duplicate"), 1.0) << r.out;
    size_t named = 0;
    for (size_t at = r.err.find("bad frame"); at != std::string::npos; at = r.err.find("bad frame", at + 1))
        named++;
    EXPECT_EQ(named, 3u) << "only the first three bad frames are named: " << r.err;
    EXPECT_NE(r.err.find("wrong ethertype"), std::string::npos) << r.err;
}

} // namespace
} // namespace netring::itest
