// The packet I/O of one NIC queue (or of the host stack's TAP), as the NIC port's worker drives it.
//
//   auto q = open_afxdp_queue(link, queue, mem, fill_bufs, ring_size);   // or open_afpacket_queue,
//   uint32_t got = (*q)->receive(slots, n);     //                         open_tap_queue
//   uint32_t took = (*q)->transmit(slots, n);   // frames in region buffers, in ring order
//   uint32_t done = (*q)->reclaim();            // of those taken, how many buffers are free again
//
// Implementations:
//   nic_afxdp.cpp    AF_XDP socket whose UMEM is the region's buffer area: the kernel writes received
//                    frames straight into region buffers and transmits from them (no user-space copy);
//   nic_afpacket.cpp AF_PACKET socket, TPACKET_V3 RX ring copied into region buffers, sendmmsg TX;
//   nic_tap.cpp      the host-stack rings: a TAP device, read()/write() into and out of region buffers.
//
// The worker validates every slot before it reaches these calls (buffer index in range, offset + len
// inside the buffer), so implementations may trust `io_slot`s; they never look at shared memory
// themselves. One worker thread owns a queue: no call is made concurrently with another.
#pragma once

#include <netring/error.hpp>
#include <netring/unique_fd.hpp>

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace netring::netringd {

// A frame in a region buffer: data at buffer(buf_idx) + offset, len bytes.
struct io_slot {
    uint32_t buf_idx = 0;
    uint16_t offset = 0;
    uint16_t len = 0;
};

// Counters one queue keeps; read by STATS (from the control thread: each field is written only by
// the worker, read racily, informational).
// A counter the worker thread writes and the control thread reads (STATS, PORT_INFO): relaxed
// atomic loads and stores. There is one writer, so an increment is a load and a store, not a
// locked read-modify-write.
class io_counter {
public:
    io_counter &operator+=(uint64_t n)
    {
        v_.store(v_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
        return *this;
    }
    io_counter &operator++() { return *this += 1; }
    void operator++(int) { *this += 1; }
    io_counter &operator=(uint64_t n)
    {
        v_.store(n, std::memory_order_relaxed);
        return *this;
    }
    operator uint64_t() const { return v_.load(std::memory_order_relaxed); }

private:
    std::atomic<uint64_t> v_{0};
};

struct io_counters {
    io_counter rx_packets;
    io_counter rx_bytes;
    io_counter rx_dropped; // frames the kernel or the backend dropped (ring full, no buffer)
    io_counter tx_packets;
    io_counter tx_bytes;
    io_counter tx_errors; // frames the kernel refused
    io_counter rx_copies; // frames copied into region buffers (AF_XDP: always 0)
    io_counter tx_copies; // frames copied out of them by a send or write (AF_XDP: always 0)
    io_counter syscalls;  // sendto/recv/poll kicks made to move frames

    uint64_t copies() const { return rx_copies + tx_copies; }
};

// The region's buffer area, as the daemon maps it.
struct nic_buffers {
    uint8_t *area = nullptr; // buffer 0 in the daemon's mapping (region base + buffers_offset)
    uint64_t area_bytes = 0; // num_buffers * buf_size
    uint32_t buf_size = 0;   // power of two; also the AF_XDP chunk size
    uint32_t num_buffers = 0;

    uint8_t *data(const io_slot &s) const { return area + uint64_t{s.buf_idx} * buf_size + s.offset; }
};

// Where a staging AF_XDP queue's socket rings stand (see nic_queue_io::staged): the indices it owns,
// including what it staged and has not published.
struct xsk_cursors {
    uint32_t fill_prod = 0, rx_cons = 0, tx_prod = 0, comp_cons = 0;
    uint32_t rx_from = 0;   // the RX consumer before the staged receive: [rx_from, rx_cons) staged
    uint32_t in_kernel = 0; // frames transmit() took that reclaim() has not counted back
    uint32_t credits = 0;   // refused frames, likewise
};

class nic_queue_io {
public:
    virtual ~nic_queue_io() = default;

    // Receives up to n frames. On entry every slots[i].buf_idx is a free buffer the RX ring gives up
    // (offset and len are ignored). On return slots[0..k) describe the k frames received: a copying
    // implementation writes into the given buffer at offset 0; AF_XDP replaces buf_idx/offset with
    // where the frame landed and keeps the given buffer for its fill ring. slots[k..n) are unchanged.
    virtual uint32_t receive(io_slot *slots, uint32_t n) = 0;

    // Queues up to n frames for transmission, in order; returns how many it took (the rest are
    // offered again on the next call). A taken frame's buffer stays in use until reclaim() counts it.
    virtual uint32_t transmit(const io_slot *slots, uint32_t n) = 0;

    // How many taken frames (oldest first) have left their buffers since the last call.
    virtual uint32_t reclaim() = 0;

    // Readable (POLLIN) when frames wait to be received: the worker sleeps on it when idle.
    virtual int rx_wait_fd() const = 0;

    virtual const io_counters &counters() const = 0;

    // Appends the buffers the I/O holds besides the rings' slots (AF_XDP: its fill ring and the
    // frames the kernel has not handed back). Called before destruction, to return them to the pool.
    virtual void held_buffers(std::vector<uint32_t> &) const {}

    // Two-phase I/O, for a worker that journals its cursors (nic_journal.hpp). An I/O that stages
    // (AF_XDP) makes receive(), transmit() and reclaim() write only where the kernel does not look
    // yet; staged() then says where its rings will stand, and publish() hands the work to the
    // kernel. The others do everything at once: staged() is false and publish() does nothing.
    // Between a receive() and the next publish() the received frames' descriptors stay where
    // redelivery (an adoption after a crash) can read them again.
    virtual bool staged(xsk_cursors &) const { return false; }
    virtual void publish() {}
};

// The AF_XDP queue: one XSK bound to (ifname, queue) in copy or zero-copy mode, whichever the driver
// gives, its UMEM being mem's whole buffer area (each queue registers the area itself). `fill_bufs`
// are buffers that belong to the queue from now on and go to the fill ring. `ring_size` sizes the
// XSK rings (power of two). The XSK is not yet in the XDP program's map: see xdp_program.
result<std::unique_ptr<nic_queue_io>> open_afxdp_queue(const std::string &ifname, uint32_t queue,
                                                       const nic_buffers &mem,
                                                       std::span<const uint32_t> fill_bufs,
                                                       uint32_t ring_size);
// The socket fd of an AF_XDP queue (for the XSKMAP), or -1 for other kinds.
int afxdp_socket_fd(const nic_queue_io &q);
// The ring sizes of an AF_XDP queue (fixed when it opened: readable while its worker runs); false
// for other kinds.
bool afxdp_ring_sizes(const nic_queue_io &q, uint32_t &ring, uint32_t &fill);

// What a restart keeps of an AF_XDP queue besides its socket and the buffers it holds
// (held_buffers): the rings' sizes and what it counts of the frames it transmitted.
struct afxdp_kept {
    uint32_t ring_size = 0; // rx, tx and completion rings
    uint32_t fill_size = 0;
    uint64_t tx_in_kernel = 0; // taken by transmit(), completion not counted by reclaim() yet
    uint32_t tx_credits = 0;   // refused frames not counted by reclaim() yet
    // After a crash: the worker's last commit (nic_journal.hpp). The socket's rings are moved to
    // it (what was staged and not published is published now), and the frames of its staged
    // receive are redelivered (afxdp_undelivered()).
    bool journaled = false;
    xsk_cursors at;
};
// Of an AF_XDP queue, with its worker stopped; false for other kinds.
bool afxdp_keep(const nic_queue_io &q, afxdp_kept &out);
// The AF_XDP queue a previous netringd opened, from its socket `xsk` (bound, UMEM registered on
// mem's buffer area, in the XSKMAP). The rings are mapped again and carry on where the kernel
// stands; `held` are the buffers the queue holds, each checked to be in the area and every
// buffer waiting on the RX ring checked to be one of them.
result<std::unique_ptr<nic_queue_io>> adopt_afxdp_queue(unique_fd xsk, const nic_buffers &mem,
                                                        const afxdp_kept &k, std::span<const uint32_t> held);
// Of an AF_XDP queue adopted from a journal: whether the receive its predecessor committed last
// was not published (its RX descriptors not released), and then its frames, as receive() returned
// them (what the rx slots get).
bool afxdp_undelivered(const nic_queue_io &q, std::vector<io_slot> &frames);
// Of an AF_XDP queue adopted from a journal, once its frames are redelivered: the buffers it
// holds are those in its fill ring and its RX ring, less those found in a client's slot
// (`in_slots`, per region buffer): the kernel publishes its fill consumer late, so a fill entry
// can be a buffer it already handed back. Without a journal: nothing to do.
void afxdp_settle_held(nic_queue_io &q, const std::vector<uint8_t> &in_slots);

// The AF_PACKET queue: every frame of the interface (all hardware queues), outgoing ones excluded.
result<std::unique_ptr<nic_queue_io>> open_afpacket_queue(const std::string &ifname, const nic_buffers &mem,
                                                          uint32_t ring_size);

// What a restart keeps of an AF_PACKET queue besides its socket: the RX ring's block count, where
// the reader stands in it, and the frames transmit() took that reclaim() has not counted.
struct afpacket_kept {
    uint32_t blocks = 0;
    uint32_t block = 0;     // the block receive() reads or waits for
    uint32_t left = 0;      // frames of it not read yet; 0: not opened
    uint32_t frame_off = 0; // the next frame's offset in the block, when left > 0
    uint32_t unreclaimed = 0;
    bool skip_outgoing = false;
};
// Of an AF_PACKET queue, with its worker stopped, and its socket fd; -1 for other kinds.
int afpacket_keep(const nic_queue_io &q, afpacket_kept &out);
// The AF_PACKET queue a previous netringd opened on ifname, from its socket: checked to be a
// TPACKET_V3 packet socket bound to ifname whose RX ring has the recorded blocks (the kernel maps
// only the ring's exact size), the reader's place inside a block the kernel handed over.
result<std::unique_ptr<nic_queue_io>> adopt_afpacket_queue(unique_fd sock, const std::string &ifname,
                                                           const nic_buffers &mem, const afpacket_kept &k);

// The host-stack queue: the TAP device `tap_name`, created here with `mac` and brought up; removed
// when the object goes. Frames transmitted enter the kernel stack as if received on the TAP; frames
// the kernel sends out through the TAP are received.
result<std::unique_ptr<nic_queue_io>> open_tap_queue(const std::string &tap_name, const uint8_t (&mac)[6],
                                                     uint32_t mtu, const nic_buffers &mem);

// What a restart keeps of a TAP queue: its tun fd (returned; -1 for other kinds) and the frames
// transmit() wrote that reclaim() has not counted (written frames are copied already: nothing
// else is in flight). Of a queue whose worker is stopped.
int tap_keep(const nic_queue_io &q, uint32_t &unreclaimed);
// The TAP queue a previous netringd opened, from its tun fd: checked to be attached to the TAP
// `tap_name`, without packet info, non-blocking. The device lives as long as some process holds
// the fd, so it is the same device with the same addresses and routes.
result<std::unique_ptr<nic_queue_io>> adopt_tap_queue(unique_fd tun, const std::string &tap_name,
                                                      const nic_buffers &mem, uint32_t unreclaimed);

// The TAP name for an interface: "nr-" + ifname, cut to fit IFNAMSIZ.
std::string tap_name_for(const std::string &ifname);

} // namespace netring::netringd
