// What each uid holds against its quota: connections, registrations, regions and buffers.
//
//   quota_book q(cfg, pol);
//   if (auto s = q.admit_connection(who); !s) refuse;   // partner: release_connection
//   if (auto s = q.check(who, quota_key::regions, 1); !s) refuse;
//   q.charge(who, quota_key::regions, 1);  ...  q.refund(uid, quota_key::regions, 1);
//
// uid 0 and admins are counted but never refused by a per-uid quota; they are the ones the
// reserves are for: non-admins may not take the last admin_connections connections nor the last
// region_reserve() regions. A refusal names the quota and the uid's current use. Control thread only.
#pragma once

#include "config.hpp"
#include "policy.hpp"

#include <netring/error.hpp>

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <vector>

namespace netring::netringd {

class quota_book {
public:
    quota_book(const config &cfg, const policy &pol);

    // A new connection of `who`; counts it when admitted.
    status admit_connection(const credentials &who);
    void release_connection(uid_t uid);
    // The fd limit allows fewer connections than the config asks: at most `n` from now on.
    void limit_connections(uint32_t n);
    uint32_t max_connections() const { return max_connections_; }

    // Whether `who` may hold `more` more of `k`. `regions_alive` (for regions): how many exist.
    status check(const credentials &who, quota_key k, uint64_t more, size_t regions_alive = 0) const;
    void charge(const credentials &who, quota_key k, uint64_t n);
    void refund(uid_t uid, quota_key k, uint64_t n);

    // Regions kept for admins: max_regions / 16, at least 1.
    uint32_t region_reserve() const;

    struct entry {
        uid_t uid = 0;
        quota_usage used;
        quota_limits limits;    // as of the uid's last charge
        bool unlimited = false; // uid 0 or an admin
    };
    // Every uid that holds something, by uid.
    std::vector<entry> entries() const;

private:
    struct account {
        quota_usage used;
        quota_limits limits;
        bool unlimited = false;
    };
    static uint64_t value(const quota_usage &u, quota_key k);
    static uint64_t value(const quota_limits &l, quota_key k);

    const config &cfg_;
    const policy &policy_;
    std::map<uid_t, account> accounts_;
    uint32_t connections_ = 0;
    uint32_t max_connections_;
};

} // namespace netring::netringd
