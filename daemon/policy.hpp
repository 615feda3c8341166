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
    // What `who` may hold (quota rules first, then the uid_max_* defaults). Admins are not limited:
    // callers check is_admin first.
    quota_limits limits(const credentials &who) const;
    // Where a limit came from, for refusals: "uid_max_regions" or "config line 12".
    std::string limit_origin(const credentials &who, quota_key k) const;

private:
    static bool matches(const subject &s, const credentials &who);

    std::vector<policy_rule> rules_;
    std::vector<subject> admins_;
    quota_limits uid_quota_;
    std::vector<quota_rule> quotas_;
    uid_t daemon_uid_;
};

// What a uid holds, against its quota_limits.
struct quota_usage {
    uint32_t connections = 0;
    uint32_t registrations = 0;
    uint32_t regions = 0;
    uint64_t buffers = 0;
};

// "uid 65534 holds 4 regions (uid_max_regions 4)": the refusal of one more of `k`.
std::string over_quota(uid_t uid, quota_key k, uint64_t used, uint64_t limit, const std::string &origin);

// The port name policy rules see: the canonical name without its "/flags" suffix.
std::string policy_name(std::string_view canonical);

} // namespace netring::netringd
