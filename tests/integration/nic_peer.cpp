// nic_peer: the far end of the NIC scenarios, run inside the test's network namespace on the veth end
// netringd does not bind. Plain AF_PACKET, no netring, so it checks netring against the kernel.
//
//   nic_peer send --if IF --count N [--len L] [--format pktgen|udp] [--flows F] [--dst-mac M] [--rate PPS]
//   nic_peer capture --if IF --count N [--timeout-s T] [--format pktgen|udp] [--linger-ms MS] [--json]
//
// send: `pktgen` frames are netring-pktgen's (frame.hpp, seq 0..N-1, broadcast destination), so
// `netring-pktgen -f rx` verifies them; `udp` frames (nic_udp_frame.hpp) go to --dst-mac, frame i
// belonging to flow i % F with per-flow seq i / F. A full socket buffer (ENOBUFS/EAGAIN) is retried,
// so every frame leaves. Prints {"sent":N,"retries":R}.
// capture: prints "ready" on stderr once its socket is bound, then checks every byte of every test
// frame until N good ones came (plus --linger-ms, to see duplicates) or T seconds passed. Frames of
// other kinds are counted as "other" and ignored. Prints {received, corrupt, lost, duplicate, other,
// socket_drops, per_flow:{...}}; exits 1 on corruption, duplicates or a shortfall, 2 on usage errors.
#include "frame.hpp"
#include "nic_flow_track.hpp"
#include "nic_udp_frame.hpp"

#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

namespace {

using namespace netring;
namespace uf = netring::itest::udp_frame;
using clock_type = std::chrono::steady_clock;

struct options {
    std::string command;
    std::string ifname;
    uint64_t count = 0;
    uint32_t len = 0; // 0: 60 (pktgen) or 128 (udp)
    bool udp = false;
    uint32_t flows = 1;
    uint64_t rate = 0;
    double timeout_s = 30;
    uint32_t linger_ms = 300;
    pktgen::mac_addr dst_mac = pktgen::broadcast_mac;
    bool json = false;
};

int usage(const char *why)
{
    std::fprintf(stderr,
                 "nic_peer: %s\n"
                 "usage: nic_peer send --if IF --count N [--len L] [--format pktgen|udp] [--flows F]\n"
                 "                     [--dst-mac MAC] [--rate PPS]\n"
                 "       nic_peer capture --if IF --count N [--timeout-s T] [--format pktgen|udp]\n"
                 "                        [--linger-ms MS] [--json]\n",
                 why);
    return 2;
}

bool parse(int argc, char **argv, options &o, std::string &err)
{
    if (argc < 2)
        return err = "a command is required", false;
    o.command = argv[1];
    for (int i = 2; i < argc; i++) {
        const std::string a = argv[i];
        const bool has_value = i + 1 < argc;
        auto value = [&]() { return std::string(argv[++i]); };
        auto number = [&]() { return std::strtoull(argv[++i], nullptr, 10); };
        if (a == "--json") {
            o.json = true;
        } else if (!has_value) {
            return err = a + " needs a value", false;
        } else if (a == "--if") {
            o.ifname = value();
        } else if (a == "--count" || a == "-n") {
            o.count = number();
        } else if (a == "--len" || a == "-l") {
            o.len = static_cast<uint32_t>(number());
        } else if (a == "--flows") {
            o.flows = static_cast<uint32_t>(number());
        } else if (a == "--rate") {
            o.rate = number();
        } else if (a == "--linger-ms") {
            o.linger_ms = static_cast<uint32_t>(number());
        } else if (a == "--timeout-s") {
            o.timeout_s = std::strtod(argv[++i], nullptr);
        } else if (a == "--format") {
            const std::string f = value();
            if (f != "pktgen" && f != "udp")
                return err = "--format is pktgen or udp", false;
            o.udp = f == "udp";
        } else if (a == "--dst-mac") {
            if (!pktgen::parse_mac(value(), o.dst_mac))
                return err = "bad --dst-mac", false;
        } else {
            return err = "unknown option " + a, false;
        }
    }
    if (o.command != "send" && o.command != "capture")
        return err = "unknown command " + o.command, false;
    if (o.ifname.empty() || o.count == 0)
        return err = "--if and --count are required", false;
    if (o.len == 0)
        o.len = o.udp ? 128 : pktgen::min_frame_len;
    const uint32_t min = o.udp ? uf::min_len : pktgen::min_frame_len;
    if (o.len < min || o.len > 1514)
        return err = "--len must be in [" + std::to_string(min) + ", 1514]", false;
    if (o.flows == 0 || o.flows > 4096)
        return err = "--flows must be in [1, 4096]", false;
    return true;
}

// An AF_PACKET socket bound to the interface for `proto` (0: send only, receives nothing).
int open_packet_socket(const std::string &ifname, uint16_t proto, pktgen::mac_addr *mac)
{
    const int fd = ::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(proto));
    if (fd < 0) {
        std::perror("nic_peer: socket(AF_PACKET)");
        return -1;
    }
    sockaddr_ll sll{};
    sll.sll_family = AF_PACKET;
    sll.sll_protocol = htons(proto);
    sll.sll_ifindex = static_cast<int>(::if_nametoindex(ifname.c_str()));
    if (sll.sll_ifindex == 0 || ::bind(fd, reinterpret_cast<sockaddr *>(&sll), sizeof sll) != 0) {
        std::fprintf(stderr, "nic_peer: bind to %s: %s\n", ifname.c_str(), std::strerror(errno));
        ::close(fd);
        return -1;
    }
    if (mac) {
        ifreq ifr{};
        std::strncpy(ifr.ifr_name, ifname.c_str(), IFNAMSIZ - 1);
        if (::ioctl(fd, SIOCGIFHWADDR, &ifr) == 0)
            std::memcpy(mac->b, ifr.ifr_hwaddr.sa_data, 6);
    }
    return fd;
}

