// registry_keep.cpp: a registry's pipes and their registrations, exported and adopted by a second
// registry as a successor process would (its fds are duplicates of the first one's). The adopted
// registrations wait for their owners; REATTACH needs the token and the uid; the pipe's memory and
// eventfds are the same objects; frames queued in a ring before the handoff are still there.
// Records that do not fit the region (a ring outside the metadata, a buffer outside the pool, a
// missing fd, a registration without its pipe) refuse the whole state and leave the registry empty.
#include "policy.hpp"
#include "registry.hpp"

#include <gtest/gtest.h>

#include <netring/layout.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <map>
#include <string>

namespace netring::netringd {
namespace {

config small_config()
{
    return parse_config("buf_size 2048\nregion_buffers 1024\nregion_meta_bytes 1048576\ndefault_slots 64\n"
                        "allow uid=1000 netmap:k*\nallow uid=1001 netmap:k*\n",
                        "registry_keep_test");
}

proto::regif request(const char *name)
{
    proto::regif r{};
    proto::set_text(r.port_name, sizeof r.port_name, name);
    return r;
}

ino_t inode_of(int fd)
{
    struct stat st{};
    return ::fstat(fd, &st) == 0 ? st.st_ino : 0;
}

// What a successor process receives: a duplicate of every kept fd, by id.
struct passed_fds {
    std::map<uint32_t, unique_fd> by_id;

    explicit passed_fds(const std::vector<std::pair<uint32_t, int>> &ids)
    {
        for (const auto &[id, fd] : ids)
            by_id.emplace(id, unique_fd(::dup(fd)));
    }
    std::function<unique_fd(uint32_t)> taker()
    {
        return [this](uint32_t id) {
            auto it = by_id.find(id);
            return it == by_id.end() ? unique_fd() : std::move(it->second);
        };
    }
};

class registry_keep : public ::testing::Test {
protected:
    void SetUp() override
    {
        a = old_reg.register_port({7, 1000, 1000, 111}, request("netmap:kp{1"));
        ASSERT_TRUE(a.ok()) << a.err().describe();
        b = old_reg.register_port({8, 1001, 1001, 222}, request("netmap:kp}1"));
        ASSERT_TRUE(b.ok()) << b.err().describe();
        // A monitor and a pipe on an interface-named parent would not be kept; a plain pipe is.
        kept = old_reg.export_state(ids);
    }

