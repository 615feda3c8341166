// The daemon's XDP program on one interface: a redirect program and its XSKMAP, attached through a
// bpf_link so the kernel detaches it when the daemon exits or dies.
//
//   auto prog = xdp_program::attach("eth0", queues);   // native mode, else skb (generic) mode
//   prog.value()->map_socket(q, afxdp_socket_fd(*io)); // queue q's frames now go to that XSK
//   prog.value()->unmap_socket(q);                     // queue q's frames go to the kernel stack again
//   // ~xdp_program closes the link: the interface is left without a program
//
// Queues with no socket in the map pass their frames to the kernel stack (XDP_PASS), so binding one
// queue does not black-hole the others. clear_stale_xdp() removes a program of ours that an older
// netlink attach left behind; a bpf_link-held program cannot go stale. Why this recipe rather than
// libxdp's loader: docs/AF_XDP-NOTES.md, "Loading the XDP program".
#pragma once

#include <netring/error.hpp>
#include <netring/unique_fd.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace netring::netringd {

// The name the kernel shows for our program (bpftool, `ip link`); clear_stale_xdp() matches it.
inline constexpr const char *xdp_program_name = "netringd_xsk";

class xdp_program {
public:
    // Loads the redirect program with an XSKMAP of `queues` entries and attaches it to ifname,
    // native mode first, skb (generic) mode if the driver refuses native. A stale netlink-attached
    // program of ours is detached first; any other program makes the attach fail (port_busy).
    static result<std::unique_ptr<xdp_program>> attach(const std::string &ifname, uint32_t queues);
    // The program a previous netringd attached and kept across a restart (docs/RESTART.md), from its
    // three fds. Each is checked for what it must be: an XSKMAP of `queues` entries, a program named
    // xdp_program_name, and an XDP bpf_link holding that program on ifname.
    static result<std::unique_ptr<xdp_program>> adopt(const std::string &ifname, uint32_t queues,
                                                      unique_fd map, unique_fd prog, unique_fd link);

    xdp_program(const xdp_program &) = delete;
    xdp_program &operator=(const xdp_program &) = delete;
    ~xdp_program() = default; // link, then program, then map close: the kernel detaches at the link

    // Frames received on `queue` go to the AF_XDP socket xsk_fd (bound to that queue).
    status map_socket(uint32_t queue, int xsk_fd);
    // Frames received on `queue` go to the kernel stack again. Closing the XSK has the same effect.
    void unmap_socket(uint32_t queue);

    // The fds a restart keeps: while the link's fd is open the program stays attached.
    int map_fd() const { return map_.get(); }
    int prog_fd() const { return prog_.get(); }
    int link_fd() const { return link_.get(); }
    uint32_t prog_id() const { return prog_id_; }
    uint32_t queues() const { return queues_; }
    int ifindex() const { return ifindex_; }
    const char *mode() const { return native_ ? "native" : "skb"; }

private:
    xdp_program() = default;
    // Setup order: map, program (refers to the map), link (refers to the program).
    unique_fd map_;
    unique_fd prog_;
    unique_fd link_;
    uint32_t prog_id_ = 0;
    uint32_t queues_ = 0;
    int ifindex_ = 0;
    bool native_ = false;
};

// For daemon start: detaches a program named xdp_program_name that is netlink-attached to ifname
// (native or skb mode) and returns a sentence saying so; "" when there was none. Programs of other
// names are left alone (attach() reports them). Errors: unknown interface, query or detach failure.
result<std::string> clear_stale_xdp(const std::string &ifname);

// At daemon start: clear_stale_xdp on every interface of the namespace but those in `spare` (the
// interfaces whose program a predecessor kept for this process), and libbpf's chatter routed to
// stderr warnings only. One line per action or failure.
std::vector<std::string> clear_stale_xdp_everywhere(const std::vector<std::string> &spare = {});

} // namespace netring::netringd
