// The host-stack queue (nic_io.hpp): a TAP device the daemon creates for a bound NIC. What the
// worker transmits is written into the TAP and enters the kernel stack as if the TAP had received
// it; what the kernel sends out through the TAP is read back and received. One read() or write()
// per frame: the tun driver has no batch interface without vnet headers.
//
// The device is not persistent: it exists while this object holds the tun fd. A TAP of the same
// name that exists already (someone else's, or a persistent one) is never taken over.
//
// `copies` counts every frame read or written (the syscall copies it out of or into the region);
// `syscalls` counts every read()/write(), including the one that finds the queue empty.
#include "nic_io.hpp"

#include <netring/unique_fd.hpp>

#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace netring::netringd {
namespace {

constexpr uint32_t eth_overhead = 18; // Ethernet header + one VLAN tag

class tap_queue final : public nic_queue_io {
public:
    tap_queue(unique_fd tun, const nic_buffers &mem, uint32_t unreclaimed = 0)
        : tun_(std::move(tun)), mem_(mem), unreclaimed_(unreclaimed)
    {}

    uint32_t receive(io_slot *slots, uint32_t n) override
    {
        uint32_t got = 0;
        uint32_t attempts = 0;
        while (got < n && attempts++ < 2 * n) {
            uint8_t *dst = mem_.data({slots[got].buf_idx, 0, 0});
            ++counters_.syscalls;
            ssize_t r = ::read(tun_.get(), dst, mem_.buf_size);
            if (r > 0) {
                slots[got].offset = 0;
                slots[got].len = static_cast<uint16_t>(r);
                ++counters_.rx_packets;
                counters_.rx_bytes += static_cast<uint64_t>(r);
                ++counters_.rx_copies;
                ++got;
                continue;
            }
            if (r < 0 && errno == EINTR)
                continue;
            if (r < 0 && (errno == EFAULT || errno == EINVAL || errno == EMSGSIZE)) {
                ++counters_.rx_dropped; // longer than a buffer: the kernel discarded it
                continue;
            }
            break; // EAGAIN: nothing more now (other errors: try again on the next call)
        }
        return got;
    }

    uint32_t transmit(const io_slot *slots, uint32_t n) override
    {
        uint32_t taken = 0;
        while (taken < n) {
            const io_slot &s = slots[taken];
            ++counters_.syscalls;
            ssize_t w = ::write(tun_.get(), mem_.data(s), s.len);
            if (w >= 0) {
                ++counters_.tx_packets;
                counters_.tx_bytes += s.len;
                ++counters_.tx_copies;
            } else if (errno == EINTR) {
                continue;
            } else if (errno == EAGAIN || errno == ENOBUFS) {
                break; // offered again on the next call
            } else {
                ++counters_.tx_errors; // a malformed frame: skip it so the ring keeps moving
            }
            ++taken;
        }
        unreclaimed_ += taken;
        return taken;
    }

    // write() copied every taken frame before returning.
    uint32_t reclaim() override { return std::exchange(unreclaimed_, 0); }

    int rx_wait_fd() const override { return tun_.get(); }
    const io_counters &counters() const override { return counters_; }
    uint32_t unreclaimed() const { return unreclaimed_; }

private:
    unique_fd tun_;
    nic_buffers mem_;
    uint32_t unreclaimed_ = 0;
    io_counters counters_;
};

error tap_error(const std::string &name, const char *what)
{
    return error::from_errno(errno, "TAP " + name + ": " + what);
}

ifreq ifreq_for(const std::string &name)
{
    ifreq ifr{};
    std::memcpy(ifr.ifr_name, name.data(), name.size()); // size checked by the caller
    return ifr;
}

} // namespace

std::string tap_name_for(const std::string &ifname)
{
    std::string name = "nr-" + ifname;
    if (name.size() > IFNAMSIZ - 1)
        name.resize(IFNAMSIZ - 1);
    return name;
}

