#include "registry.hpp"

#include <net/if.h>
#include <sys/random.h>

#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <optional>

#include <netring/port_name.hpp>

namespace netring::netringd {

namespace {

static_assert(all_rings == proto::all_rings, "a sync request's ring number reaches the port unchanged");

// A REGIF's numbers and flags as a port sees them (the name's suffixes are merged in later).
ring_request request_of(const proto::regif &m)
{
    ring_request r;
    r.tx_rings = m.tx_rings;
    r.rx_rings = m.rx_rings;
    r.tx_slots = m.tx_slots;
    r.rx_slots = m.rx_slots;
    r.extra_bufs = m.extra_bufs;
    r.exclusive = (m.flags & proto::regif_exclusive) != 0;
    r.tx_only = (m.flags & proto::regif_tx_only) != 0;
    r.rx_only = (m.flags & proto::regif_rx_only) != 0;
    r.netmap_view = (m.flags & proto::regif_netmap_view) != 0;
    return r;
}

} // namespace

registry::registry(const config &cfg, const policy &pol, log_fn log)
    : cfg_(cfg), policy_(pol), log_(std::move(log)), quotas_(cfg, pol),
      switches_(cfg, switch_env{
                         [this](const std::string &n) { return open_region(n, -1); },
                         [this](const std::string &n) -> result<std::pair<uint32_t, attach_result>> {
                             auto r = register_name({internal_session, 0, 0, ::getpid()}, n, {});
                             if (!r)
                                 return r.err();
                             return std::make_pair(r->reg_id, std::move(r->a));
                         },
                         [this](uint32_t reg_id) { (void)unregister(internal_session, reg_id); },
                         [this] { prune_regions(); },
                         [this](uint32_t reg_id) { return nic_kept(reg_id); },
                     })
{}

registry::~registry() { unregister_all(); }

std::shared_ptr<region> registry::find_region(const std::string &name) const
{
    auto it = regions_.find(name);
    return it == regions_.end() ? nullptr : it->second;
}

result<std::shared_ptr<region>> registry::open_region(const std::string &name, int numa_node)
{
    if (auto it = regions_.find(name); it != regions_.end())
        return it->second;
    if (regions_.size() >= cfg_.max_regions)
        return error::from(errc::limit_exceeded,
                           "cannot create region " + name + ": " + std::to_string(regions_.size()) +
                               " regions exist (max_regions " + std::to_string(cfg_.max_regions) + ")");
    // A region a client's name causes to be created counts against that client's uid.
    std::optional<credentials> payer;
    if (registering_)
        payer = registering_->creds();
    if (payer) {
        for (const auto &[k, n] : {std::pair{quota_key::regions, uint64_t{1}},
                                   std::pair{quota_key::buffers, uint64_t{cfg_.region_buffers}}})
            if (auto s = quotas_.check(*payer, k, n, regions_.size()); !s)
                return error::from(errc::limit_exceeded,
                                   "cannot create region " + name + ": " + s.err().message);
    }
    region_options opt = region_options::from(cfg_);
    opt.numa_node = numa_node;
    auto r = region::create(name, opt, log_);
    if (!r)
        return r.err();
    std::shared_ptr<region> shared(std::move(r.value()));
    shared->set_mem_id(next_mem_id());
    regions_.emplace(name, shared);
    if (payer) {
        quotas_.charge(*payer, quota_key::regions, 1);
        quotas_.charge(*payer, quota_key::buffers, cfg_.region_buffers);
        region_payers_[name] = payer->uid;
        created_.push_back(name);
    }
    if (log_)
        log_("region " + name + " created: " + std::to_string(shared->size()) + " bytes, " +
             std::to_string(shared->pool().total()) + " buffers of " +
             std::to_string(shared->geometry().buf_size) + (shared->hugepages() ? ", hugepages" : ""));
    return shared;
}

// A region nobody but this table holds has no port and no registration left.
void registry::prune_regions()
{
    for (auto it = regions_.begin(); it != regions_.end();) {
        if (it->second.use_count() == 1) {
            if (log_)
                log_("region " + it->first + " destroyed");
            if (auto payer = region_payers_.find(it->first); payer != region_payers_.end()) {
                quotas_.refund(payer->second, quota_key::regions, 1);
                quotas_.refund(payer->second, quota_key::buffers, cfg_.region_buffers);
                region_payers_.erase(payer);
            }
            it = regions_.erase(it);
        } else {
            ++it;
        }
    }
}

uint32_t registry::next_reg_id()
{
    do {
        last_id_++;
    } while (last_id_ == 0 || regs_.count(last_id_));
    return last_id_;
}

result<registered> registry::register_port(const client_info &who, const proto::regif &m)
{
    const auto text = proto::fixed_string(m.port_name, sizeof m.port_name);
    if (!text)
        return error::from(errc::bad_message, "REGIF port_name is not NUL-terminated");
    return register_name(who, *text, request_of(m));
}

result<registered> registry::register_name(const client_info &who, std::string_view text, ring_request req)
{
    auto name = parse_port_name(text); // the daemon trusts only its own parse
    if (!name)
        return name.err();
    req.exclusive = req.exclusive || name->exclusive;
    req.tx_only = req.tx_only || name->tx_only;
    req.rx_only = req.rx_only || name->rx_only;
    // netmap's /T and /R: the netmap view shows the rings of that direction only. The port binds
    // both, as netring's ports always do; a netmap program cannot tell the difference.
    netmap_view_dirs dirs;
    if (req.netmap_view) {
        dirs = {!req.rx_only, !req.tx_only};
        req.tx_only = req.rx_only = false;
    }
    const std::string canonical = name->str();
    // A monitor sees every frame of the port and maps its region: the policy's rules for the port
    // apply to it (policy_name drops the flags), and an admin may monitor any port.
    const bool monitor = name->is_monitor();
    const bool admin_monitor = monitor && policy_.is_admin(who.creds());
    const decision d = policy_.check(who.creds(), policy_name(canonical));
    if (!d.allowed && !admin_monitor)
        return error::from(errc::access_denied,
                           monitor ? "cannot monitor " + name->monitored().str() + ": " + d.reason : d.reason);
    // A pipe of an interface lives in the interface's region, where its frames are: opening one
    // needs the right to open the interface as well.
    if (name->is_pipe() && ::if_nametoindex(name->base.c_str()) != 0 && !admin_monitor) {
        const decision nic = policy_.check(who.creds(), "netmap:" + name->base);
        if (!nic.allowed)
            return error::from(errc::access_denied,
                               canonical + " shares the memory of interface " + name->base + ": " + nic.reason);
    }
    uint32_t monitor_slots = 0;
    if (monitor) {
        monitor_slots = req.rx_slots ? req.rx_slots : cfg_.default_slots;
        if (monitor_slots < 2 || monitor_slots > cfg_.max_slots || (monitor_slots & (monitor_slots - 1)) != 0)
            return error::from(errc::limit_exceeded, "rx_slots " + std::to_string(monitor_slots) +
                                                         " is not a power of two in 2.." +
                                                         std::to_string(cfg_.max_slots));
        if (req.tx_rings || req.tx_slots || req.extra_bufs)
            return error::from(errc::not_supported,
                               canonical + ": a monitor has rx rings only and no extra buffers");
        req = ring_request{0, 0, 0, monitor_slots, 0, false, false, false, req.netmap_view};
        dirs = {};
    }

    const auto held = std::count_if(regs_.begin(), regs_.end(),
                                    [&](const auto &kv) { return kv.second.session == who.session; });
    if (static_cast<uint64_t>(held) >= cfg_.max_regs_per_client)
        return error::from(errc::limit_exceeded, "this connection holds " + std::to_string(held) +
                                                     " registrations (max_regs_per_client " +
                                                     std::to_string(cfg_.max_regs_per_client) + ")");
    const credentials creds = who.creds();
    if (auto s = quotas_.check(creds, quota_key::registrations, 1); !s)
        return s.err();
    // The buffers this registration will take at least, checked before anything is attached: a
    // refusal after attach would have to detach, which a pipe's peer would see as a broken pipe.
    const auto slots_of = [&](uint32_t s) { return uint64_t{s ? s : cfg_.default_slots}; };
    const uint64_t at_least = monitor ? uint64_t{monitor_slots}
                                      : std::max(1u, req.tx_rings) * slots_of(req.tx_slots) +
                                            std::max(1u, req.rx_rings) * slots_of(req.rx_slots) + req.extra_bufs;
    if (auto s = quotas_.check(creds, quota_key::buffers, at_least); !s)
        return s.err();

    const std::string key = name->port_key();
    std::shared_ptr<port> p;
    bool fresh = false;
    if (auto it = ports_.find(key); it != ports_.end()) {
        p = it->second;
    } else {
        auto made = create_port(*name, cfg_, &switches_);
        if (!made)
            return made.err();
        p = std::shared_ptr<port>(std::move(made.value()));
        fresh = true;
    }

    reg_context ctx;
    ctx.reg_id = next_reg_id();
    ctx.pid = who.pid;
    ctx.open_region = [this](const std::string &n, int node) { return open_region(n, node); };
    // Regions this attach creates are charged to `who` (open_region reads these two).
    registering_ = &who;
    created_.clear();
    auto a = monitor ? p->attach_monitor(ctx, *name, monitor_slots) : p->attach(ctx, *name, req);
    registering_ = nullptr;
    if (!a) {
        p.reset(); // a port made for this attempt goes now, and its region with it
        prune_regions();
        return a.err();
    }
    // Buffers in a region this uid did not just create: its rings' slots and its extra buffers.
    const bool own_region = std::find(created_.begin(), created_.end(), a->mem->name()) != created_.end();
    const uint64_t buffers = own_region ? 0
                                        : uint64_t{a->tx_rings} * a->tx_slots +
                                              uint64_t{a->rx_rings} * a->rx_slots + a->extra_bufs;
    auto undo = [&](const error &e) -> result<registered> {
        if (p->detach(ctx.reg_id) && !fresh)
            erase_port(key, p.get());
        p.reset();
        prune_regions();
        return e;
    };
    if (auto s = quotas_.check(creds, quota_key::buffers, buffers); !s)
        return undo(s.err());
    std::shared_ptr<region> mem = find_region(a->mem->name());
    registered answer{ctx.reg_id, canonical, a.value(), 0, mem ? mem->mem_id() : uint16_t{0}, make_reattach_token()};
    uint64_t view_bytes = 0;
    if (req.netmap_view) {
        auto off = mem ? write_netmap_view(*mem, *a, dirs, &view_bytes)
                       : result<uint64_t>(error::from(errc::internal, "region " + a->mem->name() + " is not listed"));
        if (!off)
            return undo(off.err());
        answer.netmap_if_offset = *off;
    }
    quotas_.charge(creds, quota_key::registrations, 1);
    quotas_.charge(creds, quota_key::buffers, buffers);
    if (fresh)
        ports_.emplace(key, p);
    registration r;
    r.session = who.session;
    r.owner = p;
    r.key = key;
    r.name = canonical;
    r.uid = who.uid;
    r.gid = who.gid;
    r.pid = who.pid;
    r.buffers = buffers;
    r.answer = answer;
    r.view_bytes = view_bytes;
    regs_.emplace(ctx.reg_id, std::move(r));
    changed();
    return answer;
}

uint16_t registry::next_mem_id() const
{
    for (uint32_t id = 1; id <= 0xffff; id++)
        if (std::none_of(regions_.begin(), regions_.end(),
                         [&](const auto &kv) { return kv.second->mem_id() == id; }))
            return static_cast<uint16_t>(id);
    return 0; // max_regions keeps this far away
}

result<registered> registry::query(uint64_t session, uint32_t reg_id) const
{
    const registration *found = nullptr;
    for (const auto &[id, r] : regs_) {
        if (r.session != session || (reg_id != 0 && id != reg_id))
            continue;
        if (found)
            return error::from(errc::bad_message, "this connection holds several registrations: REG_QUERY must name one");
        found = &r;
    }
    if (!found)
        return error::from(errc::not_registered,
                           reg_id ? "no registration " + std::to_string(reg_id) + " on this connection"
                                  : std::string("nothing is registered on this connection"));
    return found->answer;
}

void registry::drop(reg_map::iterator it)
{
    const std::string key = it->second.key;
    if (it->second.view_bytes)
        if (auto mem = find_region(it->second.answer.a.mem->name()))
            mem->meta().release(it->second.answer.netmap_if_offset, it->second.view_bytes);
    quotas_.refund(it->second.uid, quota_key::registrations, 1);
    quotas_.refund(it->second.uid, quota_key::buffers, it->second.buffers);
    const port *owner = it->second.owner.get();
    const bool finished = it->second.owner->detach(it->first);
    regs_.erase(it); // may destroy the port, unless the table or other registrations hold it
    if (finished)
        erase_port(key, owner); // compares addresses only
    prune_regions();
    changed();
}

// A finished port may live on for the monitors still holding it while a new port of the same
// name has taken its place in the table: only the port itself is removed.
void registry::erase_port(const std::string &key, const port *which)
{
    if (auto it = ports_.find(key); it != ports_.end() && it->second.get() == which)
        ports_.erase(it);
}

size_t registry::registrations_of(uint64_t session) const
{
    return static_cast<size_t>(std::count_if(regs_.begin(), regs_.end(),
                                             [&](const auto &kv) { return kv.second.session == session; }));
}

status registry::unregister(uint64_t session, uint32_t reg_id)
{
    auto it = regs_.find(reg_id);
    if (it == regs_.end() || it->second.session != session)
        return error::from(errc::not_registered,
                           "no registration " + std::to_string(reg_id) + " on this connection");
    drop(it);
    return ok_status();
}

size_t registry::unregister_session(uint64_t session)
{
    size_t n = 0;
    for (auto it = regs_.begin(); it != regs_.end();) {
        auto next = std::next(it);
        if (it->second.session == session) {
            drop(it);
            n++;
        }
        it = next;
    }
    return n;
}

void registry::unregister_all()
{
    switches_.clear(); // the switches hold registrations of their own: they go first
    while (!regs_.empty())
        drop(regs_.begin());
}

sync_result registry::sync(uint64_t session, uint32_t reg_id, uint32_t ring, bool tx)
{
    auto it = regs_.find(reg_id);
    if (it == regs_.end() || it->second.session != session)
        return {errc::not_registered, "no registration " + std::to_string(reg_id) + " on this connection", 0};
    return it->second.owner->sync(reg_id, tx ? ring_dir::tx : ring_dir::rx, ring);
}

result<port_details> registry::port_info(const client_info &who, std::string_view text)
{
    auto name = parse_port_name(text);
    if (!name)
        return name.err();
    const decision d = policy_.check(who.creds(), policy_name(name->str()));
    if (!d.allowed)
        return error::from(errc::access_denied, d.reason);
    if (auto it = ports_.find(name->port_key()); it != ports_.end())
        return it->second->info(*name);
    // Not open yet: a port object holds no resources until attach, so ask a fresh one.
    auto made = create_port(*name, cfg_, &switches_);
    if (!made)
        return made.err();
    return (*made)->info(*name);
}

status registry::nic_ctl(const client_info &who, std::string_view text, bool promisc)
{
    auto name = parse_port_name(text);
    if (!name)
        return name.err();
    if (!policy_.is_admin(who.creds()))
        return error::from(errc::access_denied, "uid " + std::to_string(who.uid) +
                                                    " is not an admin of this netringd (admin directive)");
    port_setting s;
    s.promiscuous = promisc;
    if (auto it = ports_.find(name->port_key()); it != ports_.end())
        return it->second->configure(*name, s);
    auto made = create_port(*name, cfg_, &switches_); // holds nothing until attach
    if (!made)
        return made.err();
    return (*made)->configure(*name, s);
}

} // namespace netring::netringd
