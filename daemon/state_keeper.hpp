// What netringd keeps for its successor, kept current. At startup it adopts what a predecessor
// kept (or starts cold, saying why); after each change of the registry it saves the records into
// the state segment and keeps their fds (kept_fds.hpp), in systemd's fd store too when there is
// one. A planned restart hands over the latest state; a crash under systemd loses nothing that was
// saved. docs/RESTART.md has the design.
//
//   auto keeper = state_keeper::start(reg, inherited, log, now_s);  // inherited: name -> fd
//   keeper->publish(server.listener_fd(), listener_was_inherited);  // once listening
//   reg.set_change_hook(...);               // posts keeper->save() once per burst of changes
//   auto pass = keeper->handoff(listener);  // RESTART: after save(), the fds to pass, by name
//   keeper->clean_stop();                   // SIGTERM: a stopped daemon leaves nothing to adopt
//
// Control thread only.
#pragma once

#include "kept_fds.hpp"
#include "log.hpp"
#include "registry.hpp"
#include "state_segment.hpp"

#include <netring/error.hpp>
#include <netring/unique_fd.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace netring::netringd {

class state_keeper {
public:
    // Adopts the state named "state" among `inherited` with the "fd.N" fds it names into the empty
    // `reg`, or starts cold (logging why, when something was passed). Takes what it uses out of
    // `inherited`. Fails only when no state segment can be made at all.
    static result<std::unique_ptr<state_keeper>> start(registry &reg, std::map<std::string, unique_fd> &inherited,
                                                       const logger &log, uint64_t now_s);

    // Once the daemon listens: `listener` is the listening socket, inherited or new. Removes from
    // the store what was passed and not used, and puts in what it does not hold yet.
    void publish(int listener, bool listener_inherited);

    // Saves the registry's current records (one export round, kept_fds.hpp) and tells systemd the
    // daemon's status (STATUS=). A failure is logged once, until a save works again.
    status save();
    // The fds a planned restart passes, named: "listen", "state" and the last save's "fd.N".
    std::vector<std::pair<std::string, int>> handoff(int listener) const;
    // SIGTERM: saves an empty state and empties the store, so the next start is cold.
    void clean_stop();

    bool store_active() const { return fds_.store_active(); }
    // The interfaces whose XDP program came with the adopted state (not stale: keep them).
    const std::vector<std::string> &xdp_kept() const { return xdp_kept_; }

private:
    state_keeper(registry &reg, state_segment seg, const logger &log);

    registry &reg_;
    state_segment seg_;
    const logger &log_;
    kept_fds fds_;
    std::set<std::string> passed_;   // every name a predecessor passed
    std::set<std::string> adopted_;  // the names of those still in use ("state", "fd.N", ...)
    bool failing_ = false;           // the last save failed (logged once)
    std::vector<std::string> xdp_kept_;
};

} // namespace netring::netringd
