// switch_peer: one process on one switch port (valeX:P) for the switch scenarios. It holds the port
// for the whole scenario, so the switch's port set (and its learned addresses) stays put, and the
// test drives it through a FIFO, one command a line:
//
//   switch_peer --port vale0:a --control FIFO [--socket PATH] [--slots N]
//   switch_peer --port vale0:c --idle [--socket PATH] [--slots N]
//
//   send N SRC DST LEN [FIRST]  N netring-pktgen frames (seq FIRST..FIRST+N-1, default 0; full
//                        payload) from SRC to DST; done++ once the switch has taken every one (the
//                        tx ring is empty again)
//   mark K SRC           one marker frame (ethertype 0x88b6, K in its payload) to broadcast; done++
//   reset                forget what was received; epoch++
//   quit                 exit 0
//
// Everything received is checked as netring-pktgen -f rx checks it (frame.hpp: header, check word,
// every payload byte) and counted per source MAC, with a sequence check per source. After every
// change it writes one line on stderr:
//   state {"epoch":E,"done":D,"mark":K,"other":O,"from":{"02:00:00:00:00:0a":{"received":R,
//          "corrupt":C,"lost":L,"duplicate":U},...}}
// A marker from a sender arrives after every frame that sender sent before it (the switch keeps
// each port's order), so once a receiver has seen mark K, whatever was forwarded to it before K is
// in its counts. --idle opens the port, prints "ready" and never reads: a stalled receiver.
// Exit: 0 on quit; 1 the port failed; 2 usage or the port could not be opened.
#include "frame.hpp"

#include <netring/netring.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

namespace {

using namespace netring;
namespace pg = netring::pktgen;

constexpr uint16_t marker_ethertype = 0x88b6;

struct source_counts {
    uint64_t received = 0;
    uint64_t corrupt = 0;
    pg::seq_tracker seqs;
};

class peer {
public:
    explicit peer(port p) : p_(std::move(p)) {}

    int run(int control_fd);

private:
    bool poll_rx();
    bool wait_room();
    bool send(uint64_t first, uint64_t n, const pg::mac_addr &src, const pg::mac_addr &dst, uint16_t len);
    bool mark(uint32_t k, const pg::mac_addr &src);
    bool drain_tx();
    bool command(const std::string &line, bool &quit);
    void print_state();
    bool failed(const char *what, std::error_code ec);

