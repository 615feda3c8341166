#include "xsk_xdp_prog.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <linux/if_link.h>

#include <cerrno>
#include <cstring>
#include <unistd.h>

namespace xsk_bench {

unique_fd &unique_fd::operator=(unique_fd &&o) noexcept
{
    if (this != &o) {
        if (fd_ >= 0)
            ::close(fd_);
        fd_ = o.release();
    }
    return *this;
}

unique_fd::~unique_fd()
{
    if (fd_ >= 0)
        ::close(fd_);
}

namespace {

std::string errno_text(const char *what, int err)
{
    return std::string(what) + ": " + std::strerror(err < 0 ? -err : err);
}

bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
    bpf_insn i{};
    i.code = code;
    i.dst_reg = dst & 0xf;
    i.src_reg = src & 0xf;
    i.off = off;
    i.imm = imm;
    return i;
}

// return bpf_redirect_map(&xsks, ctx->rx_queue_index, XDP_PASS);
// The flags argument's low bits are the action taken when the queue's map slot is empty
// (kernel >= 5.3), so no lookup is needed first: packets for queues without a socket go
// to the stack, as libxdp's xsk_def_xdp_prog_5.3 does.
int load_program(int map_fd, std::string *log)
{
    const bpf_insn prog[] = {
        insn(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_2, BPF_REG_1, offsetof(xdp_md, rx_queue_index), 0),
        insn(BPF_LD | BPF_DW | BPF_IMM, BPF_REG_1, BPF_PSEUDO_MAP_FD, 0, map_fd),
        insn(0, 0, 0, 0, 0), // second half of the 64-bit immediate
        insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_3, 0, 0, XDP_PASS),
        insn(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_redirect_map),
        insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
    };
    char verifier_log[4096] = {};
    LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = BPF_XDP, .log_size = sizeof verifier_log,
                .log_buf = verifier_log);
    int fd = bpf_prog_load(BPF_PROG_TYPE_XDP, redirect_prog_name, "GPL", prog, sizeof prog / sizeof prog[0],
                           &opts);
    if (fd < 0)
        *log = errno_text("bpf_prog_load", errno) + "\n" + verifier_log;
    return fd;
}

uint32_t prog_id_of(int fd)
{
    bpf_prog_info info{};
    uint32_t len = sizeof info;
    return bpf_obj_get_info_by_fd(fd, &info, &len) == 0 ? info.id : 0;
}

std::string prog_name_of(uint32_t id)
{
    unique_fd fd(bpf_prog_get_fd_by_id(id));
    if (!fd)
        return "?";
    bpf_prog_info info{};
    uint32_t len = sizeof info;
    if (bpf_obj_get_info_by_fd(fd.get(), &info, &len) != 0)
        return "?";
    return info.name;
}

} // namespace

std::optional<xdp_redirect> xdp_redirect::attach(int ifindex, xdp_attach_mode mode, uint32_t max_queues,
                                                 std::string *why)
{
    xdp_redirect r;
    r.map_ = unique_fd(bpf_map_create(BPF_MAP_TYPE_XSKMAP, "xsk_min_map", sizeof(uint32_t), sizeof(uint32_t),
                                      max_queues, nullptr));
    if (!r.map_) {
        *why = errno_text("bpf_map_create(XSKMAP)", errno);
        return std::nullopt;
    }
    r.prog_ = unique_fd(load_program(r.map_.get(), why));
    if (!r.prog_)
        return std::nullopt;
    // A bpf_link, not a netlink attach: the kernel detaches the program when the last fd
    // of the link closes, so even SIGKILL leaves no stale program behind.
    LIBBPF_OPTS(bpf_link_create_opts, lopts,
                .flags = mode == xdp_attach_mode::native ? XDP_FLAGS_DRV_MODE : XDP_FLAGS_SKB_MODE);
    r.link_ = unique_fd(bpf_link_create(r.prog_.get(), ifindex, BPF_XDP, &lopts));
    if (!r.link_) {
        *why = errno_text("bpf_link_create(BPF_XDP)", errno);
        if (errno == EBUSY)
            *why += " (another XDP program is attached)";
        return std::nullopt;
    }
    r.prog_id_ = prog_id_of(r.prog_.get());
    return r;
}

int xdp_redirect::map_socket(uint32_t queue, int xsk_fd) const
{
    return bpf_map_update_elem(map_.get(), &queue, &xsk_fd, BPF_ANY) == 0 ? 0 : -errno;
}

std::string clear_stale_program(int ifindex, bool *error)
{
    *error = false;
    LIBBPF_OPTS(bpf_xdp_query_opts, q);
    if (bpf_xdp_query(ifindex, 0, &q) != 0) {
        *error = true;
        return errno_text("bpf_xdp_query", errno);
    }
    std::string report;
    const struct {
        uint32_t id;
        uint32_t flag;
        const char *mode;
    } slots[] = {
        {q.drv_prog_id, XDP_FLAGS_DRV_MODE, "native"},
        {q.skb_prog_id, XDP_FLAGS_SKB_MODE, "skb"},
    };
    for (const auto &s : slots) {
        if (s.id == 0)
            continue;
        const std::string name = prog_name_of(s.id);
        const std::string what = name + " (id " + std::to_string(s.id) + ", " + s.mode + ")";
        if (name != redirect_prog_name && name != "xsk_def_prog") {
            *error = true;
            report += "foreign XDP program " + what + " attached; not touching it. ";
            continue;
        }
        // Detach only if that very program is still there (XDP_FLAGS_REPLACE semantics).
        unique_fd old(bpf_prog_get_fd_by_id(s.id));
        LIBBPF_OPTS(bpf_xdp_attach_opts, d, .old_prog_fd = old.get());
        if (bpf_xdp_detach(ifindex, s.flag | XDP_FLAGS_REPLACE, &d) != 0) {
            const int err = errno;
            *error = true;
            report += errno_text(("cannot detach stale " + what).c_str(), err);
            if (err == EBUSY)
                report += " (held by a live bpf_link: another process owns it)";
            report += ". ";
            continue;
        }
        report += "detached stale " + what + ". ";
    }
    return report;
}

} // namespace xsk_bench
