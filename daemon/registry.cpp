#include "registry.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstring>

#include <netring/port_name.hpp>

namespace netring::netringd {

namespace {

// The session the daemon's own registrations (a switch's NIC attachments) belong to.
constexpr uint64_t internal_session = ~uint64_t{0};

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
    return r;
}

proto::stats_ring stats_record_of(const ring_counters &c, uint32_t registration)
{
    proto::stats_ring s{};
    s.registration = registration;
    s.dir = c.dir;
    s.ringid = c.ringid;
    s.num_slots = c.num_slots;
    s.status = c.status;
    s.packets = c.packets;
    s.bytes = c.bytes;
    s.drops = c.drops;
    s.kicks = c.kicks;
    s.errors = c.errors;
    s.copies = c.copies;
    return s;
}

} // namespace

registry::registry(const config &cfg, const policy &pol, log_fn log)
    : cfg_(cfg), policy_(pol), log_(std::move(log)),
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
    region_options opt = region_options::from(cfg_);
    opt.numa_node = numa_node;
    auto r = region::create(name, opt, log_);
    if (!r)
        return r.err();
    std::shared_ptr<region> shared(std::move(r.value()));
    regions_.emplace(name, shared);
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
    const std::string canonical = name->str();
    const decision d = policy_.check(who.creds(), policy_name(canonical));
    if (!d.allowed)
        return error::from(errc::access_denied, d.reason);

    const auto held = std::count_if(regs_.begin(), regs_.end(),
                                    [&](const auto &kv) { return kv.second.session == who.session; });
    if (static_cast<uint64_t>(held) >= cfg_.max_regs_per_client)
        return error::from(errc::limit_exceeded, "this connection holds " + std::to_string(held) +
                                                     " registrations (max_regs_per_client " +
                                                     std::to_string(cfg_.max_regs_per_client) + ")");

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
    auto a = p->attach(ctx, *name, req);
    if (!a) {
        p.reset(); // a port made for this attempt goes now, and its region with it
        prune_regions();
        return a.err();
    }
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
    r.tx_rings = a->tx_rings;
    r.rx_rings = a->rx_rings;
    regs_.emplace(ctx.reg_id, std::move(r));
    return registered{ctx.reg_id, canonical, std::move(a.value())};
}

void registry::drop(reg_map::iterator it)
{
    const std::string key = it->second.key;
    const bool empty = it->second.owner->detach(it->first);
    regs_.erase(it);
    if (empty)
        ports_.erase(key);
    prune_regions();
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

std::vector<std::byte> registry::build_stats(uint64_t uptime_ms, uint32_t n_clients) const
{
    std::vector<proto::stats_region> regions;
    for (const auto &[name, r] : regions_) {
        proto::stats_region s{};
        proto::set_text(s.name, sizeof s.name, name);
        s.size = r->size();
        s.buf_size = r->geometry().buf_size;
        s.buffers_total = r->pool().total();
        s.buffers_free = r->pool().available();
        s.users = r->users();
        s.hugepages = r->hugepages() ? 1 : 0;
        s.hugepage_faults = static_cast<uint32_t>(r->hugepage_faults());
        regions.push_back(s);
    }
    std::vector<proto::stats_registration> regs;
    std::vector<proto::stats_ring> rings;
    std::vector<ring_counters> counted;
    for (const auto &[id, r] : regs_) {
        proto::stats_registration s{};
        proto::set_text(s.port_name, sizeof s.port_name, r.name);
        s.reg_id = id;
        s.uid = r.uid;
        s.gid = r.gid;
        s.pid = static_cast<uint32_t>(r.pid);
        s.tx_rings = r.tx_rings;
        s.rx_rings = r.rx_rings;
        counted.clear();
        r.owner->collect_stats(id, counted);
        for (const ring_counters &c : counted)
            rings.push_back(stats_record_of(c, static_cast<uint32_t>(regs.size())));
        regs.push_back(s);
    }

    // The reply is bounded: with absurdly many registrations the tail of the ring list goes.
    const size_t fixed = sizeof(proto::stats_reply) + regions.size() * sizeof(proto::stats_region) +
                         regs.size() * sizeof(proto::stats_registration);
    if (fixed > proto::max_reply_payload)
        rings.clear();
    else if (fixed + rings.size() * sizeof(proto::stats_ring) > proto::max_reply_payload)
        rings.resize((proto::max_reply_payload - fixed) / sizeof(proto::stats_ring));

    proto::stats_reply head{};
    proto::set_ok(head.status);
    head.version = proto::version;
    head.n_regions = static_cast<uint32_t>(regions.size());
    head.n_regs = static_cast<uint32_t>(regs.size());
    head.n_rings = static_cast<uint32_t>(rings.size());
    head.n_clients = n_clients;
    head.uptime_ms = uptime_ms;

    // Sized once, then filled: growing an empty vector with insert() here trips GCC 12's
    // -Wstringop-overflow false positive at -O3.
    std::vector<std::byte> out(fixed + rings.size() * sizeof(proto::stats_ring));
    size_t at = 0;
    auto put = [&out, &at](const auto *data, size_t count) {
        if (count)
            std::memcpy(out.data() + at, data, count * sizeof(*data));
        at += count * sizeof(*data);
    };
    put(&head, 1);
    put(regions.data(), regions.size());
    put(regs.data(), regs.size());
    put(rings.data(), rings.size());
    return out;
}

} // namespace netring::netringd