    port p_;
    std::map<std::string, source_counts> from_;
    uint64_t epoch_ = 0, done_ = 0, other_ = 0;
    uint32_t mark_ = 0;
    bool changed_ = true;
};

bool peer::failed(const char *what, std::error_code ec)
{
    std::fprintf(stderr, "switch_peer: %s: %s (%s)\n", what, ec.message().c_str(), p_.last_error().c_str());
    return false;
}

// Takes everything on the rx ring, checks and counts it, releases it.
bool peer::poll_rx()
{
    if (auto ec = p_.rxsync(); ec)
        return failed("rxsync", ec);
    nr_ring *ring = p_.rx_ring(0);
    for (uint32_t i = ring->head; i != ring->tail; i = nr_ring_next(ring, i)) {
        const nr_slot *slot = &ring->slot[i];
        const auto *f = reinterpret_cast<const unsigned char *>(nr_slot_data(ring, slot));
        changed_ = true;
        if (slot->len < 18) {
            other_++;
            continue;
        }
        const uint16_t type = static_cast<uint16_t>(f[12] << 8 | f[13]);
        if (type == marker_ethertype) {
            uint32_t k = 0;
            std::memcpy(&k, f + 14, sizeof k);
            mark_ = k > mark_ ? k : mark_;
            continue;
        }
        if (type != pg::test_ethertype) {
            other_++;
            continue;
        }
        pg::mac_addr src;
        std::memcpy(src.b, f + 6, 6);
        source_counts &c = from_[pg::format_mac(src)];
        c.received++;
        const pg::frame_verdict v = pg::frame_inspect(f, slot->len, pg::payload_kind::full);
        if (v.fault == pg::frame_fault::none)
            c.seqs.observe(v.seq);
        else
            c.corrupt++;
    }
    ring->head = ring->cur = ring->tail; // released at the next rxsync
    return true;
}

// Sleeps until the tx ring has room (or 50 ms), receiving meanwhile.
bool peer::wait_room()
{
    std::error_code ec;
    if (p_.wait(wait_tx | wait_rx, 50, ec) < 0)
        return failed("wait", ec);
    return poll_rx();
}

bool peer::send(uint64_t first, uint64_t n, const pg::mac_addr &src, const pg::mac_addr &dst, uint16_t len)
{
    const pg::frame_template tmpl(dst, src, len, pg::payload_kind::full);
    nr_ring *ring = p_.tx_ring(0);
    const uint64_t end = first + n;
    for (uint64_t seq = first; seq < end;) {
        uint32_t room = nr_ring_space(ring);
        for (; room && seq < end; room--, seq++) {
            nr_slot *slot = &ring->slot[ring->cur];
            slot->ptr = 0;
            slot->len = len;
            tmpl.write(reinterpret_cast<unsigned char *>(nr_buf(ring, slot->buf_idx)), seq);
            ring->head = ring->cur = nr_ring_next(ring, ring->cur);
        }
        if (auto ec = p_.txsync(); ec)
            return failed("txsync", ec);
        if (seq < end && nr_ring_space(ring) == 0 && !wait_room())
            return false;
    }
    return drain_tx();
}

bool peer::mark(uint32_t k, const pg::mac_addr &src)
{
    nr_ring *ring = p_.tx_ring(0);
    while (nr_ring_space(ring) == 0) {
        if (auto ec = p_.txsync(); ec)
            return failed("txsync", ec);
        if (nr_ring_space(ring) == 0 && !wait_room())
            return false;
    }
    nr_slot *slot = &ring->slot[ring->cur];
    auto *f = reinterpret_cast<unsigned char *>(nr_buf(ring, slot->buf_idx));
    std::memset(f, 0, pg::min_frame_len);
    std::memcpy(f, pg::broadcast_mac.b, 6);
    std::memcpy(f + 6, src.b, 6);
    f[12] = marker_ethertype >> 8;
    f[13] = marker_ethertype & 0xff;
    std::memcpy(f + 14, &k, sizeof k);
    slot->ptr = 0;
    slot->len = pg::min_frame_len;
    ring->head = ring->cur = nr_ring_next(ring, ring->cur);
    return drain_tx();
}

// Until the switch has taken every frame from the tx ring.
bool peer::drain_tx()
{
    nr_ring *ring = p_.tx_ring(0);
    for (;;) {
        if (auto ec = p_.txsync(); ec)
            return failed("txsync", ec);
        if (nr_ring_space(ring) + 1 == ring->num_slots)
            break;
        if (!wait_room())
            return false;
    }
    done_++;
    changed_ = true;
    return true;
}

bool peer::command(const std::string &line, bool &quit)
{
    char verb[16] = {}, a[32] = {}, b[32] = {}, c[32] = {}, d[32] = {}, e[32] = {};
    const int got = std::sscanf(line.c_str(), "%15s %31s %31s %31s %31s %31s", verb, a, b, c, d, e);
    const std::string v = got > 0 ? verb : "";
    pg::mac_addr src, dst;
    if (v == "quit") {
        quit = true;
        return true;
    }
    if (v == "reset") {
        from_.clear();
        other_ = 0;
        epoch_++;
        changed_ = true;
        return true;
    }
    if (v == "send" && got >= 5 && pg::parse_mac(b, src) && pg::parse_mac(c, dst))
        return send(got == 6 ? std::strtoull(e, nullptr, 10) : 0, std::strtoull(a, nullptr, 10), src, dst,
                    static_cast<uint16_t>(std::strtoul(d, nullptr, 10)));
    if (v == "mark" && got == 3 && pg::parse_mac(b, src))
        return mark(static_cast<uint32_t>(std::strtoul(a, nullptr, 10)), src);
    std::fprintf(stderr, "switch_peer: bad command '%s'\n", line.c_str());
    return false;
}

void peer::print_state()
{
    std::string s = "state {\"epoch\":" + std::to_string(epoch_) + ",\"done\":" + std::to_string(done_) +
                    ",\"mark\":" + std::to_string(mark_) + ",\"other\":" + std::to_string(other_) +
                    ",\"from\":{";
    bool first = true;
    for (const auto &[mac, c] : from_) {
        s += (first ? "\"" : ",\"") + mac + "\":{\"received\":" + std::to_string(c.received) +
             ",\"corrupt\":" + std::to_string(c.corrupt) + ",\"lost\":" + std::to_string(c.seqs.lost) +
             ",\"duplicate\":" + std::to_string(c.seqs.duplicate) +
             ",\"next\":" + std::to_string(c.seqs.expected) + "}";
        first = false;
    }
    s += "}}\n";
    // One write per line: the test reads the file while this process appends to it.
    (void)!::write(2, s.data(), s.size());
    changed_ = false;
}

int peer::run(int control_fd)
{
    std::string pending;
    for (bool quit = false; !quit;) {
        if (!poll_rx())
            return 1;
        char buf[512];
        ssize_t n;
        while ((n = ::read(control_fd, buf, sizeof buf)) > 0)
            pending.append(buf, static_cast<size_t>(n));
        for (size_t nl; !quit && (nl = pending.find('\n')) != std::string::npos;) {
            const std::string line = pending.substr(0, nl);
            pending.erase(0, nl + 1);
            if (!command(line, quit))
                return 1;
        }
        if (changed_)
            print_state();
        if (quit)
            break;
        // Sleep until frames arrive or a command does (bounded: a missed wake-up costs 100 ms).
        if (p_.arm_wait(wait_rx)) {
            std::vector<pollfd> fds;
            for (int fd : p_.poll_fds(wait_rx))
                fds.push_back({fd, POLLIN, 0});
            fds.push_back({control_fd, POLLIN, 0});
            ::poll(fds.data(), fds.size(), 100);
            for (const pollfd &f : fds)
                if (f.fd != control_fd && (f.revents & POLLIN)) {
                    uint64_t v;
                    (void)!::read(f.fd, &v, sizeof v);
                }
        }
        p_.disarm_wait();
    }
    return 0;
}

int usage(const char *why)
{
    std::fprintf(stderr,
                 "switch_peer: %s\n"
                 "usage: switch_peer --port valeX:P (--control FIFO | --idle) [--socket PATH] [--slots N]\n",
                 why);
    return 2;
}

} // namespace

