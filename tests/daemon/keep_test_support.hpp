// What registry_keep_test and switch_keep_test share: a small configuration, a REGIF request, and
// the check that each of a list of damages refuses a whole kept state.
#pragma once

#include "passed_fds.hpp"
#include "policy.hpp"
#include "registry.hpp"

#include <gtest/gtest.h>

#include <rings/region_format.hpp>
#include <rings/ring_ops.hpp>

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace netring::netringd::keep_test {

inline config small_config()
{
    return parse_config("buf_size 2048\nregion_buffers 1024\nregion_meta_bytes 1048576\ndefault_slots 64\n"
                        "allow uid=1000 netmap:k*\nallow uid=1001 netmap:k*\nallow uid=1000 vale*\n",
                        "registry_keep_test");
}

inline proto::regif request(const char *name)
{
    proto::regif r{};
    proto::set_text(r.port_name, sizeof r.port_name, name);
    return r;
}

struct damage {
    const char *what;
    std::function<void(kept_state &)> apply;
};

// Each damage, applied alone to `kept`, refuses the whole state with a sentence and leaves an
// empty registry, in which `cold` (a port the configuration allows uid 1000) can be registered.
inline void expect_each_refused(const kept_state &kept, const std::vector<std::pair<uint32_t, int>> &ids,
                         const std::vector<damage> &cases, const char *cold)
{
    const config cfg = small_config();
    const policy pol{cfg, 0};
    for (const damage &d : cases) {
        SCOPED_TRACE(d.what);
        kept_state k = kept;
        d.apply(k);
        passed_fds fds(ids);
        registry fresh(cfg, pol);
        const status s = fresh.adopt_state(k, fds.taker(), 0);
        ASSERT_FALSE(s.ok());
        EXPECT_FALSE(s.err().message.empty());
        EXPECT_EQ(fresh.registrations(), 0u);
        EXPECT_EQ(fresh.ports(), 0u);
        EXPECT_EQ(fresh.regions(), 0u);
        EXPECT_TRUE(fresh.switches().empty());
        auto c = fresh.register_port({1, 1000, 1000, 1}, request(cold));
        EXPECT_TRUE(c.ok()) << c.err().describe();
    }
}

// Ring `i` of registration `r`'s if block, in the mapping of its region.
inline rings::ring_ref ring_of(const registered &r, size_t i)
{
    const region &mem = *r.a.mem;
    rings::checked_if ci;
    EXPECT_EQ(rings::check_if_block(mem.base(), mem.geometry(), r.a.if_offset, &ci), "");
    return {reinterpret_cast<nr_ring *>(mem.base() + ci.rings.at(i).ring_off),
            reinterpret_cast<nr_sync *>(mem.base() + ci.rings.at(i).sync_off), ci.rings.at(i).num_slots};
}

} // namespace netring::netringd::keep_test