result<std::unique_ptr<nic_queue_io>> open_tap_queue(const std::string &tap_name, const uint8_t (&mac)[6],
                                                     uint32_t mtu, const nic_buffers &mem)
{
    if (tap_name.empty() || tap_name.size() > IFNAMSIZ - 1)
        return error::from(errc::bad_port_name, "TAP name '" + tap_name + "' must have 1 to 15 characters");
    if (mem.area == nullptr || mtu == 0 || mtu + eth_overhead > mem.buf_size)
        return error::from(errc::limit_exceeded, "TAP " + tap_name + ": MTU " + std::to_string(mtu) +
                                                     " does not fit a " + std::to_string(mem.buf_size) +
                                                     " B buffer");
    // TUNSETIFF on an existing TAP would attach to it; IFF_TUN_EXCL below closes the race window.
    if (::if_nametoindex(tap_name.c_str()) != 0)
        return error::from(errc::port_busy, "TAP " + tap_name + " exists");

    unique_fd tun(::open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC));
    if (!tun.valid())
        return tap_error(tap_name, "open /dev/net/tun");
    ifreq ifr = ifreq_for(tap_name);
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_TUN_EXCL;
    if (::ioctl(tun.get(), TUNSETIFF, &ifr) != 0) {
        if (errno == EBUSY)
            return error::from(errc::port_busy, "TAP " + tap_name + " exists");
        return tap_error(tap_name, "TUNSETIFF");
    }

    // MTU and flags are set through any socket; the device goes when the tun fd closes.
    unique_fd ctl(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!ctl.valid())
        return tap_error(tap_name, "control socket");
    ifr = ifreq_for(tap_name);
    ifr.ifr_hwaddr.sa_family = ARPHRD_ETHER;
    std::memcpy(ifr.ifr_hwaddr.sa_data, mac, 6);
    if (::ioctl(ctl.get(), SIOCSIFHWADDR, &ifr) != 0)
        return tap_error(tap_name, "SIOCSIFHWADDR");
    ifr = ifreq_for(tap_name);
    ifr.ifr_mtu = static_cast<int>(mtu);
    if (::ioctl(ctl.get(), SIOCSIFMTU, &ifr) != 0)
        return tap_error(tap_name, "SIOCSIFMTU");
    ifr = ifreq_for(tap_name);
    if (::ioctl(ctl.get(), SIOCGIFFLAGS, &ifr) != 0)
        return tap_error(tap_name, "SIOCGIFFLAGS");
    ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
    if (::ioctl(ctl.get(), SIOCSIFFLAGS, &ifr) != 0)
        return tap_error(tap_name, "SIOCSIFFLAGS");

    return std::unique_ptr<nic_queue_io>(new tap_queue(std::move(tun), mem));
}

int tap_keep(const nic_queue_io &q, uint32_t &unreclaimed)
{
    const auto *t = dynamic_cast<const tap_queue *>(&q);
    if (!t)
        return -1;
    unreclaimed = t->unreclaimed();
    return t->rx_wait_fd();
}

result<std::unique_ptr<nic_queue_io>> adopt_tap_queue(unique_fd tun, const std::string &tap_name,
                                                      const nic_buffers &mem, uint32_t unreclaimed)
{
    // TUNGETIFF answers only on a tun fd attached to a device: its name and flags.
    ifreq ifr{};
    if (!tun.valid() || ::ioctl(tun.get(), TUNGETIFF, &ifr) != 0)
        return error::from(errc::bad_message, "the kept fd of TAP " + tap_name + " is not a TAP device's");
    ifr.ifr_name[IFNAMSIZ - 1] = '\0';
    const int kind = ifr.ifr_flags & (IFF_TUN | IFF_TAP);
    if (tap_name != ifr.ifr_name || kind != IFF_TAP || !(ifr.ifr_flags & IFF_NO_PI))
        return error::from(errc::bad_message, "the kept fd of TAP " + tap_name + " is attached to '" +
                                                  std::string(ifr.ifr_name) +
                                                  "', or not as a TAP without packet info");
    const int fl = ::fcntl(tun.get(), F_GETFL);
    if (fl < 0 || !(fl & O_NONBLOCK))
        return error::from(errc::bad_message, "the kept fd of TAP " + tap_name + " blocks");
    if (mem.area == nullptr)
        return error::from(errc::bad_message, "TAP " + tap_name + ": no buffer area");
    return std::unique_ptr<nic_queue_io>(new tap_queue(std::move(tun), mem, unreclaimed));
}

} // namespace netring::netringd
