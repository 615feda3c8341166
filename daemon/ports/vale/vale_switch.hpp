// What switch_table.cpp and switch_ports.cpp share: a switch and its ports. Not part of any API.
#pragma once

#include "config.hpp"
#include "port.hpp"
#include "region.hpp"
#include "switch_fwd.hpp"

#include <algorithm>
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
        uint32_t extra_bufs = 0;
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
    // Client ports: its slot in the switch's journal, and the tag the journal gave it there (0:
    // none yet; given at the next start()).
    uint32_t journal_slot = 0;
    uint64_t journal_tag = 0;

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

// A switch: its ports and its forwarding thread. The control thread changes the ports only between
// stop() and start(); the learned addresses outlive that (stop() takes them from the thread by
// port, start() gives back those whose port is still there). A held switch (a restart's handoff)
// stays stopped whatever start() is asked until resume().
class vale_switch {
public:
    // `journal`: where the forwarding thread commits its cursors (a new one, or a kept one).
    vale_switch(std::string name, bool persistent, fwd_journal journal)
        : name_(std::move(name)), persistent_(persistent), journal_(std::move(journal))
    {}
    // A new switch with a journal of its own (fails only when no memfd can be made).
    static result<std::unique_ptr<vale_switch>> make(const std::string &name, bool persistent)
    {
        auto j = fwd_journal::create(name);
        if (!j)
            return j.err();
        return std::make_unique<vale_switch>(name, persistent, std::move(j.value()));
    }
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
    void stop()
    {
        if (!fwd_.running())
            return;
        fwd_.stop();
        learned_.clear();
        for (const learned_mac &m : fwd_.learned())
            if (m.port < started_.size())
                learned_.emplace_back(started_[m.port], m);
    }
    void start(const fwd_settings &settings)
    {
        const std::vector<learned_mac> macs = learned();
        if (held_) {
            set_learned(macs); // forgets the addresses of ports gone meanwhile
            return;
        }
        std::vector<fwd_endpoint *> eps;
        started_.clear();
        for (auto &p : ports_) {
            eps.push_back(&p->ep);
            started_.push_back(p.get());
        }
        journal_ports();
        learned_.clear();
        // Fails only without an eventfd: the ports stay idle.
        (void)fwd_.start(std::move(eps), settings, macs, &journal_);
    }
    const fwd_journal &journal() const { return journal_; }
    // A client port's cursors: from the journal while the thread runs (its own copies are
    // private to it then), from the port while it is stopped.
    journal_cursors cursors(const sw_port &p) const
    {
        if (fwd_.running())
            return journal_.read(p.journal_slot);
        return {p.tx.hwcur, p.tx.hwtail, p.rx.hwcur, p.rx.hwtail};
    }
    // Partners: hold() stops the thread until resume() starts it.
    void hold()
    {
        stop();
        held_ = true;
    }
    bool is_held() const { return held_; }
    void resume(const fwd_settings &settings)
    {
        held_ = false;
        start(settings);
    }
    // While stopped: the learned addresses, positions in ports() as it is now (addresses of ports
    // gone are left out); and the same given back, for the next start.
    std::vector<learned_mac> learned() const
    {
        std::vector<learned_mac> out;
        for (auto [port, m] : learned_)
            for (size_t i = 0; i < ports_.size(); i++)
                if (ports_[i].get() == port) {
                    m.port = static_cast<uint16_t>(i);
                    out.push_back(m);
                }
        return out;
    }
    void set_learned(const std::vector<learned_mac> &macs)
    {
        learned_.clear();
        for (const learned_mac &m : macs)
            if (m.port < ports_.size())
                learned_.emplace_back(ports_[m.port].get(), m);
    }

private:
    // Before a start: every client port gets a journal slot (the lowest free one) and a tag, the
    // slots of ports gone lose theirs, and each port's slot is set to the cursors it starts from.
    void journal_ports()
    {
        std::vector<bool> used(fwd_journal::slots, false);
        for (const auto &p : ports_)
            if (p->journal_tag != 0)
                used[p->journal_slot] = true;
        for (uint32_t s = 0; s < fwd_journal::slots; s++)
            if (!used[s] && journal_.tag(s) != 0)
                journal_.free_slot(s);
        for (auto &p : ports_) {
            if (!p->ep.served)
                continue;
            if (p->journal_tag == 0) {
                const auto free = std::find(used.begin(), used.end(), false);
                if (free == used.end()) {                    // make_client_port refuses more ports than slots
                    p->ep.journal_slot = fwd_journal::slots; // nowhere: stage() skips it
                    continue;
                }
                *free = true;
                p->journal_slot = static_cast<uint32_t>(free - used.begin());
                p->journal_tag = journal_.claim(p->journal_slot);
            }
            p->ep.journal_slot = p->journal_slot;
            journal_.reset(p->journal_slot, {p->tx.hwcur, p->tx.hwtail, p->rx.hwcur, p->rx.hwtail});
        }
    }

    std::string name_;
    bool persistent_;
    bool held_ = false;
    fwd_journal journal_;
    std::vector<std::unique_ptr<sw_port>> ports_;
    // Which port each position of the running thread's endpoint list is, and, while stopped, the
    // addresses it had learned by port. Compared by address only, never dereferenced: a port
    // removed is forgotten at the next start(), and no port is made between a removal and it.
    std::vector<const sw_port *> started_;
    std::vector<std::pair<const sw_port *, learned_mac>> learned_;
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
