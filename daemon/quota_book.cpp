#include "quota_book.hpp"

#include <algorithm>

namespace netring::netringd {

quota_book::quota_book(const config &cfg, const policy &pol)
    : cfg_(cfg), policy_(pol), max_connections_(cfg.max_connections)
{}

uint64_t quota_book::value(const quota_usage &u, quota_key k)
{
    switch (k) {
    case quota_key::connections: return u.connections;
    case quota_key::registrations: return u.registrations;
    case quota_key::regions: return u.regions;
    case quota_key::buffers: return u.buffers;
    }
    return 0;
}

uint64_t quota_book::value(const quota_limits &l, quota_key k)
{
    switch (k) {
    case quota_key::connections: return l.connections;
    case quota_key::registrations: return l.registrations;
    case quota_key::regions: return l.regions;
    case quota_key::buffers: return l.buffers;
    }
    return 0;
}

void quota_book::limit_connections(uint32_t n)
{
    max_connections_ = std::max<uint32_t>(n, cfg_.admin_connections + 1);
}

uint32_t quota_book::region_reserve() const { return std::max<uint32_t>(1, cfg_.max_regions / 16); }

status quota_book::admit_connection(const credentials &who)
{
    const bool admin = policy_.is_admin(who);
    const uint32_t room = admin ? max_connections_ : max_connections_ - cfg_.admin_connections;
    if (connections_ >= room)
        return error::from(errc::limit_exceeded,
                           "netringd holds " + std::to_string(connections_) +
                               " connections (max_connections " + std::to_string(max_connections_) + ", " +
                               std::to_string(cfg_.admin_connections) + " of them kept for admins)");
    if (auto s = check(who, quota_key::connections, 1); !s)
        return s;
    connections_++;
    charge(who, quota_key::connections, 1);
    return ok_status();
}

void quota_book::release_connection(uid_t uid)
{
    if (connections_ > 0)
        connections_--;
    refund(uid, quota_key::connections, 1);
}

status quota_book::check(const credentials &who, quota_key k, uint64_t more, size_t regions_alive) const
{
    const bool admin = policy_.is_admin(who);
    if (k == quota_key::regions && !admin && regions_alive + more + region_reserve() > cfg_.max_regions)
        return error::from(errc::limit_exceeded, std::to_string(regions_alive) +
                                                     " regions exist (max_regions " +
                                                     std::to_string(cfg_.max_regions) + ", the last " +
                                                     std::to_string(region_reserve()) + " kept for admins)");
    if (admin)
        return ok_status();
    const auto it = accounts_.find(who.uid);
    const uint64_t used = it == accounts_.end() ? 0 : value(it->second.used, k);
    const uint64_t limit = value(policy_.limits(who), k);
    if (used + more > limit)
        return error::from(
            errc::limit_exceeded,
            over_quota(who.uid, k, used, limit, policy_.limit_origin(who, k)) +
                (k == quota_key::buffers ? "; this needs " + std::to_string(more) + " more" : ""));
    return ok_status();
}

void quota_book::charge(const credentials &who, quota_key k, uint64_t n)
{
    account &a = accounts_[who.uid];
    a.limits = policy_.limits(who);
    a.unlimited = policy_.is_admin(who);
    switch (k) {
    case quota_key::connections: a.used.connections += static_cast<uint32_t>(n); break;
    case quota_key::registrations: a.used.registrations += static_cast<uint32_t>(n); break;
    case quota_key::regions: a.used.regions += static_cast<uint32_t>(n); break;
    case quota_key::buffers: a.used.buffers += n; break;
    }
}

void quota_book::refund(uid_t uid, quota_key k, uint64_t n)
{
    auto it = accounts_.find(uid);
    if (it == accounts_.end())
        return;
    quota_usage &u = it->second.used;
    auto down = [n](auto &field) {
        field = field > n ? field - static_cast<std::remove_reference_t<decltype(field)>>(n) : 0;
    };
    switch (k) {
    case quota_key::connections: down(u.connections); break;
    case quota_key::registrations: down(u.registrations); break;
    case quota_key::regions: down(u.regions); break;
    case quota_key::buffers: down(u.buffers); break;
    }
    if (u.connections == 0 && u.registrations == 0 && u.regions == 0 && u.buffers == 0)
        accounts_.erase(it);
}

std::vector<quota_book::entry> quota_book::entries() const
{
    std::vector<entry> out;
    for (const auto &[uid, a] : accounts_)
        out.push_back({uid, a.used, a.limits, a.unlimited});
    return out;
}

} // namespace netring::netringd
