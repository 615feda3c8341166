// The rings of a monitor registration ("netmap:PORT/r", "/t", "/rt"), built in the region of the
// port it watches: rx rings only, one per watched ring and direction, each with its own buffers,
// and an if block of kind NR_PORT_KIND_MONITOR. Every port kind keeps its monitors in
// monitor_reg records; what feeds them differs (the NIC worker and the switch's forwarding thread
// through monitor_feed, a pipe's own clients through the pair's nr_mon_table, rings/monitor.hpp).
//
//   monitor_reg m;
//   auto a = monitor_build(*mem, m, {"netmap:p{1/rt", sources, slots, /*polled=*/true});
//   ... feed it ...
//   monitor_mark_gone(*mem, m);   // the port went away: the monitor reads what is left, then stops
//   monitor_release(*mem, m);     // partner of monitor_build: metadata and buffers back to the region
//
// Across a restart a monitor is kept with its port (monitor_keep, monitor_adopt): the same rings,
// buffers and eventfds, so its client re-attaches and reads on.
#pragma once

#include "port.hpp"
#include "region.hpp"
#include "served_ring.hpp"
#include "state_records.hpp"

#include <rings/monitor.hpp>

#include <functional>
#include <string>
#include <vector>

namespace netring::netringd {

struct monitor_plan {
    std::string name;                // canonical monitor name, for messages
    std::vector<nr_mon_source> src;  // one per monitor ring, in order
    uint32_t slots = 0;              // per ring: a power of two
    bool polled = false;             // nobody can wake it (pipes): NR_IF_POLLED
};

struct monitor_reg {
    uint32_t reg_id = 0;
    std::string name;
    std::vector<served_ring> rings; // never resized after monitor_build: producers hold pointers
    std::vector<nr_mon_source> src;
    std::vector<uint32_t> bufs;
    uint64_t if_off = 0;
    uint64_t if_bytes = 0;
};

// Appends the sources of monitor `name` watching rings [first, first + count) of each direction its
// flags name (`host`: the NIC's host rings): the tx copies first, then the rx copies.
void monitor_sources(const port_name &name, uint32_t first, uint32_t count, bool host,
                     std::vector<nr_mon_source> &out);

// Builds the monitor in `mem`. On failure everything taken is given back.
result<attach_result> monitor_build(region &mem, monitor_reg &m, const monitor_plan &plan);
// What REGIF answers for a monitor built (or adopted) in `mem`.
attach_result monitor_answer(region &mem, const monitor_reg &m);

// Restarts. The monitor's records for a successor, as a monitor of port `port_key`; `fd_id` names
// each eventfd it keeps. The caller adds what its port kind needs (a pipe's table entries).
kept_monitor monitor_keep(const monitor_reg &m, const std::string &port_key,
                          const std::function<uint32_t(int)> &fd_id);
// A kept monitor back in `mem` (adopted, its pool and arena restored): every ring's place, the if
// block's, the buffers and the sources are checked against the region and each other, and the
// rings' source records rewritten from the records. errc::bad_message with a sentence.
result<monitor_reg> monitor_adopt(region &mem, const kept_monitor &k,
                                  const std::function<unique_fd(uint32_t)> &take_fd);
// Partner of monitor_build.
void monitor_release(region &mem, monitor_reg &m);
// The watched port went away: each ring says so (NR_SYNC_PEER_GONE) and a sleeping monitor wakes.
void monitor_mark_gone(region &mem, const monitor_reg &m);
// What each ring of the monitor counted (its drops: copies that did not fit).
void monitor_collect(const region &mem, const monitor_reg &m, std::vector<ring_counters> &out);

// The region as a producer in the daemon sees it.
rings::mon_env monitor_env_of(const region &mem);

// A daemon producer's copy into monitor ring `r`: pushes and wakes the monitor if it sleeps.
inline void monitor_feed(const rings::mon_env &env, const served_ring &r, const rings::mon_frame *f, uint32_t n,
                         uint64_t ts_ns)
{
    const rings::mon_push_result res = rings::monitor_push(ring_ref_of(env.base, r), env, f, n, ts_ns);
    if (res.wake)
        rings::eventfd_signal(r.notify.get());
}

} // namespace netring::netringd