    const config cfg = small_config();
    const policy pol{cfg, 0};
    registry old_reg{cfg, pol};
    result<registered> a = error::from(errc::internal, "");
    result<registered> b = error::from(errc::internal, "");
    std::vector<std::pair<uint32_t, int>> ids;
    kept_state kept;
};

TEST_F(registry_keep, the_successor_adopts_the_pipe_and_only_owners_with_tokens_get_it_back)
{
    ASSERT_EQ(kept.regions.size(), 1u);
    ASSERT_EQ(kept.pipes.size(), 1u);
    ASSERT_EQ(kept.registrations.size(), 2u);
    // A frame queued on a's tx ring before the handoff.
    const region &mem = *a->a.mem;
    auto *nifp = reinterpret_cast<nr_if *>(mem.base() + a->a.if_offset);
    auto *tx = reinterpret_cast<nr_ring *>(reinterpret_cast<char *>(nifp) + nifp->ring_ofs[0]);
    tx->slot[tx->head].len = 77;
    tx->head = tx->cur = (tx->head + 1) % tx->num_slots;

    passed_fds fds(ids);
    registry fresh(cfg, pol);
    ASSERT_TRUE(fresh.adopt_state(kept, fds.taker(), 100).ok());
    EXPECT_EQ(fresh.registrations(), 2u);
    EXPECT_EQ(fresh.waiting(), 2u);
    auto region = fresh.find_region("pipe:kp");
    ASSERT_TRUE(region);
    EXPECT_EQ(inode_of(region->fd()), inode_of(mem.fd())) << "not the same memory";
    EXPECT_EQ(region->pool().available(), old_reg.find_region("pipe:kp")->pool().available());
    auto *adopted_if = reinterpret_cast<nr_if *>(region->base() + a->a.if_offset);
    auto *adopted_tx = reinterpret_cast<nr_ring *>(reinterpret_cast<char *>(adopted_if) + adopted_if->ring_ofs[0]);
    EXPECT_EQ(adopted_tx->slot[0].len, 77u) << "the queued frame is gone";

    // Another uid, a wrong token, another registration's token: refused alike.
    EXPECT_EQ(fresh.reattach({20, 1001, 1001, 333}, a->reg_id, a->token).err().code,
              make_error_code(errc::not_registered));
    auto wrong = a->token;
    wrong[0] ^= 1;
    EXPECT_EQ(fresh.reattach({20, 1000, 1000, 333}, a->reg_id, wrong).err().code,
              make_error_code(errc::not_registered));
    EXPECT_EQ(fresh.reattach({20, 1000, 1000, 333}, b->reg_id, a->token).err().code,
              make_error_code(errc::not_registered));

    auto back = fresh.reattach({20, 1000, 1000, 333}, a->reg_id, a->token);
    ASSERT_TRUE(back.ok()) << back.err().describe();
    EXPECT_EQ(back->a.if_offset, a->a.if_offset);
    ASSERT_EQ(back->a.fds.size(), a->a.fds.size());
    for (size_t i = 0; i < back->a.fds.size(); i++)
        EXPECT_EQ(inode_of(back->a.fds[i]), inode_of(a->a.fds[i])) << "fd " << i;
    EXPECT_EQ(fresh.waiting(), 1u);
    // Once held, nobody re-attaches it again, not even with the token.
    EXPECT_FALSE(fresh.reattach({21, 1000, 1000, 444}, a->reg_id, a->token).ok());

    // b's client never comes back: released after the timeout, a stays.
    EXPECT_EQ(fresh.expire_waiting(129, 30), 0u);
    EXPECT_EQ(fresh.expire_waiting(130, 30), 1u);
    EXPECT_EQ(fresh.registrations(), 1u);
    // New registrations get ids after the old ones.
    auto c = fresh.register_port({22, 0, 0, 555}, request("netmap:kq{1"));
    ASSERT_TRUE(c.ok()) << c.err().describe();
    EXPECT_GT(c->reg_id, b->reg_id);
}

TEST_F(registry_keep, records_that_do_not_fit_the_region_refuse_everything)
{
    struct damage {
        const char *what;
        std::function<void(kept_state &)> apply;
    };
    const damage cases[] = {
        {"ring outside the metadata", [](kept_state &k) { k.pipes[0].ends[0].tx[0].ring_off = 1ull << 40; }},
        {"buffer outside the pool", [](kept_state &k) { k.pipes[0].bufs[3] = 1u << 30; }},
        {"missing eventfd", [](kept_state &k) { k.pipes[0].ends[1].rx[0].notify_fd_id = 9999; }},
        {"registration without its pipe", [](kept_state &k) { k.registrations[0].key = "pipe:nope{1}"; }},
        {"registration of another geometry", [](kept_state &k) { k.registrations[1].tx_slots = 128; }},
        {"open end with no registration", [](kept_state &k) { k.registrations.pop_back(); }},
        {"region fd missing", [](kept_state &k) { k.regions[0].fd_id = 9999; }},
        {"free list past the pool", [](kept_state &k) { k.regions[0].bufs_free.push_back({1u << 30, 1}); }},
        {"region of another size", [](kept_state &k) { k.regions[0].num_buffers *= 2; }},
    };
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
        // The cold registry works.
        auto c = fresh.register_port({1, 0, 0, 1}, request("netmap:kp{1"));
        EXPECT_TRUE(c.ok()) << c.err().describe();
    }
}

} // namespace
} // namespace netring::netringd
