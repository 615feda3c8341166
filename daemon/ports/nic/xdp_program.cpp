#include "xdp_program.hpp"

#include "log.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <linux/if_link.h>
#include <net/if.h>

#include <algorithm>
#include <cerrno>
#include <cstdarg>
#include <cstddef>
#include <cstdio>
#include <cstring>

namespace netring::netringd {
namespace {

constexpr const char *map_name = "netringd_xskmap";

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

// return bpf_redirect_map(&xskmap, ctx->rx_queue_index, XDP_PASS);
// The low bits of bpf_redirect_map's flags are the action when the queue's slot is empty (kernel
// >= 5.3): no lookup first, and queues without a socket keep reaching the stack.
result<unique_fd> load_redirect_program(int map_fd)
{
    const bpf_insn prog[] = {
        insn(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_2, BPF_REG_1, offsetof(xdp_md, rx_queue_index), 0),
        insn(BPF_LD | BPF_DW | BPF_IMM, BPF_REG_1, BPF_PSEUDO_MAP_FD, 0, map_fd),
        insn(0, 0, 0, 0, 0), // second half of the 64-bit immediate
        insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_3, 0, 0, XDP_PASS),
        insn(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_redirect_map),
        insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
    };
    char verifier_log[2048] = {};
    LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = BPF_XDP, .log_size = sizeof verifier_log,
                .log_buf = verifier_log);
    unique_fd fd(
        bpf_prog_load(BPF_PROG_TYPE_XDP, xdp_program_name, "GPL", prog, sizeof prog / sizeof prog[0], &opts));
    if (!fd.valid()) {
        const int err = errno;
        return error::from_errno(
            err, std::string("bpf_prog_load of the XDP redirect program") +
                     (verifier_log[0] ? std::string(" (verifier: ") + verifier_log + ")" : ""));
    }
    return fd;
}

bool prog_info_by_id(uint32_t id, bpf_prog_info *info)
{
    unique_fd fd(bpf_prog_get_fd_by_id(id));
    if (!fd.valid())
        return false;
    uint32_t len = sizeof *info;
    return bpf_obj_get_info_by_fd(fd.get(), info, &len) == 0;
}

std::string describe_prog(uint32_t id, const char *mode)
{
    bpf_prog_info info{};
    const std::string name = prog_info_by_id(id, &info) ? info.name : "?";
    return name + " (id " + std::to_string(id) + ", " + mode + ")";
}

result<int> ifindex_of(const std::string &ifname)
{
    const unsigned idx = if_nametoindex(ifname.c_str());
    if (idx == 0)
        return error::from_errno(errno, "interface " + ifname);
    return static_cast<int>(idx);
}

} // namespace

