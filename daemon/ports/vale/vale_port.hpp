// The registry's port object for a switch port name (valeX:PORT): every call goes to the switch
// table, which owns the switch, the port's region and rings, and the forwarding thread. Monitors of
// the port (valeX:PORT/rt) live here, their rings in the port's region (held while they are), fed
// by the switch's forwarding thread; a monitor ends when the port does.
#pragma once

#include "monitor_rings.hpp"
#include "port.hpp"
#include "switch_table.hpp"

#include <functional>
#include <map>
#include <memory>
#include <vector>

namespace netring::netringd {

class vale_port final : public port {
public:
    vale_port(const port_name &name, switch_table &switches) : name_(name), switches_(switches) {}
    ~vale_port() override;

    result<attach_result> attach(const reg_context &ctx, const port_name &name,
                                 const ring_request &req) override;
    result<attach_result> attach_monitor(const reg_context &ctx, const port_name &name, uint32_t slots) override;
    bool detach(uint32_t reg_id) override;
    sync_result sync(uint32_t reg_id, ring_dir dir, uint32_t ring) override;
    port_details info(const port_name &name) const override;
    void collect_stats(uint32_t reg_id, std::vector<ring_counters> &out) const override;
    // A registration a previous netringd made, adopted by the switch table (registry::adopt_state).
    void adopt(uint32_t reg_id) { regs_.push_back(reg_id); }

    // Restarts. Monitors are kept with the switch port they watch, while it exists (an ephemeral
    // port gone with its last client leaves monitors that only read what is left).
    bool keeps_monitors() const { return switches_.has_port(name_); }
    std::vector<kept_monitor> keep_monitors(const std::function<uint32_t(int)> &fd_id) const;
    // A monitor of this port a previous process kept, in the (adopted) port's region; the
    // forwarding thread feeds it once the switch is resumed.
    status adopt_monitor(const kept_monitor &k, const std::function<unique_fd(uint32_t)> &take_fd);
    // What attach_monitor answered for monitor `reg_id`.
    result<attach_result> monitor_answer_of(uint32_t reg_id) const;

private:
    struct monitor {
        std::shared_ptr<region> mem;
        monitor_reg reg;
    };
    void wire_monitors();

    port_name name_;
    switch_table &switches_;
    std::vector<uint32_t> regs_;
    std::map<uint32_t, monitor> monitors_;
};

} // namespace netring::netringd
