#pragma once
// xsk_min's command line: parse_options() fills an options struct or prints usage and
// returns false.

#include <getopt.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace xsk_bench {

struct options {
    std::string iface;
    uint32_t queue = 0;
    bool rx = true;
    uint32_t len = 64;
    bool len_given = false; // rx checks the length only when told what to expect
    double seconds = 5;
    uint32_t batch = 64;
    uint32_t frames = 4096;
    uint32_t frame_size = 2048;
    bool skb_mode = false;    // XDP attach mode: native (veth supports it) or generic
    bool libxdp_prog = false; // let xsk_socket__create load libxdp's default program
    uint32_t tx_budget = 0;   // XDP_MAX_TX_SKB_BUDGET; 0 leaves the kernel default (32)
    bool json = false;
};

inline void print_usage(const char *argv0)
{
    std::fprintf(stderr,
                 "usage: %s -i IFACE [-q QUEUE] -f rx|tx [-l LEN] [-T SECONDS] [-b BATCH]\n"
                 "          [--frames N] [--frame-size 2048] [--xdp-mode native|skb]\n"
                 "          [--xdp-prog own|libxdp] [--tx-budget N] [--json]\n",
                 argv0);
}

inline bool parse_options(int argc, char **argv, options *o)
{
    enum { opt_frames = 256, opt_frame_size, opt_xdp_mode, opt_xdp_prog, opt_tx_budget, opt_json };
    static const option longs[] = {
        {"iface", required_argument, nullptr, 'i'},
        {"queue", required_argument, nullptr, 'q'},
        {"function", required_argument, nullptr, 'f'},
        {"len", required_argument, nullptr, 'l'},
        {"time", required_argument, nullptr, 'T'},
        {"batch", required_argument, nullptr, 'b'},
        {"frames", required_argument, nullptr, opt_frames},
        {"frame-size", required_argument, nullptr, opt_frame_size},
        {"xdp-mode", required_argument, nullptr, opt_xdp_mode},
        {"xdp-prog", required_argument, nullptr, opt_xdp_prog},
        {"tx-budget", required_argument, nullptr, opt_tx_budget},
        {"json", no_argument, nullptr, opt_json},
        {"help", no_argument, nullptr, 'h'},
        {nullptr, 0, nullptr, 0},
    };
    bool have_mode = false;
    for (int c; (c = getopt_long(argc, argv, "i:q:f:l:T:b:h", longs, nullptr)) != -1;) {
        const std::string a = optarg ? optarg : "";
        const auto num = [&] { return static_cast<uint32_t>(std::strtoul(a.c_str(), nullptr, 0)); };
        switch (c) {
        case 'i': o->iface = a; break;
        case 'q': o->queue = num(); break;
        case 'f':
            if (a != "rx" && a != "tx") {
                print_usage(argv[0]);
                return false;
            }
            o->rx = a == "rx";
            have_mode = true;
            break;
        case 'l':
            o->len = num();
            o->len_given = true;
            break;
        case 'T': o->seconds = std::strtod(a.c_str(), nullptr); break;
        case 'b': o->batch = num(); break;
        case opt_frames: o->frames = num(); break;
        case opt_frame_size: o->frame_size = num(); break;
        case opt_xdp_mode:
            if (a != "native" && a != "skb") {
                print_usage(argv[0]);
                return false;
            }
            o->skb_mode = a == "skb";
            break;
        case opt_xdp_prog:
            if (a != "own" && a != "libxdp") {
                print_usage(argv[0]);
                return false;
            }
            o->libxdp_prog = a == "libxdp";
            break;
        case opt_tx_budget: o->tx_budget = num(); break;
        case opt_json: o->json = true; break;
        default: print_usage(argv[0]); return false;
        }
    }
    const bool pow2 = o->frame_size >= 2048 && (o->frame_size & (o->frame_size - 1)) == 0;
    if (o->iface.empty() || !have_mode || o->batch == 0 || o->frames < 2 * o->batch || !pow2 || o->len < 26 ||
        o->len > o->frame_size - 256 || o->seconds <= 0) {
        std::fprintf(stderr, "xsk_min: need -i and -f; batch >= 1, frames >= 2*batch, "
                             "frame-size a power of two >= 2048, 26 <= len <= frame-size - 256\n");
        print_usage(argv[0]);
        return false;
    }
    return true;
}

} // namespace xsk_bench
