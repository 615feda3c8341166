// The VALE-like switches of netringd: learning bridges that connect client ports, NICs and host
// stacks, each port in its own region (the switch copies between them).
//
//   switch_table t(cfg, open_region, nic_client);
//   t.create_switch("vale0");  t.add_port("vale0", "p1");          // persistent, by netring-switch
//   t.attach_nic("vale0", "netmap:eth0*");                          // NIC and host rings as ports
//   auto sw = t.list();                                             // switches, ports, counters
//   t.detach_nic("vale0", "netmap:eth0*");  t.delete_port("vale0", "p1");  t.destroy_switch("vale0");
//
// Clients register `valeX:PORT` through the registry like any port; the registry's port object
// for that name calls acquire_port()/release_port() here. A port registered that way that did not
// exist is ephemeral: it goes when its last registration does, and its switch with it when the
// switch was made on the fly and has no port left. Errors: already_exists, not_found, port_busy,
// bad_port_name, limit_exceeded, with a sentence naming the switch and port.
//
// Control thread only, like the registry. Each switch forwards on its own thread (switch_fwd).
#pragma once

#include "config.hpp"
#include "region.hpp"
#include "state_records.hpp"

#include <netring/error.hpp>
#include <netring/netring.hpp>
#include <netring/port_name.hpp>
#include <netring/protocol.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace netring::netringd {

class vale_switch;
struct sw_port;
struct attach_result;
struct ring_counters;
struct ring_request;
struct sync_result;
struct served_ring;

// One port as `netring-switch list` shows it. rx: frames the switch took from the port; tx: frames
// it delivered to the port; drops: frames for this port dropped because its rx ring was full.
struct switch_port_info {
    std::string name;     // "p1", or the attached NIC's name ("netmap:eth0", "netmap:eth0^")
    std::string kind;     // "ephemeral", "persistent", "nic", "host"
    uint32_t clients = 0; // registrations mapping the port
    uint64_t rx_packets = 0, rx_bytes = 0, tx_packets = 0, tx_bytes = 0, drops = 0;
    uint64_t flooded = 0; // frames the port sent that the switch flooded (metrics only: the
                          // SWITCH_CTL port record has no room for it)
};

struct switch_info {
    std::string name;
    bool persistent = false;  // made by create_switch (destroy_switch removes it)
    uint32_t mac_entries = 0; // learned addresses
    std::vector<switch_port_info> ports;
};

// How the switch table reaches the rest of the daemon.
struct switch_env {
    // The region of a switch port ("vale0:p1"), made on first use.
    std::function<result<std::shared_ptr<region>>(const std::string &name)> open_region;
    // Registers the daemon itself as a client of a NIC port ("netmap:eth0", "netmap:eth0*"), and
    // undoes it. The switch then drives that registration's rings as an application would.
    std::function<result<std::pair<uint32_t, attach_result>>(const std::string &name)> register_nic;
    std::function<void(uint32_t reg_id)> unregister_nic;
    // A port went away: regions nobody uses any more may go too.
    std::function<void()> prune_regions;
    // Whether a restart keeps the NIC port of the daemon's registration `reg_id` (with its worker
    // paused): then hold() keeps the attachment too.
    std::function<bool(uint32_t reg_id)> keeps_nic;
};

class switch_table {
public:
    switch_table(const config &cfg, switch_env env);
    ~switch_table();
    switch_table(const switch_table &) = delete;
    switch_table &operator=(const switch_table &) = delete;

    // Administration (netring-switch). Switch names start with "vale"; port names follow the
    // port-name grammar's rules for the part after ':'.
    status create_switch(const std::string &sw);
    status destroy_switch(const std::string &sw);                       // port_busy while it has ports
    status add_port(const std::string &sw, const std::string &port);    // persistent
    status delete_port(const std::string &sw, const std::string &port); // port_busy while registered
    // `nic` is netmap:IF (the NIC's rings as one switch port) or netmap:IF* (also its host rings as a
    // second port, so the kernel stack is one more port of the switch).
    status attach_nic(const std::string &sw, const std::string &nic);
    status detach_nic(const std::string &sw, const std::string &nic);
    std::vector<switch_info> list() const;

