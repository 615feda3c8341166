// The option list (nmreq_push_option, nmreq_find_option, nmreq_remove_option, nmreq_free_options),
// the generic "@option" syntax (nmreq_options_decode) and the port options nmport_parse() knows:
// share needs the device, the others do not (libclient/netmap/nmreq_options.cpp, nmport_options.cpp).
#include "nm_test_ctx.hpp"

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdlib>
#include <map>
#include <string>

namespace {

nmreq_option *new_option(uint32_t type)
{
    auto *o = static_cast<nmreq_option *>(std::calloc(1, sizeof(nmreq_option)));
    o->nro_reqtype = type;
    return o;
}

TEST(NmreqOptionList, PushFindRemoveFree)
{
    nmreq_header h;
    nmreq_header_init(&h, NETMAP_REQ_REGISTER, nullptr);
    nmreq_option *a = new_option(NETMAP_REQ_OPT_EXTMEM);
    nmreq_option *b = new_option(NETMAP_REQ_OPT_OFFSETS);
    nmreq_option *c = new_option(NETMAP_REQ_OPT_CSB);
    nmreq_push_option(&h, a);
    nmreq_push_option(&h, b);
    nmreq_push_option(&h, c);
    EXPECT_EQ(h.nr_options, reinterpret_cast<uintptr_t>(c)); // last pushed first
    EXPECT_EQ(nmreq_find_option(&h, NETMAP_REQ_OPT_OFFSETS), b);
    EXPECT_EQ(nmreq_find_option(&h, NETMAP_REQ_OPT_SYNC_KLOOP_MODE), nullptr);

    nmreq_remove_option(&h, b); // from the middle
    EXPECT_EQ(nmreq_find_option(&h, NETMAP_REQ_OPT_OFFSETS), nullptr);
    EXPECT_EQ(b->nro_next, 0u);
    EXPECT_EQ(c->nro_next, reinterpret_cast<uintptr_t>(a));
    nmreq_remove_option(&h, c); // the head
    EXPECT_EQ(h.nr_options, reinterpret_cast<uintptr_t>(a));
    nmreq_remove_option(&h, c); // not on the list: nothing happens
    EXPECT_EQ(h.nr_options, reinterpret_cast<uintptr_t>(a));
    std::free(b);
    std::free(c);

    int count = 0;
    nmreq_option *o;
    nmreq_foreach_option(&h, o) count++;
    EXPECT_EQ(count, 1);
    nmreq_free_options(&h);
    EXPECT_EQ(h.nr_options, 0u);
}

TEST(NmreqOptionList, Names)
{
    EXPECT_STREQ(nmreq_option_name(NETMAP_REQ_OPT_EXTMEM), "extmem");
    EXPECT_STREQ(nmreq_option_name(NETMAP_REQ_OPT_OFFSETS), "offsets");
    EXPECT_STREQ(nmreq_option_name(NETMAP_REQ_OPT_CSB), "csb");
    EXPECT_STREQ(nmreq_option_name(9999), "unknown");
}

// A parser "opt" with keys a (default, mandatory), b (may be given without a value) and long-key.
struct seen {
    std::map<std::string, std::string> keys;
    int calls = 0;
};

int record_keys(nmreq_parse_ctx *p)
{
    auto *s = static_cast<seen *>(p->token);
    s->calls++;
    const char *names[] = {"a", "b", "long_key"};
    for (int i = 0; i < 3; i++)
        if (p->keys[i] != nullptr)
            s->keys[names[i]] = p->keys[i];
    return 0;
}

struct test_parsers {
    nmreq_opt_parser opt{};
    nmreq_opt_parser flag{};

