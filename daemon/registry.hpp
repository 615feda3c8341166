// What netringd holds: regions by name, ports by port_key, registrations by id.
//
//   registry reg(cfg, pol);
//   auto r = reg.register_port({session, uid, gid, pid}, regif);   // parse, policy, port, attach
//   reg.sync(session, r->reg_id, 0, true);                         // socket-path TXSYNC
//   reg.unregister(session, r->reg_id);                            // partner of register_port
//   reg.unregister_session(session);                               // the connection went away
//
// A registration belongs to the session that made it; other sessions cannot name it. A port lives
// while it has registrations, a region while some port uses it. Control thread only: no locks.
#pragma once

#include "config.hpp"
#include "state_records.hpp"
#include "policy.hpp"
#include "port.hpp"
#include "ports/vale/switch_table.hpp"
#include "quota_book.hpp"
#include "region.hpp"
#include "stats_snapshot.hpp"

#include <netring/error.hpp>
#include <netring/protocol.hpp>

#include <array>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace netring::netringd {

struct client_info {
    uint64_t session = 0;
    uid_t uid = 0;
    gid_t gid = 0;
    pid_t pid = 0;
    std::span<const gid_t> groups = {}; // supplementary groups (SO_PEERGROUPS); valid for the call

    credentials creds() const { return {uid, gid, groups}; }
};

using reattach_token = std::array<uint8_t, proto::token_bytes>;

// A fresh token from the kernel's random source (getrandom); never all zero.
reattach_token make_reattach_token();

struct registered {
    uint32_t reg_id = 0;
    std::string name; // canonical port name
    attach_result a;
    uint64_t netmap_if_offset = 0; // the netmap view, when the request asked for one
    uint16_t mem_id = 0;           // the region's
    reattach_token token{};        // REATTACH's proof of ownership (random, never chosen by a client)
};

using log_fn = std::function<void(const std::string &)>;

// The session of an adopted registration whose client has not re-attached yet.
inline constexpr uint64_t waiting_session = 0;
// The session the daemon's own registrations (a switch's NIC attachments) belong to.
inline constexpr uint64_t internal_session = ~uint64_t{0};

class registry {
public:
    registry(const config &cfg, const policy &pol, log_fn log = {});
    ~registry();
    registry(const registry &) = delete;
    registry &operator=(const registry &) = delete;

    // REGIF: the name and numbers of the request, translated for the port.
    result<registered> register_port(const client_info &who, const proto::regif &req);
    // The same for a name given as text (the daemon's own registrations: switch NIC attachments).
    result<registered> register_name(const client_info &who, std::string_view name, ring_request req);
    // Partner of register_port. errc::not_registered unless `session` made `reg_id`.
    status unregister(uint64_t session, uint32_t reg_id);
    // Everything `session` registered; returns how many.
    size_t unregister_session(uint64_t session);
    void unregister_all();

    sync_result sync(uint64_t session, uint32_t reg_id, uint32_t ring, bool tx);
    // REATTACH: gives `reg_id`, adopted from a previous netringd and waiting for its owner, to
    // who.session when `token` is the one REGIF answered and who.uid registered it. Refusals do
    // not say which check failed: a guesser learns nothing.
    result<registered> reattach(const client_info &who, uint32_t reg_id, std::span<const uint8_t> token);
    // Registrations adopted and not re-attached for `timeout_s` are released as if their client
    // had closed; returns how many. `now_s` is a monotonic clock in seconds.
    size_t expire_waiting(uint64_t now_s, uint32_t timeout_s);
    size_t waiting() const;

    // Restarts (registry_keep.cpp). Pauses every NIC worker and holds every switch, so what they
    // keep privately holds still for export_state, which includes NICs (and switches' learned
    // addresses and NIC attachments) only from here on. Then releases what a successor cannot
    // adopt: every registration but the two ends of pipes in regions of their own ("pipe:NAME"),
    // the clients of switch ports and the registrations of NIC ports in AF_XDP or AF_PACKET mode
    // (host rings included); monitors go, and switch attachments of NICs that are not kept.
    // Returns how many registrations went.
    size_t release_unkept();
    // Partner of release_unkept when the handoff fails: workers and forwarding threads run again,
    // and saves leave NICs out again.
    void resume_kept();
    // The records of what is left, for the state segment. `id_of` names each fd to keep (it may
    // be asked about one fd several times); next_fd_id is one above the highest id it gave.
    kept_state export_state(const std::function<uint32_t(int)> &id_of) const;
    // The same with ids 0, 1, ... given here; `fds` gets each fd to keep, by id.
    kept_state export_state(std::vector<std::pair<uint32_t, int>> &fds) const;
    // Rebuilds regions, pipes, switches and registrations a previous netringd kept, on an empty
    // registry, and starts the switches' forwarding threads.
    // `take_fd` gives the fd kept under an id (invalid when none). Every registration waits for
    // its owner (REATTACH). All or nothing: a refusal leaves the registry empty and says why.
    status adopt_state(const kept_state &k, const std::function<unique_fd(uint32_t)> &take_fd, uint64_t now_s);
    // REG_QUERY: what register_port answered for `reg_id` (0: the session's only registration),
    // for a process that got the session's socket from the one that registered.
    result<registered> query(uint64_t session, uint32_t reg_id) const;
    result<port_details> port_info(const client_info &who, std::string_view name);
    // An `admin` subject or uid 0 (RESTART, NIC_CTL, switch administration).
    bool may_administer(const client_info &who) const { return policy_.is_admin(who.creds()); }
    // NIC_CTL: promiscuous mode of the interface behind a NIC port name; admins only.
    status nic_ctl(const client_info &who, std::string_view name, bool promisc);
    switch_table &switches() { return switches_; }
    // SWITCH_CTL (switch_ctl.cpp): `list` of every switch (sw empty) or of one, for anyone; the
    // other operations for admins only, answering an empty list on success.
    result<std::vector<switch_info>> switch_ctl(const client_info &who, proto::switch_op op,
                                                std::string_view sw, std::string_view arg);