    // For the registry's switch-port object: a registration of `name` (valeX:PORT). Creates the
    // switch and the port when needed (ephemeral). The attach_result is as for any port.
    result<attach_result> acquire_port(uint32_t reg_id, pid_t pid, const port_name &name,
                                       const ring_request &req);
    // Partner of acquire_port. Removes an ephemeral port with no registration left, and a switch
    // made on the fly that has no port left.
    void release_port(uint32_t reg_id, const port_name &name);
    // STATS rings of a registration (tx then rx), and PORT_INFO for a switch port name.
    void collect_stats(uint32_t reg_id, const port_name &name, std::vector<ring_counters> &out) const;
    port_details port_info(const port_name &name) const;
    // Socket-path TXSYNC/RXSYNC: publish the ring's head to its sync block and wake the switch.
    sync_result socket_sync(uint32_t reg_id, const port_name &name, uint32_t ring, bool tx);

    // Monitors of a client port (vale_port keeps them): the port's region, where their rings go
    // (not_found unless the port exists), and the rings its forwarding thread feeds.
    result<std::shared_ptr<region>> monitor_region(const port_name &name) const;
    void set_monitors(const port_name &name, std::vector<const served_ring *> tx,
                      std::vector<const served_ring *> rx);
    bool has_port(const port_name &name) const { return find_port(name) != nullptr; }

    // Stops every switch and gives back every NIC registration (before the registry's own teardown).
    void clear();

    // Restarts (switch_keep.cpp). hold() stops every forwarding thread, so ring indices and learned
    // addresses hold still to be saved, and releases the NIC attachments whose NIC a restart does
    // not keep (env.keeps_nic); the switches stay held, whatever else changes, until resume().
    void hold();
    void resume(); // partner of hold(), and what starts adopted switches
    // Every switch held (true without switches).
    bool held() const;
    // The records of every switch, its client ports and their registrations; `fd_id` names each
    // eventfd and journal kept. A running switch's ring cursors are its journal's last commit and
    // its learned addresses are left out (its thread owns them); a held one's are exact.
    std::vector<kept_switch> keep(const std::function<uint32_t(int)> &fd_id) const;
    // Rebuilds kept switches, held, on an empty table: each port's region from `region_of` (null:
    // not kept), its eventfds from `take_fd`; every number is checked against the region. A refusal
    // (errc::bad_message, why) may leave switches behind: the caller clears the table.
    status adopt(const std::vector<kept_switch> &k,
                 const std::function<std::shared_ptr<region>(const std::string &)> &region_of,
                 const std::function<unique_fd(uint32_t)> &take_fd);
    // After adopt() and the registrations: each kept switch's NIC attachments, as ports over the
    // daemon registration `answer` gives for their id (null: not kept). The switches are still
    // held. A refusal (errc::bad_message, why) may leave ports behind: the caller clears the table.
    status adopt_attachments(const std::vector<kept_switch> &k,
                             const std::function<const attach_result *(uint32_t)> &answer);
    // What acquire_port answered for registration `reg_id` of `name`, for an adopted one.
    result<attach_result> answer_of(uint32_t reg_id, const port_name &name) const;
    bool empty() const { return switches_.empty(); }

private:
    vale_switch *find(const std::string &sw) const;
    sw_port *find_port(const port_name &name) const;
    result<sw_port *> make_client_port(vale_switch &s, const std::string &port, const std::string &kind,
                                       uint32_t tx_slots, uint32_t rx_slots);
    void remove_port(vale_switch &s, sw_port *p);
    // A held switch's NIC attachments, with the thread's heads on their rings.
    std::vector<kept_attachment> keep_attachments(const vale_switch &s) const;

    const config &cfg_;
    switch_env env_;
    std::map<std::string, std::unique_ptr<vale_switch>> switches_;
};

} // namespace netring::netringd
