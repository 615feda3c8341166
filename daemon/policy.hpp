// Who may open which port: the config's allow/deny rules applied to a client's credentials.
//
//   policy p(cfg, ::getuid());
//   decision d = p.check({uid, gid, {}}, "netmap:pipeA{1");
//   if (!d.allowed) reply access_denied with d.reason
//
// Rules match the canonical port name without flags using fnmatch(3); the first rule whose subject
// and pattern both match decides. uid 0 is always allowed. With no rules at all, only uid 0 and the
// daemon's own uid are. Credentials come from SO_PEERCRED, which gives uid and gid only, so
// supplementary groups are an optional input (tests and future callers may supply them).
#pragma once

#include "config.hpp"

#include <sys/types.h>

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace netring::netringd {

struct credentials {
    uid_t uid = 0;
    gid_t gid = 0;
    std::span<const gid_t> groups; // supplementary groups, when known
};

struct decision {
    bool allowed = false;
    std::string reason; // "uid 65534 may not open netmap:secret{1 (config line 12)"
};

class policy {
public:
    policy(const config &cfg, uid_t daemon_uid);

    decision check(const credentials &who, std::string_view port) const;
    // Switch administration: an `admin` subject matches, or uid 0.
    bool is_admin(const credentials &who) const;

private:
    static bool matches(const subject &s, const credentials &who);

    std::vector<policy_rule> rules_;
    std::vector<subject> admins_;
    uid_t daemon_uid_;
};

// The port name policy rules see: the canonical name without its "/flags" suffix.
std::string policy_name(std::string_view canonical);

} // namespace netring::netringd
