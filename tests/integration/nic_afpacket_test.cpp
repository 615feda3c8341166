// Objective: with `nic_mode afpacket` netringd moves frames between a NIC (one end of a veth pair) and
// an unprivileged client's rings through an AF_PACKET socket, both ways, without losing, duplicating
// or altering a byte.
// Steps: the fixture makes netns nrt<pid><tag> holding the veth's peer end and starts netringd with
// `nic_mode afpacket` and `allow uid=65534 netmap:<veth>*`. RX: netring-pktgen -f rx -n N on
// netmap:<veth> (uid 65534), registered before nic_peer sends N netring-pktgen frames from inside the
// namespace; pktgen must count N, none corrupt, lost or duplicated. TX: nic_peer capture in the
// namespace, then netring-pktgen -f tx -n N on netmap:<veth>; the capture must check N intact frames.
// Both at 60 and 1500 bytes. In this mode the port is one ring pair, whatever the queue count.
#include "nic_fixture.hpp"

namespace netring::itest {
namespace {

class nic_afpacket : public nic_test {
protected:
    std::string nic_mode() const override { return "afpacket"; }
};

TEST_F(nic_afpacket, rx_60_byte_frames_arrive_intact) { expect_rx_intact(60, 20000); }

TEST_F(nic_afpacket, rx_1500_byte_frames_arrive_intact) { expect_rx_intact(1500, 20000); }

TEST_F(nic_afpacket, tx_60_byte_frames_leave_intact) { expect_tx_intact(60, 20000); }

TEST_F(nic_afpacket, tx_1500_byte_frames_leave_intact) { expect_tx_intact(1500, 20000); }

TEST_F(nic_afpacket, port_is_one_ring_pair)
{
    auto p = port::open(nic_port(), options());
    ASSERT_TRUE(p) << p.err().describe();
    EXPECT_EQ(p->tx_rings(), 1u);
    EXPECT_EQ(p->rx_rings(), 1u);
}

} // namespace
} // namespace netring::itest