int run_send(const options &o)
{
    pktgen::mac_addr src;
    const int fd = open_packet_socket(o.ifname, 0, &src);
    if (fd < 0)
        return 2;
    const pktgen::frame_template tmpl(pktgen::broadcast_mac, src, static_cast<uint16_t>(o.len),
                                      pktgen::payload_kind::full);
    unsigned char frame[2048];
    uint64_t retries = 0;
    const auto start = clock_type::now();
    for (uint64_t i = 0; i < o.count; i++) {
        if (o.rate && i % 16 == 0) { // pace in bursts of 16: frame i is due at start + i / rate
            const auto due = start + std::chrono::nanoseconds(i * 1000000000ull / o.rate);
            std::this_thread::sleep_until(due);
        }
        if (o.udp)
            uf::write(frame, o.dst_mac.b, src.b, static_cast<uint16_t>(o.len), static_cast<uint32_t>(i % o.flows),
                      i / o.flows);
        else
            tmpl.write(frame, i);
        for (;;) {
            if (::send(fd, frame, o.len, 0) == static_cast<ssize_t>(o.len))
                break;
            if (errno != ENOBUFS && errno != EAGAIN && errno != EINTR) {
                std::fprintf(stderr, "nic_peer: send frame %" PRIu64 ": %s\n", i, std::strerror(errno));
                ::close(fd);
                return 1;
            }
            retries++;
            std::this_thread::sleep_for(std::chrono::microseconds(200));
        }
    }
    ::close(fd);
    std::printf("{\"sent\":%" PRIu64 ",\"retries\":%" PRIu64 "}\n", o.count, retries);
    return 0;
}

struct capture_result {
    uint64_t received = 0; // test frames, good or not
    uint64_t corrupt = 0;
    uint64_t other = 0;
    uint64_t socket_drops = 0;
};

