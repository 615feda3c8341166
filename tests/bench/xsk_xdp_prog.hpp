#pragma once
// The XDP side of xsk_min: a five-instruction redirect program and its XSKMAP, attached
// through a bpf_link so the kernel detaches it when the owning process exits or dies.
//
//   auto prog = xdp_redirect::attach(ifindex, xdp_attach_mode::native, max_queues);
//   prog->map_socket(queue, xsk_fd);   // queue's packets now go to that socket
//   // ~xdp_redirect closes the link: the interface is back to no program
//
// clear_stale_program() removes a program a killed run left attached the old way
// (netlink attach, as libxdp and DPDK's af_xdp PMD do). Why this recipe and not libxdp's
// own loader: docs/AF_XDP-NOTES.md, "Loading the XDP program".

#include <cstdint>
#include <optional>
#include <string>

namespace xsk_bench {

enum class xdp_attach_mode { native, skb };

// Names of the programs clear_stale_program() is willing to remove.
inline constexpr const char *redirect_prog_name = "xsk_min_redir";

class unique_fd {
public:
    unique_fd() = default;
    explicit unique_fd(int fd) : fd_(fd) {}
    unique_fd(unique_fd &&o) noexcept : fd_(o.release()) {}
    unique_fd &operator=(unique_fd &&o) noexcept;
    unique_fd(const unique_fd &) = delete;
    unique_fd &operator=(const unique_fd &) = delete;
    ~unique_fd();
    int get() const { return fd_; }
    int release()
    {
        int fd = fd_;
        fd_ = -1;
        return fd;
    }
    explicit operator bool() const { return fd_ >= 0; }

private:
    int fd_ = -1;
};

class xdp_redirect {
public:
    // Loads the program and map and attaches them to ifindex. On failure returns nullopt
    // and puts the reason (with errno text) in *why.
    static std::optional<xdp_redirect> attach(int ifindex, xdp_attach_mode mode, uint32_t max_queues,
                                              std::string *why);

    // Points queue's slot of the XSKMAP at an AF_XDP socket; returns 0 or -errno.
    int map_socket(uint32_t queue, int xsk_fd) const;
    uint32_t prog_id() const { return prog_id_; }

private:
    xdp_redirect() = default;
    // Setup order: map, program (refers to the map), link (refers to the program).
    unique_fd map_;
    unique_fd prog_;
    unique_fd link_;
    uint32_t prog_id_ = 0;
};

// If ifindex carries a netlink-attached XDP program named redirect_prog_name or
// libxdp's "xsk_def_prog", detach it and return a line saying so. A program of another
// name is left alone and reported as an error; a program held by a live bpf_link cannot
// be detached this way (the kernel says EBUSY) and is reported too.
// Returns "" when nothing was attached.
std::string clear_stale_program(int ifindex, bool *error);

} // namespace xsk_bench