int main(int argc, char **argv)
{
    std::string port_name, control, socket;
    bool idle = false;
    uint32_t slots = 0;
    for (int i = 1; i < argc; i++) {
        const std::string a = argv[i];
        if (a == "--idle") {
            idle = true;
        } else if (i + 1 >= argc) {
            return usage((a + " needs a value").c_str());
        } else if (a == "--port") {
            port_name = argv[++i];
        } else if (a == "--control") {
            control = argv[++i];
        } else if (a == "--socket") {
            socket = argv[++i];
        } else if (a == "--slots") {
            slots = static_cast<uint32_t>(std::strtoul(argv[++i], nullptr, 10));
        } else {
            return usage(("unknown option " + a).c_str());
        }
    }
    if (port_name.empty() || (control.empty() && !idle))
        return usage("--port and --control (or --idle) are required");

    open_options o;
    o.socket_path = socket;
    o.tx_slots = o.rx_slots = slots;
    auto p = port::open(port_name, o);
    if (!p) {
        std::fprintf(stderr, "switch_peer: %s\n", p.err().describe().c_str());
        return 2;
    }
    if (idle) {
        std::fputs("ready\n", stderr);
        for (;;)
            ::pause(); // until the test's SIGTERM/SIGKILL
    }
    // Read and write: the FIFO never reports end-of-file while this process holds it.
    const int fd = ::open(control.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        std::fprintf(stderr, "switch_peer: open %s: %s\n", control.c_str(), std::strerror(errno));
        return 2;
    }
    std::fputs("ready\n", stderr);
    peer pr(std::move(p.value()));
    const int rc = pr.run(fd);
    ::close(fd);
    return rc;
}