result<std::unique_ptr<xdp_program>> xdp_program::attach(const std::string &ifname, uint32_t queues)
{
    if (queues == 0)
        return error::from(errc::limit_exceeded, "XDP program for " + ifname + ": zero queues");
    auto idx = ifindex_of(ifname);
    if (!idx)
        return idx.err();
    if (auto cleared = clear_stale_xdp(ifname); !cleared)
        return cleared.err();

    std::unique_ptr<xdp_program> p(new xdp_program());
    p->ifindex_ = idx.value();
    p->queues_ = queues;
    p->map_.reset(
        bpf_map_create(BPF_MAP_TYPE_XSKMAP, map_name, sizeof(uint32_t), sizeof(uint32_t), queues, nullptr));
    if (!p->map_.valid())
        return error::from_errno(errno, "bpf_map_create(XSKMAP) for " + ifname);
    auto prog = load_redirect_program(p->map_.get());
    if (!prog)
        return prog.err();
    p->prog_ = std::move(prog.value());

    // A bpf_link, not a netlink attach: the kernel detaches the program when the link's last fd
    // closes, so even a SIGKILLed daemon leaves nothing behind, and nobody can replace it meanwhile.
    LIBBPF_OPTS(bpf_link_create_opts, native_opts, .flags = XDP_FLAGS_DRV_MODE);
    p->link_.reset(bpf_link_create(p->prog_.get(), p->ifindex_, BPF_XDP, &native_opts));
    p->native_ = p->link_.valid();
    if (!p->link_.valid()) {
        const int native_err = errno;
        // EBUSY/EEXIST: a program is already there, and skb mode would only meet the same one.
        if (native_err != EBUSY && native_err != EEXIST) {
            LIBBPF_OPTS(bpf_link_create_opts, skb_opts, .flags = XDP_FLAGS_SKB_MODE);
            p->link_.reset(bpf_link_create(p->prog_.get(), p->ifindex_, BPF_XDP, &skb_opts));
        }
        if (!p->link_.valid()) {
            const int err = errno;
            if (err == EBUSY || err == EEXIST || native_err == EBUSY || native_err == EEXIST) {
                LIBBPF_OPTS(bpf_xdp_query_opts, q);
                std::string who = "another XDP program";
                if (bpf_xdp_query(p->ifindex_, 0, &q) == 0 && (q.drv_prog_id || q.skb_prog_id))
                    who = describe_prog(q.drv_prog_id ? q.drv_prog_id : q.skb_prog_id,
                                        q.drv_prog_id ? "native" : "skb");
                return error::from(errc::port_busy, ifname + ": " + who + " is attached; not replacing it");
            }
            return error::from_errno(err, "bpf_link_create(BPF_XDP) on " + ifname + " (native mode: errno " +
                                              std::to_string(native_err) + ")");
        }
    }
    bpf_prog_info info{};
    uint32_t len = sizeof info;
    if (bpf_obj_get_info_by_fd(p->prog_.get(), &info, &len) == 0)
        p->prog_id_ = info.id;
    return p;
}

result<std::unique_ptr<xdp_program>> xdp_program::adopt(const std::string &ifname, uint32_t queues,
                                                        unique_fd map, unique_fd prog, unique_fd link)
{
    const std::string where = "kept XDP program of " + ifname + ": ";
    auto idx = ifindex_of(ifname);
    if (!idx)
        return idx.err();
    bpf_map_info mi{};
    uint32_t len = sizeof mi;
    if (!map.valid() || bpf_obj_get_info_by_fd(map.get(), &mi, &len) != 0 || mi.type != BPF_MAP_TYPE_XSKMAP ||
        mi.max_entries != queues)
        return error::from(errc::bad_message,
                           where + "its map is not an XSKMAP of " + std::to_string(queues) + " entries");
    bpf_prog_info pi{};
    len = sizeof pi;
    if (!prog.valid() || bpf_obj_get_info_by_fd(prog.get(), &pi, &len) != 0 ||
        std::string(pi.name) != xdp_program_name)
        return error::from(errc::bad_message, where + "its program is not " + xdp_program_name);
    bpf_link_info li{};
    len = sizeof li;
    if (!link.valid() || bpf_obj_get_info_by_fd(link.get(), &li, &len) != 0 || li.type != BPF_LINK_TYPE_XDP ||
        li.prog_id != pi.id || static_cast<int>(li.xdp.ifindex) != idx.value())
        return error::from(errc::bad_message, where + "its link does not hold that program on " + ifname);
    std::unique_ptr<xdp_program> p(new xdp_program());
    p->map_ = std::move(map);
    p->prog_ = std::move(prog);
    p->link_ = std::move(link);
    p->prog_id_ = pi.id;
    p->queues_ = queues;
    p->ifindex_ = idx.value();
    LIBBPF_OPTS(bpf_xdp_query_opts, q);
    p->native_ = bpf_xdp_query(p->ifindex_, 0, &q) == 0 && q.drv_prog_id == pi.id;
    return p;
}

