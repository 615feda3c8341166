#include "policy.hpp"

#include <fnmatch.h>

#include <algorithm>
#include <cstdint>

namespace netring::netringd {

std::string policy_name(std::string_view canonical)
{
    return std::string(canonical.substr(0, canonical.find('/')));
}

policy::policy(const config &cfg, uid_t daemon_uid)
    : rules_(cfg.rules), admins_(cfg.admins), uid_quota_(cfg.uid_quota), quotas_(cfg.quotas),
      daemon_uid_(daemon_uid)
{}

quota_limits policy::limits(const credentials &who) const
{
    quota_limits l = uid_quota_;
    bool seen[4] = {};
    for (const quota_rule &q : quotas_) {
        const auto k = static_cast<size_t>(q.key);
        if (seen[k] || !matches(q.who, who))
            continue;
        seen[k] = true;
        const auto v32 = static_cast<uint32_t>(std::min<uint64_t>(q.value, UINT32_MAX));
        switch (q.key) {
        case quota_key::connections: l.connections = v32; break;
        case quota_key::registrations: l.registrations = v32; break;
        case quota_key::regions: l.regions = v32; break;
        case quota_key::buffers: l.buffers = q.value; break;
        }
    }
    return l;
}

std::string policy::limit_origin(const credentials &who, quota_key k) const
{
    for (const quota_rule &q : quotas_)
        if (q.key == k && matches(q.who, who))
            return "config line " + std::to_string(q.line) + " allows";
    return std::string("uid_max_") + to_string(k);
}

std::string over_quota(uid_t uid, quota_key k, uint64_t used, uint64_t limit, const std::string &origin)
{
    return "uid " + std::to_string(uid) + " holds " + std::to_string(used) + " " + to_string(k) + " (" +
           origin + " " + std::to_string(limit) + ")";
}

bool policy::matches(const subject &s, const credentials &who)
{
    switch (s.what) {
    case subject::kind::any: return true;
    case subject::kind::uid: return who.uid == s.id;
    case subject::kind::gid:
        return who.gid == s.id || std::find(who.groups.begin(), who.groups.end(), s.id) != who.groups.end();
    }
    return false;
}

decision policy::check(const credentials &who, std::string_view port) const
{
    const std::string name(port);
    const std::string refused = "uid " + std::to_string(who.uid) + " may not open " + name;
    if (who.uid == 0)
        return {true, "uid 0 is always allowed"};
    if (rules_.empty()) {
        if (who.uid == daemon_uid_)
            return {true, "the daemon's own uid (no policy rules configured)"};
        return {false, refused + " (no policy rules configured: only uid 0 and the daemon's uid may)"};
    }
    for (const policy_rule &r : rules_) {
        if (!matches(r.who, who) || ::fnmatch(r.pattern.c_str(), name.c_str(), 0) != 0)
            continue;
        if (r.allow)
            return {true, "allowed by config line " + std::to_string(r.line)};
        return {false, refused + " (config line " + std::to_string(r.line) + ")"};
    }
    return {false, refused + " (no rule allows it)"};
}

bool policy::is_admin(const credentials &who) const
{
    if (who.uid == 0)
        return true;
    return std::any_of(admins_.begin(), admins_.end(), [&](const subject &s) { return matches(s, who); });
}

} // namespace netring::netringd
