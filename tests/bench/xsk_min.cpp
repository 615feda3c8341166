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

#include "xsk_min.hpp"

#include <arpa/inet.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include <linux/if_xdp.h>
#include <net/if.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <xdp/libxdp.h>
#include <xdp/xsk.h>

#include <chrono>
#include <csignal>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

namespace xsk_bench {

volatile std::sig_atomic_t stop_requested = 0;

namespace {

using clock_type = std::chrono::steady_clock;

void on_signal(int) { stop_requested = 1; }

// The kernel charges the pinned UMEM to RLIMIT_MEMLOCK (summed over the uid) unless the
// caller has CAP_IPC_LOCK; raising the hard limit needs CAP_SYS_RESOURCE.
std::string raise_memlock()
{
    rlimit r{RLIM_INFINITY, RLIM_INFINITY};
    if (setrlimit(RLIMIT_MEMLOCK, &r) == 0)
        return "memlock: unlimited";
    const int err = errno;
    getrlimit(RLIMIT_MEMLOCK, &r);
    return "memlock: cannot raise (" + std::string(std::strerror(err)) + "), stays at " +
           std::to_string(r.rlim_cur >> 10) + " KiB (fine with CAP_IPC_LOCK: the UMEM is not charged)";
}

int libxdp_log(libxdp_print_level level, const char *fmt, va_list ap)
{
    return level == LIBXDP_WARN ? std::vfprintf(stderr, fmt, ap) : 0;
}
int libbpf_log(libbpf_print_level level, const char *fmt, va_list ap)
{
    return level == LIBBPF_WARN ? std::vfprintf(stderr, fmt, ap) : 0;
}

// Binds the socket, retrying on EBUSY: the previous socket's pool stays registered on the
// queue until the kernel's deferred release runs, shortly after close().
int create_socket(xsk_setup &s, const options &o, int *err_out)
{
    xsk_socket_config cfg{};
    cfg.rx_size = XSK_RING_CONS__DEFAULT_NUM_DESCS;
    cfg.tx_size = XSK_RING_PROD__DEFAULT_NUM_DESCS;
    const bool libxdp_prog = o.rx && o.libxdp_prog;
    cfg.libxdp_flags = libxdp_prog ? 0 : XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD;
    cfg.xdp_flags = o.skb_mode ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE;
    cfg.bind_flags = XDP_COPY | XDP_USE_NEED_WAKEUP;
    const auto t0 = clock_type::now();
    for (;;) {
        xsk_socket *raw = nullptr;
        int err = xsk_socket__create(&raw, o.iface.c_str(), o.queue, s.umem.get(), o.rx ? &s.rx : nullptr,
                                     o.rx ? nullptr : &s.tx, &cfg);
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

void print_xdp_stats(std::FILE *f, int fd, bool json)
{
    xdp_statistics st{};
    socklen_t len = sizeof st;
    if (getsockopt(fd, SOL_XDP, XDP_STATISTICS, &st, &len) != 0)
        return;
    std::fprintf(f,
                 json ? ",\"xdp_stats\":{\"rx_dropped\":%llu,\"rx_ring_full\":%llu,"
                        "\"rx_fill_ring_empty\":%llu,\"rx_invalid\":%llu,\"tx_invalid\":%llu,"
                        "\"tx_ring_empty\":%llu}"
                      : "xdp stats: rx_dropped %llu rx_ring_full %llu rx_fill_ring_empty %llu "
                        "rx_invalid %llu tx_invalid %llu tx_ring_empty %llu\n",
                 (unsigned long long)st.rx_dropped, (unsigned long long)st.rx_ring_full,
                 (unsigned long long)st.rx_fill_ring_empty_descs, (unsigned long long)st.rx_invalid_descs,
                 (unsigned long long)st.tx_invalid_descs, (unsigned long long)st.tx_ring_empty_descs);
}

} // namespace

int run(const options &o)
{
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
        if (!r.empty())
            std::fprintf(stderr, "xsk_min: %s\n", r.c_str());
        if (bad)
            return 1;
    }

    xsk_setup s;
    s.area = umem_area::create(size_t(o.frames) * o.frame_size);
    if (!s.area) {
        std::perror("xsk_min: UMEM memfd/mmap");
        return 1;
    }
    xsk_umem_config ucfg{XSK_RING_PROD__DEFAULT_NUM_DESCS, XSK_RING_CONS__DEFAULT_NUM_DESCS, o.frame_size, 0,
                         0};
    xsk_umem *u = nullptr;
    if (int err = xsk_umem__create(&u, s.area->base(), s.area->bytes(), &s.fill, &s.comp, &ucfg)) {
        std::fprintf(stderr, "xsk_min: xsk_umem__create: %s%s\n", std::strerror(-err),
                     err == -ENOBUFS ? " (UMEM exceeds RLIMIT_MEMLOCK, charged per uid without CAP_IPC_LOCK)"
                                     : "");
        return 1;
    }
    s.umem.reset(u);
    int err = 0;
    if (create_socket(s, o, &err) != 0) {
        std::fprintf(stderr, "xsk_min: xsk_socket__create(%s, queue %u): %s%s\n", o.iface.c_str(), o.queue,
                     std::strerror(-err), err == -EBUSY ? " (queue still bound after 5 s of retries)" : "");
        return 1;
    }
    if (s.bind_retries)
        std::fprintf(stderr, "xsk_min: bind answered EBUSY %u times, bound after %.1f ms\n", s.bind_retries,
                     s.bind_wait_ms);
    const int fd = xsk_socket__fd(s.xsk.get());
    if (o.tx_budget && setsockopt(fd, SOL_XDP, 9 /* XDP_MAX_TX_SKB_BUDGET, Linux 6.17 */, &o.tx_budget,
                                  sizeof o.tx_budget) != 0)
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
        std::printf(
            "{\"mode\":\"%s\",\"iface\":\"%s\",\"len\":%u,\"batch\":%u,\"packets\":%llu,"
            "\"seconds\":%.3f,\"mpps\":%.4f,\"ns_per_packet\":%.1f,\"lost\":%llu,"
            "\"corrupt\":%llu,\"kicks\":%llu,\"rx_offset\":%lld,\"bind_retries\":%u,\"bind_wait_ms\":%.1f",
            o.rx ? "rx" : "tx", o.iface.c_str(), o.len, o.batch, (unsigned long long)c.packets, secs, mpps,
            c.packets ? secs * 1e9 / double(c.packets) : 0.0, (unsigned long long)c.lost,
            (unsigned long long)c.corrupt, (unsigned long long)c.kicks, (long long)c.rx_offset,
            s.bind_retries, s.bind_wait_ms);
        print_xdp_stats(stdout, fd, true);
        std::printf("}\n");
        std::fflush(stdout);
    }
    return 0;
}

} // namespace xsk_bench

int main(int argc, char **argv)
{
    xsk_bench::options o;
    if (!xsk_bench::parse_options(argc, argv, &o))
        return 2;
    struct sigaction sa {};
    sa.sa_handler = xsk_bench::on_signal;
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
    return xsk_bench::run(o);
}