int run_capture(const options &o)
{
    const uint16_t proto = o.udp ? ETH_P_IP : pktgen::test_ethertype;
    const int fd = open_packet_socket(o.ifname, proto, nullptr);
    if (fd < 0)
        return 2;
    // Room for a whole burst: the daemon's worker may hand the kernel thousands of frames at once.
    const int rcvbuf = 256 << 20;
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf);
    const int one = 1;
    ::setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one);
    std::fputs("ready\n", stderr);
    std::fflush(stderr);

    capture_result r;
    pktgen::seq_tracker seqs;
    itest::flow_tracker flows;
    int reported = 0;
    unsigned char buf[4096];
    const auto start = clock_type::now();
    const auto deadline = start + std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(o.timeout_s));
    auto stop_at = deadline;
    auto good = [&] { return o.udp ? flows.unique() : seqs.expected - seqs.lost; };
    for (;;) {
        const auto now = clock_type::now();
        if (now >= stop_at)
            break;
        if (stop_at == deadline && good() >= o.count) // all came: linger to catch duplicates
            stop_at = std::min(deadline, now + std::chrono::milliseconds(o.linger_ms));
        pollfd pfd{fd, POLLIN, 0};
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(stop_at - now).count();
        if (::poll(&pfd, 1, static_cast<int>(std::min<int64_t>(left + 1, 100))) <= 0)
            continue;
        for (;;) {
            const ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT | MSG_TRUNC);
            if (n < 0)
                break;
            const uint32_t len = static_cast<uint32_t>(n);
            const bool is_test = o.udp ? uf::is_test_frame(buf, len) : true; // the socket filters the ethertype
            if (!is_test) {
                r.other++;
                continue;
            }
            r.received++;
            const char *why = nullptr;
            if (len > sizeof buf) {
                why = "longer than any test frame";
            } else if (o.udp) {
                const uf::verdict v = uf::inspect(buf, len);
                if (v.ok)
                    flows.observe(v.flow, v.seq);
                else
                    why = v.why;
            } else {
                const pktgen::frame_verdict v = pktgen::frame_inspect(buf, len, pktgen::payload_kind::full);
                if (v.fault == pktgen::frame_fault::none)
                    seqs.observe(v.seq);
                else
                    why = pktgen::frame_fault_name(v.fault);
            }
            if (why) {
                r.corrupt++;
                if (reported++ < 5)
                    std::fprintf(stderr, "nic_peer: bad frame (len %u): %s\n", len, why);
            }
        }
    }
    tpacket_stats st{};
    socklen_t sl = sizeof st;
    if (::getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, &st, &sl) == 0)
        r.socket_drops = st.tp_drops;
    ::close(fd);

    const uint64_t unique = good();
    const uint64_t duplicate = o.udp ? flows.duplicate() : seqs.duplicate;
    const uint64_t lost = unique < o.count ? o.count - unique : 0;
    std::string per_flow = o.udp ? flows.per_flow_json() : "{\"0\":" + std::to_string(unique) + "}";
    std::printf("{\"received\":%" PRIu64 ",\"corrupt\":%" PRIu64 ",\"lost\":%" PRIu64 ",\"duplicate\":%" PRIu64
                ",\"other\":%" PRIu64 ",\"socket_drops\":%" PRIu64 ",\"per_flow\":%s}\n",
                r.received, r.corrupt, lost, duplicate, r.other, r.socket_drops, per_flow.c_str());
    if (!o.json)
        std::fprintf(stderr, "nic_peer: %" PRIu64 " of %" PRIu64 " frames\n", unique, o.count);
    return r.corrupt || duplicate || lost ? 1 : 0;
}

} // namespace

int main(int argc, char **argv)
{
    options o;
    std::string err;
    if (!parse(argc, argv, o, err))
        return usage(err.c_str());
    return o.command == "send" ? run_send(o) : run_capture(o);
}
