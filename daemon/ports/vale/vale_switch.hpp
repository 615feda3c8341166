// What switch_table.cpp and switch_ports.cpp share: a switch and its ports. Not part of any API.
#pragma once

#include "config.hpp"
#include "port.hpp"
#include "region.hpp"
#include "switch_fwd.hpp"

#include <memory>
#include <string>
#include <vector>

namespace netring::netringd {

// One port of a switch. Client ports (ephemeral, persistent) own a region and two rings the switch
// serves; NIC and host ports drive a daemon registration of the NIC (`nic_reg`, shared by the NIC
// port and the host port of one attachment).
struct sw_port {
    struct reg {
        uint32_t reg_id = 0;
        pid_t pid = 0;
        uint64_t if_off = 0;
        uint64_t if_bytes = 0;
        bool exclusive = false;
    };
    std::string name;
    std::string kind;
    std::shared_ptr<region> mem;
    served_ring tx, rx;
    std::vector<uint32_t> bufs; // every buffer the port took; back to the pool when it goes
    std::vector<reg> regs;
    std::string attachment; // nic and host ports: the NIC name as attached ("netmap:eth0*")
    uint32_t nic_reg = 0;
    fwd_endpoint ep;

    ~sw_port()
    {
        if (!mem)
            return;
        for (const reg &r : regs)
            mem->meta().release(r.if_off, r.if_bytes);
        for (served_ring *r : {&tx, &rx})
            if (r->meta_bytes)
                mem->meta().release(r->ring_off, r->meta_bytes);
        mem->pool().give(bufs);
    }
};

class vale_switch {
public:
    vale_switch(std::string name, bool persistent) : name_(std::move(name)), persistent_(persistent) {}
    ~vale_switch() { fwd_.stop(); }

    const std::string &name() const { return name_; }
    bool persistent() const { return persistent_; }
    void make_persistent() { persistent_ = true; }
    std::vector<std::unique_ptr<sw_port>> &ports() { return ports_; }
    const std::vector<std::unique_ptr<sw_port>> &ports() const { return ports_; }
    sw_port *find(const std::string &port) const
    {
        for (const auto &p : ports_)
            if (p->name == port)
                return p.get();
        return nullptr;
    }
    uint32_t mac_entries() const { return fwd_.mac_entries(); }
    void stop() { fwd_.stop(); }
    void start(const fwd_settings &settings)
    {
        std::vector<fwd_endpoint *> eps;
        for (auto &p : ports_)
            eps.push_back(&p->ep);
        (void)fwd_.start(std::move(eps), settings); // fails only without an eventfd: ports stay idle
    }

private:
    std::string name_;
    bool persistent_;
    std::vector<std::unique_ptr<sw_port>> ports_;
    switch_fwd fwd_;
};

// The forwarding thread's settings from the configuration.
inline fwd_settings fwd_settings_of(const config &cfg)
{
    return {cfg.worker_spin, int64_t{cfg.switch_stall_ms} * 1'000'000};
}

inline error no_switch(const std::string &sw)
{
    return error::from(errc::not_found, "switch " + sw + " does not exist");
}

} // namespace netring::netringd
