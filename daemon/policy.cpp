#include "policy.hpp"

#include <fnmatch.h>

#include <algorithm>

namespace netring::netringd {

std::string policy_name(std::string_view canonical)
{
    return std::string(canonical.substr(0, canonical.find('/')));
}

policy::policy(const config &cfg, uid_t daemon_uid)
    : rules_(cfg.rules), admins_(cfg.admins), daemon_uid_(daemon_uid) {}

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