    // Regions and registrations with their rings' counters, copied (stats_reply.cpp).
    stats_snapshot snapshot() const;
    // The STATS reply payload in the layout of protocol `version`: stats_reply, then regions,
    // registrations, rings (occupancy from version 4) and (version 2 and later) what each uid holds.
    std::vector<std::byte> build_stats(uint64_t uptime_ms, uint32_t n_clients, uint16_t version) const;

    // Called as each change a successor would have to know about completes (a registration made,
    // released or re-attached, a switch changed), possibly several times for one request: the
    // hook should defer the work (netringd posts one save of its state).
    void set_change_hook(std::function<void()> hook) { on_change_ = std::move(hook); }

    quota_book &quotas() { return quotas_; }
    const quota_book &quotas() const { return quotas_; }
    // Registrations `session` holds.
    size_t registrations_of(uint64_t session) const;
    size_t registrations() const { return regs_.size(); }
    size_t ports() const { return ports_.size(); }
    size_t regions() const { return regions_.size(); }
    std::shared_ptr<region> find_region(const std::string &name) const;

private:
    struct registration {
        uint64_t session = 0;
        std::shared_ptr<port> owner;
        std::string key;  // port_key
        std::string name; // canonical
        uid_t uid = 0;
        gid_t gid = 0;
        pid_t pid = 0;
        uint64_t buffers = 0; // charged to uid's buffer quota
        registered answer;    // what REGIF replied (its fds stay valid while registered)
        uint64_t view_bytes = 0; // the netmap view's size in the region's metadata, if any
        uint64_t waiting_since_s = 0; // adopted, no session yet (session == waiting_session)
    };
    using reg_map = std::map<uint32_t, registration>;

    result<std::shared_ptr<region>> open_region(const std::string &name, int numa_node = -1);
    void drop(reg_map::iterator it);
    void erase_port(const std::string &key, const port *which);
    void prune_regions();
    // Whether a restart keeps the NIC port registration `reg_id` is of (its worker paused).
    bool nic_kept(uint32_t reg_id) const;
    uint32_t next_reg_id();
    uint16_t next_mem_id() const;
    // Writes the netmap view of a fresh registration into its region's metadata, listing the
    // bound rings of the directions `dirs` names; its offset.
    struct netmap_view_dirs {
        bool tx = true, rx = true;
    };
    result<uint64_t> write_netmap_view(region &mem, const attach_result &a, netmap_view_dirs dirs, uint64_t *bytes);

    const config &cfg_;
    const policy &policy_;
    log_fn log_;
    // Declared in dependency order: registrations go first, then ports, then regions.
    quota_book quotas_;
    std::map<std::string, std::shared_ptr<region>> regions_;
    std::map<std::string, uid_t> region_payers_; // regions a client's name caused: whose quota pays
    const client_info *registering_ = nullptr;   // during an attach: who pays for regions it creates
    std::vector<std::string> created_;           // regions that attach created
    std::map<std::string, std::shared_ptr<port>> ports_;
    reg_map regs_;
    uint32_t last_id_ = 0;
    std::function<void()> on_change_;
    bool handing_off_ = false; // between release_unkept and resume_kept (or the exec)
    void changed() const
    {
        if (on_change_)
            on_change_();
    }
    // Last: destroyed first. Its NIC attachments are registrations of this registry's own.
    switch_table switches_;
};

// The SWITCH_CTL reply payload for a switch_ctl result: its status, then the records of a list.
// A list too large for one reply becomes a limit_exceeded status with no records.
std::vector<std::byte> switch_ctl_payload(const result<std::vector<switch_info>> &r);
// The operation as netring-switch names it: "create", "destroy", "add", "delete", "attach", ...
const char *switch_op_name(proto::switch_op op);

} // namespace netring::netringd
