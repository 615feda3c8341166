// xsk_min: the smallest AF_XDP program that moves packets, with no rings layer in between.
// It is the reference the NIC benchmarks compare netring against, and it pins down the
// facts netring's AF_XDP port relies on (docs/AF_XDP-NOTES.md).
//
//   xsk_min -i IFACE [-q QUEUE] -f rx|tx [-l LEN] [-T SECONDS] [-b BATCH] [--frames N]
//           [--frame-size 2048] [--xdp-mode native|skb] [--xdp-prog own|libxdp]
//           [--tx-budget N] [--json]
//
// UMEM: one memfd mapped MAP_SHARED (as a netring region is), N frames of frame-size bytes,
// headroom 0. The socket binds in copy mode with need_wakeup. rx attaches a redirect program
// (xsk_xdp_prog.hpp) and checks each frame's sequence number; tx writes frames with
// ethertype 0x88b5, a marker and a u64 sequence number at offset 14 + 4.

#include "xsk_xdp_prog.hpp"

#include <xdp/xsk.h>
#include <xdp/libxdp.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include <linux/if_xdp.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <chrono>
#include <csignal>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "xsk_min_options.hpp"

namespace xsk_bench {
namespace {

using clock_type = std::chrono::steady_clock;

volatile std::sig_atomic_t stop_requested = 0;
void on_signal(int) { stop_requested = 1; }

constexpr uint16_t ethertype = 0x88b5;     // IEEE local experimental
constexpr uint32_t marker = 0x4e52584b;    // "NRXK", at offset 14
constexpr size_t seq_offset = 14 + 4;
constexpr size_t min_len = seq_offset + 8;

// Why the process may pin the UMEM: the kernel charges it to RLIMIT_MEMLOCK unless the
// caller has CAP_IPC_LOCK.
std::string raise_memlock() {
    rlimit r{RLIM_INFINITY, RLIM_INFINITY};
    if (setrlimit(RLIMIT_MEMLOCK, &r) == 0) return "memlock: unlimited";
    getrlimit(RLIMIT_MEMLOCK, &r);
    return "memlock: cannot raise (" + std::string(std::strerror(errno)) + "), stays at " +
           std::to_string(r.rlim_cur >> 10) + " KiB; the UMEM is pinned anyway if "
           "CAP_IPC_LOCK is held, else it must fit";
}

// The UMEM: like a netring region, an anonymous memfd mapped shared.
class umem_area {
public:
    static std::unique_ptr<umem_area> create(size_t bytes) {
        unique_fd fd(memfd_create("xsk_min-umem", MFD_CLOEXEC));
        if (!fd || ftruncate(fd.get(), static_cast<off_t>(bytes)) != 0) return nullptr;
        void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0);
        if (p == MAP_FAILED) return nullptr;
        return std::unique_ptr<umem_area>(new umem_area(std::move(fd), static_cast<uint8_t*>(p), bytes));
    }
    ~umem_area() { munmap(base_, bytes_); }
    uint8_t* base() const { return base_; }
    size_t bytes() const { return bytes_; }

private:
    umem_area(unique_fd fd, uint8_t* base, size_t bytes) : fd_(std::move(fd)), base_(base), bytes_(bytes) {}
    unique_fd fd_;
    uint8_t* base_;
    size_t bytes_;
};

struct umem_deleter { void operator()(xsk_umem* u) const { xsk_umem__delete(u); } };
struct socket_deleter { void operator()(xsk_socket* s) const { xsk_socket__delete(s); } };

// Free frame addresses (chunk starts), LIFO so recently used frames are cache-warm.
class frame_stack {
public:
    explicit frame_stack(size_t cap) : addrs_(cap) {}
    void push(uint64_t a) { addrs_[n_++] = a; }
    uint64_t pop() { return addrs_[--n_]; }
    size_t size() const { return n_; }

private:
    std::vector<uint64_t> addrs_;
    size_t n_ = 0;
};

struct counters {
    uint64_t packets = 0, lost = 0, corrupt = 0, kicks = 0, bytes = 0;
    int64_t rx_offset = -1;      // desc.addr % frame_size of the first RX frame
    uint64_t first_seq = 0;
};

struct xsk_setup {
    std::unique_ptr<umem_area> area;
    std::unique_ptr<xsk_umem, umem_deleter> umem;
    std::optional<xdp_redirect> prog;
    std::unique_ptr<xsk_socket, socket_deleter> xsk;   // declared last: closed first
    xsk_ring_prod fill{}, tx{};
    xsk_ring_cons comp{}, rx{};
    double bind_wait_ms = 0;     // time from the first bind attempt to success
    uint32_t bind_retries = 0;   // EBUSY answers before that
};

int libxdp_log(libxdp_print_level level, const char* fmt, va_list ap) {
    return level == LIBXDP_WARN ? std::vfprintf(stderr, fmt, ap) : 0;
}
int libbpf_log(libbpf_print_level level, const char* fmt, va_list ap) {
    return level == LIBBPF_WARN ? std::vfprintf(stderr, fmt, ap) : 0;
}

// Binds the socket, retrying on EBUSY: the previous socket's pool stays registered on the
// queue until the kernel's deferred release runs, shortly after close().
int create_socket(xsk_setup& s, const options& o, int* err_out) {
    xsk_socket_config cfg{};
    cfg.rx_size = XSK_RING_CONS__DEFAULT_NUM_DESCS;
    cfg.tx_size = XSK_RING_PROD__DEFAULT_NUM_DESCS;
    const bool libxdp_prog = o.rx && o.libxdp_prog;
    cfg.libxdp_flags = libxdp_prog ? 0 : XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD;
    cfg.xdp_flags = o.skb_mode ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE;
    cfg.bind_flags = XDP_COPY | XDP_USE_NEED_WAKEUP;
    const auto t0 = clock_type::now();
    for (;;) {
        xsk_socket* raw = nullptr;
        int err = xsk_socket__create(&raw, o.iface.c_str(), o.queue, s.umem.get(),
                                     o.rx ? &s.rx : nullptr, o.rx ? nullptr : &s.tx, &cfg);
        s.bind_wait_ms = std::chrono::duration<double, std::milli>(clock_type::now() - t0).count();
        if (err == 0) {
            s.xsk.reset(raw);
            return 0;
        }
        if (err != -EBUSY || s.bind_wait_ms > 5000 || stop_requested) {
            *err_out = err;
            return -1;
        }
        s.bind_retries++;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
}

void print_xdp_stats(std::FILE* f, int fd, bool json) {
    xdp_statistics st{};
    socklen_t len = sizeof st;
    if (getsockopt(fd, SOL_XDP, XDP_STATISTICS, &st, &len) != 0) return;
    std::fprintf(f, json ? ",\"xdp_stats\":{\"rx_dropped\":%llu,\"rx_ring_full\":%llu,"
                           "\"rx_fill_ring_empty\":%llu,\"rx_invalid\":%llu,\"tx_invalid\":%llu,"
                           "\"tx_ring_empty\":%llu}"
                         : "xdp stats: rx_dropped %llu rx_ring_full %llu rx_fill_ring_empty %llu "
                           "rx_invalid %llu tx_invalid %llu tx_ring_empty %llu\n",
                 (unsigned long long)st.rx_dropped, (unsigned long long)st.rx_ring_full,
                 (unsigned long long)st.rx_fill_ring_empty_descs, (unsigned long long)st.rx_invalid_descs,
                 (unsigned long long)st.tx_invalid_descs, (unsigned long long)st.tx_ring_empty_descs);
}

// Prints the rate once a second; returns true when the run should end.
struct ticker {
    clock_type::time_point last = clock_type::now();
    uint64_t last_packets = 0;
    void tick(const char* mode, const counters& c, clock_type::time_point now) {
        const double dt = std::chrono::duration<double>(now - last).count();
        if (dt < 1.0) return;
        std::fprintf(stderr, "%s: %.3f Mpps  total %llu  lost %llu  corrupt %llu  kicks %llu\n", mode,
                     double(c.packets - last_packets) / dt / 1e6, (unsigned long long)c.packets,
                     (unsigned long long)c.lost, (unsigned long long)c.corrupt,
                     (unsigned long long)c.kicks);
        last = now;
        last_packets = c.packets;
    }
};

bool check_frame(const uint8_t* p, uint32_t len, uint32_t want_len, counters& c, uint64_t* expected) {
    uint16_t et;
    uint32_t mk;
    uint64_t seq;
    if (len < min_len) return false;
    std::memcpy(&et, p + 12, 2);
    std::memcpy(&mk, p + 14, 4);
    std::memcpy(&seq, p + seq_offset, 8);
    if (et != htons(ethertype) || mk != marker) return false;
    if (want_len != 0 && len != want_len) return false;
    if (p[len - 1] != uint8_t(len - 1)) return false;  // the tail pattern the sender wrote
    if (c.packets == 0) *expected = c.first_seq = seq;
    if (seq < *expected) return false;                 // one queue keeps order: backwards is a bug
    c.lost += seq - *expected;
    *expected = seq + 1;
    return true;
}

// Moves every free frame the fill ring has room for into it.
void top_up_fill(xsk_setup& s, frame_stack& free_frames) {
    uint32_t idx;
    const uint32_t n = xsk_ring_prod__reserve(&s.fill, static_cast<uint32_t>(
        std::min<size_t>(free_frames.size(), xsk_prod_nb_free(&s.fill, free_frames.size()))), &idx);
    for (uint32_t i = 0; i < n; i++) *xsk_ring_prod__fill_addr(&s.fill, idx + i) = free_frames.pop();
    xsk_ring_prod__submit(&s.fill, n);  // partner: the kernel's consume of the fill ring
}

double run_rx(xsk_setup& s, const options& o, counters& c) {
    frame_stack free_frames(o.frames);
    for (uint32_t i = 0; i < o.frames; i++) free_frames.push(uint64_t(i) * o.frame_size);
    top_up_fill(s, free_frames);
    const int fd = xsk_socket__fd(s.xsk.get());
    uint64_t expected = 0;
    ticker t;
    clock_type::time_point first{}, last_rx{};
    while (!stop_requested) {
        uint32_t idx;
        const uint32_t n = xsk_ring_cons__peek(&s.rx, o.batch, &idx);  // partner: release below
        const auto now = clock_type::now();
        if (n == 0) {
            // Copy mode never sets the fill ring's flag; a driver in zero-copy mode would.
            if (xsk_ring_prod__needs_wakeup(&s.fill)) {
                recvfrom(fd, nullptr, 0, MSG_DONTWAIT, nullptr, nullptr);
                c.kicks++;
            }
            if (c.packets != 0 && now - last_rx > std::chrono::seconds(1)) break;  // sender done
            t.tick("rx", c, now);
            continue;
        }
        if (c.packets == 0) first = now;
        last_rx = now;
        for (uint32_t i = 0; i < n; i++) {
            const xdp_desc* d = xsk_ring_cons__rx_desc(&s.rx, idx + i);
            const uint64_t in_chunk = d->addr % o.frame_size;
            if (c.rx_offset < 0) c.rx_offset = int64_t(in_chunk);
            if (!check_frame(s.area->base() + d->addr, d->len, o.len_given ? o.len : 0, c, &expected))
                c.corrupt++;
            c.packets++;
            c.bytes += d->len;
            free_frames.push(d->addr - in_chunk);   // the fill ring takes chunk starts
        }
        xsk_ring_cons__release(&s.rx, n);  // partner: peek above
        top_up_fill(s, free_frames);
        t.tick("rx", c, now);
        if (now - first > std::chrono::duration<double>(o.seconds)) break;
    }
    return std::chrono::duration<double>(last_rx - first).count();
}

void write_template(uint8_t* p, uint32_t len) {
    static const uint8_t dst[6] = {0x02, 0, 0, 0, 0, 0x02}, src[6] = {0x02, 0, 0, 0, 0, 0x01};
    std::memcpy(p, dst, 6);
    std::memcpy(p + 6, src, 6);
    const uint16_t et = htons(ethertype);
    std::memcpy(p + 12, &et, 2);
    std::memcpy(p + 14, &marker, 4);
    for (uint32_t i = min_len; i < len; i++) p[i] = uint8_t(i);
}

double run_tx(xsk_setup& s, const options& o, counters& c) {
    frame_stack free_frames(o.frames);
    for (uint32_t i = 0; i < o.frames; i++) {
        free_frames.push(uint64_t(i) * o.frame_size);
        write_template(s.area->base() + uint64_t(i) * o.frame_size, o.len);
    }
    const int fd = xsk_socket__fd(s.xsk.get());
    uint64_t seq = 0, submitted = 0;
    ticker t;
    const auto start = clock_type::now();
    auto now = start;
    while (!stop_requested && now - start < std::chrono::duration<double>(o.seconds)) {
        uint32_t idx;
        const uint32_t done = xsk_ring_cons__peek(&s.comp, o.frames, &idx);  // partner: release
        for (uint32_t i = 0; i < done; i++) free_frames.push(*xsk_ring_cons__comp_addr(&s.comp, idx + i));
        xsk_ring_cons__release(&s.comp, done);
        c.packets += done;

        const uint32_t want = static_cast<uint32_t>(std::min<size_t>(o.batch, free_frames.size()));
        const uint32_t n = want ? xsk_ring_prod__reserve(&s.tx, want, &idx) : 0;
        for (uint32_t i = 0; i < n; i++) {
            xdp_desc* d = xsk_ring_prod__tx_desc(&s.tx, idx + i);
            d->addr = free_frames.pop();
            d->len = o.len;
            d->options = 0;
            std::memcpy(s.area->base() + d->addr + seq_offset, &seq, 8);
            seq++;
        }
        xsk_ring_prod__submit(&s.tx, n);  // partner: the kernel's consume in sendto below
        submitted += n;
        // In copy mode only sendto() moves TX descriptors, and the kernel keeps the flag set.
        if (submitted != c.packets && xsk_ring_prod__needs_wakeup(&s.tx)) {
            sendto(fd, nullptr, 0, MSG_DONTWAIT, nullptr, 0);
            c.kicks++;
        }
        now = clock_type::now();
        t.tick("tx", c, now);
    }
    return std::chrono::duration<double>(now - start).count();
}

}  // namespace

int run(const options& o) {
    libxdp_set_print(libxdp_log);
    libbpf_set_print(libbpf_log);
    std::fprintf(stderr, "%s\n", raise_memlock().c_str());
    const int ifindex = static_cast<int>(if_nametoindex(o.iface.c_str()));
    if (ifindex == 0) {
        std::fprintf(stderr, "xsk_min: no interface %s\n", o.iface.c_str());
        return 2;
    }
    if (o.rx) {
        bool bad = false;
        const std::string r = clear_stale_program(ifindex, &bad);
        if (!r.empty()) std::fprintf(stderr, "xsk_min: %s\n", r.c_str());
        if (bad) return 1;
    }

    xsk_setup s;
    s.area = umem_area::create(size_t(o.frames) * o.frame_size);
    if (!s.area) {
        std::perror("xsk_min: UMEM memfd/mmap");
        return 1;
    }
    xsk_umem_config ucfg{XSK_RING_PROD__DEFAULT_NUM_DESCS, XSK_RING_CONS__DEFAULT_NUM_DESCS,
                         o.frame_size, 0, 0};
    xsk_umem* u = nullptr;
    if (int err = xsk_umem__create(&u, s.area->base(), s.area->bytes(), &s.fill, &s.comp, &ucfg)) {
        std::fprintf(stderr, "xsk_min: xsk_umem__create: %s%s\n", std::strerror(-err),
                     err == -ENOMEM || err == -EPERM ? " (RLIMIT_MEMLOCK too low without CAP_IPC_LOCK?)" : "");
        return 1;
    }
    s.umem.reset(u);
    int err = 0;
    if (create_socket(s, o, &err) != 0) {
        std::fprintf(stderr, "xsk_min: xsk_socket__create(%s, queue %u): %s%s\n", o.iface.c_str(),
                     o.queue, std::strerror(-err),
                     err == -EBUSY ? " (queue still bound after 5 s of retries)" : "");
        return 1;
    }
    if (s.bind_retries)
        std::fprintf(stderr, "xsk_min: bind answered EBUSY %u times, bound after %.1f ms\n",
                     s.bind_retries, s.bind_wait_ms);
    const int fd = xsk_socket__fd(s.xsk.get());
    if (o.tx_budget && setsockopt(fd, SOL_XDP, 9 /* XDP_MAX_TX_SKB_BUDGET, Linux 6.17 */,
                                  &o.tx_budget, sizeof o.tx_budget) != 0)
        std::fprintf(stderr, "xsk_min: XDP_MAX_TX_SKB_BUDGET %u: %s\n", o.tx_budget, std::strerror(errno));
    if (o.rx && !o.libxdp_prog) {
        std::string why;
        s.prog = xdp_redirect::attach(ifindex, o.skb_mode ? xdp_attach_mode::skb : xdp_attach_mode::native,
                                      o.queue + 1, &why);
        if (!s.prog) {
            std::fprintf(stderr, "xsk_min: %s\n", why.c_str());
            return 1;
        }
        if (int e = s.prog->map_socket(o.queue, fd)) {
            std::fprintf(stderr, "xsk_min: XSKMAP update: %s\n", std::strerror(-e));
            return 1;
        }
    }
    uint32_t prog_id = 0;
    bpf_xdp_query_id(ifindex, 0, &prog_id);
    std::fprintf(stderr, "xsk_min: %s on %s queue %u, %u frames x %u, copy mode, xdp prog id %u\n",
                 o.rx ? "rx" : "tx", o.iface.c_str(), o.queue, o.frames, o.frame_size, prog_id);

    counters c;
    const double secs = o.rx ? run_rx(s, o, c) : run_tx(s, o, c);
    std::fprintf(stderr, "xsk_min: %s done: %llu packets in %.3f s\n", o.rx ? "rx" : "tx",
                 (unsigned long long)c.packets, secs);
    print_xdp_stats(stderr, fd, false);
    if (o.json) {
        const double mpps = secs > 0 ? double(c.packets) / secs / 1e6 : 0;
        std::printf("{\"mode\":\"%s\",\"iface\":\"%s\",\"len\":%u,\"batch\":%u,\"packets\":%llu,"
                    "\"seconds\":%.3f,\"mpps\":%.4f,\"ns_per_packet\":%.1f,\"lost\":%llu,"
                    "\"corrupt\":%llu,\"kicks\":%llu,\"rx_offset\":%lld,\"bind_retries\":%u,\"bind_wait_ms\":%.1f",
                    o.rx ? "rx" : "tx", o.iface.c_str(), o.len, o.batch, (unsigned long long)c.packets,
                    secs, mpps, c.packets ? secs * 1e9 / double(c.packets) : 0.0,
                    (unsigned long long)c.lost, (unsigned long long)c.corrupt,
                    (unsigned long long)c.kicks, (long long)c.rx_offset, s.bind_retries, s.bind_wait_ms);
        print_xdp_stats(stdout, fd, true);
        std::printf("}\n");
        std::fflush(stdout);
    }
    return 0;
}

}  // namespace xsk_bench

int main(int argc, char** argv) {
    xsk_bench::options o;
    if (!xsk_bench::parse_options(argc, argv, &o)) return 2;
    struct sigaction sa{};
    sa.sa_handler = xsk_bench::on_signal;
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
    return xsk_bench::run(o);
}