    test_parsers()
    {
        opt.prefix = "opt";
        opt.parse = record_keys;
        opt.default_key = 0;
        opt.nr_keys = 3;
        opt.keys[0] = {"a", 0, NMREQ_OPTK_DEFAULT | NMREQ_OPTK_MUSTSET};
        opt.keys[1] = {"b", 1, NMREQ_OPTK_ALLOWEMPTY};
        opt.keys[2] = {"long_key", 2, 0};
        opt.next = &flag;
        flag.prefix = "flag";
        flag.parse = record_keys;
        flag.default_key = -1;
        flag.flags = NMREQ_OPTF_ALLOWEMPTY;
    }
};

TEST(NmreqOptionsDecode, Syntax)
{
    recording_ctx rc;
    test_parsers tp;
    seen s;
    ASSERT_EQ(nmreq_options_decode("@opt:a=1,b,long-key=x@flag@opt=7", &tp.opt, &s, rc.get()), 0)
        << rc.last_error();
    EXPECT_EQ(s.calls, 3);
    EXPECT_EQ(s.keys["a"], "7"); // the last option wins in this recorder
    EXPECT_EQ(s.keys["b"], "b"); // a key given alone reads as its own name
    EXPECT_EQ(s.keys["long_key"], "x");
    EXPECT_EQ(nmreq_options_decode("", &tp.opt, &s, rc.get()), 0);
    EXPECT_TRUE(rc.errors.empty());
}

TEST(NmreqOptionsDecode, Errors)
{
    struct bad_case {
        const char *text;
        int error;
        const char *says;
    };
    const bad_case cases[] = {
        {"opt=1", EINVAL, "must start with '@'"},
        {"@", EINVAL, "empty option"},
        {"@opt=1@", EINVAL, "empty option"},
        {"@nope=1", EINVAL, "unknown option 'nope'"},
        {"@opt", EINVAL, "needs a value"},
        {"@opt=", EINVAL, "empty value"},
        {"@opt:b", EINVAL, "key 'a' must be given"},
        {"@opt:a=1,a=2", EINVAL, "given twice"},
        {"@opt:a=1,zz=2", EINVAL, "unknown key 'zz'"},
        {"@opt:a", EINVAL, "needs '=value'"},
        {"@opt:a=1,", EINVAL, "empty key"},
        {"@flag=1", EINVAL, "no default key"},
    };
    for (const bad_case &c : cases) {
        recording_ctx rc;
        test_parsers tp;
        seen s;
        errno = 0;
        EXPECT_EQ(nmreq_options_decode(c.text, &tp.opt, &s, rc.get()), -1) << c.text;
        EXPECT_EQ(errno, c.error) << c.text;
        EXPECT_NE(rc.last_error().find(c.says), std::string::npos) << c.text << ": " << rc.last_error();
    }
}

TEST(NmreqOptionsDecode, DisabledParserFailsWithEopnotsupp)
{
    recording_ctx rc;
    test_parsers tp;
    tp.flag.flags |= NMREQ_OPTF_DISABLED;
    seen s;
    errno = 0;
    EXPECT_EQ(nmreq_options_decode("@flag", &tp.opt, &s, rc.get()), -1);
    EXPECT_EQ(errno, EOPNOTSUPP);
    EXPECT_EQ(s.calls, 0);
}

// ---- the options of nmport_parse() ----

struct port_fixture : ::testing::Test {
    recording_ctx rc;
    nmctx *previous = nullptr;
    void SetUp() override { previous = nmctx_set_default(rc.get()); }
    void TearDown() override { nmctx_set_default(previous); }
};

using NmportParse = port_fixture;

TEST_F(NmportParse, FillsHeaderAndRegister)
{
    nmport_d *d = nmport_prepare("netmap:eth0-3/x@conf:rings=4,tx-slots=512,host-rings=2");
    ASSERT_NE(d, nullptr) << rc.last_error();
    EXPECT_STREQ(d->hdr.nr_name, "eth0");
    EXPECT_EQ(d->hdr.nr_version, NETMAP_API);
    EXPECT_EQ(d->hdr.nr_reqtype, NETMAP_REQ_REGISTER);
    EXPECT_EQ(d->hdr.nr_body, reinterpret_cast<uintptr_t>(&d->reg));
    EXPECT_EQ(d->reg.nr_mode, uint32_t{NR_REG_ONE_NIC});
    EXPECT_EQ(d->reg.nr_ringid, 3);
    EXPECT_EQ(d->reg.nr_flags, uint64_t{NR_EXCLUSIVE});
    EXPECT_EQ(d->reg.nr_tx_rings, 4);
    EXPECT_EQ(d->reg.nr_rx_rings, 4);
    EXPECT_EQ(d->reg.nr_tx_slots, 512u); // the specific key
    EXPECT_EQ(d->reg.nr_rx_slots, 0u);   // left to the port
    EXPECT_EQ(d->reg.nr_host_tx_rings, 2);
    EXPECT_EQ(d->reg.nr_host_rx_rings, 2);
    EXPECT_EQ(d->fd, -1);
    EXPECT_EQ(d->ctx, rc.get());
    nmport_undo_prepare(d);
}

TEST_F(NmportParse, SpecificConfKeysOverrideGeneralOnes)
{
    nmport_d *d = nmport_prepare("vale0:p@conf:rx-rings=1,rings=3,slots=64,rx-slots=32");
    ASSERT_NE(d, nullptr) << rc.last_error();
    EXPECT_EQ(d->reg.nr_tx_rings, 3);
    EXPECT_EQ(d->reg.nr_rx_rings, 1);
    EXPECT_EQ(d->reg.nr_tx_slots, 64u);
    EXPECT_EQ(d->reg.nr_rx_slots, 32u);
    nmport_undo_prepare(d);
    d = nmport_prepare("vale0:p@conf=2");
    ASSERT_NE(d, nullptr) << rc.last_error();
    EXPECT_EQ(d->reg.nr_tx_rings, 2);
    EXPECT_EQ(d->reg.nr_rx_rings, 2);
    nmport_undo_prepare(d);
}

TEST_F(NmportParse, BadConfValuesAreErrors)
{
    for (const char *spec :
         {"netmap:eth0@conf:rings=x", "netmap:eth0@conf:rings=70000", "netmap:eth0@conf:slots=-1"}) {
        errno = 0;
        EXPECT_EQ(nmport_prepare(spec), nullptr) << spec;
        EXPECT_EQ(errno, EINVAL) << spec;
    }
}

TEST_F(NmportParse, ExtmemIsRefused)
{
    errno = 0;
    EXPECT_EQ(nmport_prepare("netmap:eth0@extmem:file=/tmp/x"), nullptr);
    EXPECT_EQ(errno, EOPNOTSUPP);
    EXPECT_NE(rc.last_error().find("extmem"), std::string::npos) << rc.last_error();

    nmport_d *d = nmport_prepare("netmap:eth0");
    ASSERT_NE(d, nullptr);
    char area[64];
    errno = 0;
    EXPECT_EQ(nmport_extmem(d, area, sizeof area), -1);
    EXPECT_EQ(errno, EOPNOTSUPP);
    EXPECT_EQ(nmport_extmem_from_file(d, "/tmp/x"), -1);
    EXPECT_EQ(errno, EOPNOTSUPP);
    EXPECT_EQ(nmport_extmem_getinfo(d), nullptr);
    nmport_undo_prepare(d);
}

TEST_F(NmportParse, OffsetOptionIsOffUntilEnabled)
{
    errno = 0;
    EXPECT_EQ(nmport_prepare("netmap:eth0@offset=64"), nullptr);
    EXPECT_EQ(errno, EOPNOTSUPP);

    ASSERT_EQ(nmport_enable_option("offset"), 0);
    nmport_d *d = nmport_prepare("netmap:eth0@offset:initial=64,bits=11");
    nmport_disable_option("offset");
    ASSERT_NE(d, nullptr) << rc.last_error();
    auto *o = reinterpret_cast<nmreq_opt_offsets *>(nmreq_find_option(&d->hdr, NETMAP_REQ_OPT_OFFSETS));
    ASSERT_NE(o, nullptr);
    EXPECT_EQ(o->nro_initial_offset, 64u);
    EXPECT_EQ(o->nro_max_offset, 64u);
    EXPECT_EQ(o->nro_offset_bits, 11u);
    nmport_undo_parse(d); // removes and frees the option it added
    EXPECT_EQ(d->hdr.nr_options, 0u);
    EXPECT_EQ(d->hdr.nr_body, reinterpret_cast<uintptr_t>(&d->reg));
    nmport_delete(d);
}

TEST_F(NmportParse, EnableUnknownOptionFails)
{
    errno = 0;
    EXPECT_EQ(nmport_enable_option("no-such-option"), -1);
    EXPECT_EQ(errno, EOPNOTSUPP);
    nmport_disable_option("no-such-option"); // a no-op
}

TEST_F(NmportParse, NmportOffsetChecksItsArguments)
{
    nmport_d *d = nmport_prepare("netmap:eth0");
    ASSERT_NE(d, nullptr);
    EXPECT_EQ(nmport_offset(d, 128, 64, 0, 0), -1); // initial above max
    EXPECT_EQ(errno, EINVAL);
    EXPECT_EQ(nmport_offset(d, 0, 256, 0, 0), 0);
    EXPECT_EQ(nmport_offset(d, 0, 256, 0, 0), -1); // only one offsets option
    EXPECT_EQ(errno, EINVAL);
    nmport_undo_prepare(d);
}

TEST_F(NmportParse, ErrorLeavesTheDescriptorAsNew)
{
    nmport_d *d = nmport_new();
    ASSERT_NE(d, nullptr);
    errno = 0;
    EXPECT_EQ(nmport_parse(d, "netmap:eth0-1@conf:bogus=1"), -1);
    EXPECT_EQ(errno, EINVAL);
    EXPECT_STREQ(d->hdr.nr_name, "");
    EXPECT_EQ(d->reg.nr_mode, 0u);
    EXPECT_EQ(d->hdr.nr_options, 0u);
    EXPECT_EQ(nmport_parse(d, "netmap:eth1*"), 0); // still usable
    EXPECT_STREQ(d->hdr.nr_name, "eth1");
    EXPECT_EQ(d->reg.nr_mode, uint32_t{NR_REG_NIC_SW});
    nmport_undo_prepare(d);
}

TEST_F(NmportParse, CloneCopiesTheRequestButNotTheOptions)
{
    ASSERT_EQ(nmport_enable_option("offset"), 0);
    nmport_d *d = nmport_prepare("netmap:eth0^1/R@7@offset=8");
    nmport_disable_option("offset");
    ASSERT_NE(d, nullptr) << rc.last_error();
    nmport_d *c = nmport_clone(d);
    ASSERT_NE(c, nullptr);
    EXPECT_STREQ(c->hdr.nr_name, "eth0");
    EXPECT_EQ(c->hdr.nr_body, reinterpret_cast<uintptr_t>(&c->reg));
    EXPECT_EQ(c->hdr.nr_options, 0u);
    EXPECT_EQ(c->reg.nr_mode, uint32_t{NR_REG_ONE_SW});
    EXPECT_EQ(c->reg.nr_ringid, 1);
    EXPECT_EQ(c->reg.nr_flags, uint64_t{NR_RX_RINGS_ONLY});
    EXPECT_EQ(c->reg.nr_mem_id, 7);
    EXPECT_EQ(c->fd, -1);
    EXPECT_EQ(c->register_done, 0);
    EXPECT_EQ(c->ctx, d->ctx);
    nmport_undo_prepare(c);
    nmport_undo_prepare(d);
}

TEST_F(NmportParse, RegisterAndMmapRefuseOutOfOrder)
{
    nmport_d *d = nmport_prepare("netmap:eth0");
    ASSERT_NE(d, nullptr);
    errno = 0;
    EXPECT_EQ(nmport_mmap(d), -1);
    EXPECT_EQ(errno, EINVAL);
    EXPECT_NE(rc.last_error().find("not registered"), std::string::npos) << rc.last_error();
    EXPECT_EQ(nmport_inject(d, "x", 1), 0); // nothing mapped: nothing sent
    nmport_undo_prepare(d);
}

} // namespace