status xdp_program::map_socket(uint32_t queue, int xsk_fd)
{
    if (queue >= queues_)
        return error::from(errc::bad_ring,
                           "XSKMAP: queue " + std::to_string(queue) + " of " + std::to_string(queues_));
    if (bpf_map_update_elem(map_.get(), &queue, &xsk_fd, BPF_ANY) != 0)
        return error::from_errno(errno, "XSKMAP update for queue " + std::to_string(queue));
    return ok_status();
}

void xdp_program::unmap_socket(uint32_t queue)
{
    // ENOENT (nothing mapped, or the socket already closed) is the state we want anyway.
    if (queue < queues_)
        bpf_map_delete_elem(map_.get(), &queue);
}

result<std::string> clear_stale_xdp(const std::string &ifname)
{
    auto idx = ifindex_of(ifname);
    if (!idx)
        return idx.err();
    LIBBPF_OPTS(bpf_xdp_query_opts, q);
    if (bpf_xdp_query(idx.value(), 0, &q) != 0)
        return error::from_errno(errno, "bpf_xdp_query on " + ifname);
    const struct {
        uint32_t id;
        uint32_t flag;
        const char *mode;
    } attached[] = {
        {q.drv_prog_id, XDP_FLAGS_DRV_MODE, "native"},
        {q.skb_prog_id, XDP_FLAGS_SKB_MODE, "skb"},
    };
    std::string report;
    for (const auto &a : attached) {
        bpf_prog_info info{};
        if (a.id == 0 || !prog_info_by_id(a.id, &info) || std::string(info.name) != xdp_program_name)
            continue;
        const std::string what = describe_prog(a.id, a.mode);
        // REPLACE with old_prog_fd: detach only if that very program is still the attached one.
        unique_fd old(bpf_prog_get_fd_by_id(a.id));
        LIBBPF_OPTS(bpf_xdp_attach_opts, d, .old_prog_fd = old.get());
        if (bpf_xdp_detach(idx.value(), a.flag | XDP_FLAGS_REPLACE, &d) != 0) {
            const int err = errno;
            // EBUSY: a live bpf_link holds it, i.e. another netringd owns this interface.
            return error::from(
                err == EBUSY ? errc::port_busy : errc::internal,
                ifname + ": cannot detach " + what + ": " + std::system_category().message(err) +
                    (err == EBUSY ? " (held by a live bpf_link: another process owns it)" : ""));
        }
        report += std::string(report.empty() ? "" : " ") + "detached stale " + what + " from " + ifname + ".";
    }
    return report;
}

} // namespace netring::netringd

namespace netring::netringd {
namespace {

int quiet_print(enum libbpf_print_level level, const char *fmt, va_list args)
{
    // libbpf explains refusals the daemon reports itself ("Can't replace active BPF XDP link"):
    // only its warnings about real trouble reach stderr.
    if (level != LIBBPF_WARN)
        return 0;
    char line[512];
    std::vsnprintf(line, sizeof line, fmt, args);
    if (std::strstr(line, "Kernel error message") != nullptr)
        return 0;
    return std::fprintf(stderr, "%slibbpf: %s", stderr_is_journal() ? "<4>" : "netringd: ", line);
}

} // namespace

std::vector<std::string> clear_stale_xdp_everywhere(const std::vector<std::string> &spare)
{
    libbpf_set_print(quiet_print);
    std::vector<std::string> lines;
    struct if_nameindex *all = ::if_nameindex();
    if (all == nullptr)
        return lines;
    for (const struct if_nameindex *i = all; i->if_index != 0 && i->if_name != nullptr; i++) {
        if (std::find(spare.begin(), spare.end(), i->if_name) != spare.end())
            continue;
        auto r = clear_stale_xdp(i->if_name);
        if (!r)
            lines.push_back(std::string(i->if_name) + ": " + r.err().message);
        else if (!r->empty())
            lines.push_back(*r);
    }
    ::if_freenameindex(all);
    return lines;
}

} // namespace netring::netringd
