// nmreq_header_decode / nmreq_register_decode / nmreq_ringid_to_str (libclient/netmap/nmreq_decode.cpp):
// every portspec form netmap documents, the errors (errno EINVAL, outputs and input untouched, a
// message through the context), and the round trip from a request back to its text.
#include "nm_test_ctx.hpp"

#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace {

struct header_result {
    int ret;
    std::string name;
    std::string rest;
};

header_result decode_header(const char *spec, recording_ctx &rc)
{
    nmreq_header hdr;
    nmreq_header_init(&hdr, NETMAP_REQ_REGISTER, nullptr);
    const char *scan = spec;
    const int ret = nmreq_header_decode(&scan, &hdr, rc.get());
    return {ret, hdr.nr_name, scan};
}

TEST(NmreqHeaderDecode, NetmapPrefixIsDropped)
{
    recording_ctx rc;
    const header_result r = decode_header("netmap:eth0", rc);
    EXPECT_EQ(r.ret, 0);
    EXPECT_EQ(r.name, "eth0");
    EXPECT_EQ(r.rest, "");
    EXPECT_TRUE(rc.errors.empty());
}

TEST(NmreqHeaderDecode, StopsAtTheModeAndKeepsDotsInNames)
{
    recording_ctx rc;
    for (const char *sep : {"-1", "*", "^", "^2", "/T", "@2", "@conf:rings=2"}) {
        const std::string spec = std::string("netmap:eth0.100") + sep;
        const header_result r = decode_header(spec.c_str(), rc);
        EXPECT_EQ(r.ret, 0) << spec;
        EXPECT_EQ(r.name, "eth0.100") << spec;
        EXPECT_EQ(r.rest, sep) << spec;
    }
}

TEST(NmreqHeaderDecode, ValeKeepsItsSwitchName)
{
    recording_ctx rc;
    EXPECT_EQ(decode_header("vale0:p1", rc).name, "vale0:p1");
    EXPECT_EQ(decode_header("vale:p1", rc).name, "vale:p1"); // the default switch
    EXPECT_EQ(decode_header("valeA_b:port^", rc).name, "valeA_b:port");
    EXPECT_TRUE(rc.errors.empty());
}

TEST(NmreqHeaderDecode, PipesArePartOfTheName)
{
    recording_ctx rc;
    header_result r = decode_header("netmap:eth0{pipe1-2", rc);
    EXPECT_EQ(r.name, "eth0{pipe1");
    EXPECT_EQ(r.rest, "-2");
    r = decode_header("vale1:x}3", rc);
    EXPECT_EQ(r.name, "vale1:x}3");
}

TEST(NmreqHeaderDecode, InvalidSpecsFailWithEinvalAndLeaveEverythingUntouched)
{
    const char *bad[] = {
        "eth0",            // no subsystem
        "netmapx:eth0",    // identifier after netmap
        "netmap",          // no ':'
        "vale0p1",         // no ':'
        "vale-0:p1",       // invalid switch name
        "netmap:",         // empty port name
        "netmap:-1",       // empty port name before the mode
        "netmap:eth0{",    // empty pipe name
        "netmap:eth0{a.b", // invalid pipe name
        "netmap:eth0}-1",  // empty pipe name before the mode
    };
    for (const char *spec : bad) {
        recording_ctx rc;
        nmreq_header hdr;
        std::memset(&hdr, 0xa5, sizeof hdr);
        nmreq_header before = hdr;
        const char *scan = spec;
        errno = 0;
        EXPECT_EQ(nmreq_header_decode(&scan, &hdr, rc.get()), -1) << spec;
        EXPECT_EQ(errno, EINVAL) << spec;
        EXPECT_EQ(scan, spec) << spec;
        EXPECT_EQ(std::memcmp(&hdr, &before, sizeof hdr), 0) << spec;
        EXPECT_EQ(rc.errors.size(), 1u) << spec;
    }
}

TEST(NmreqHeaderDecode, NameTooLong)
{
    recording_ctx rc;
    const std::string spec = "netmap:" + std::string(NETMAP_REQ_IFNAMSIZ, 'a');
    EXPECT_EQ(decode_header(spec.c_str(), rc).ret, -1);
    EXPECT_EQ(errno, EINVAL);
    EXPECT_NE(rc.last_error().find("longer than 63"), std::string::npos) << rc.last_error();
    const std::string longest = "netmap:" + std::string(NETMAP_REQ_IFNAMSIZ - 1, 'a');
    EXPECT_EQ(decode_header(longest.c_str(), rc).ret, 0);
}

TEST(NmreqHeaderDecode, MessageNamesTheSpec)
{
    recording_ctx rc;
    decode_header("foo:eth0", rc);
    ASSERT_EQ(rc.errors.size(), 1u);
    EXPECT_NE(rc.errors[0].find("foo:eth0"), std::string::npos) << rc.errors[0];
}

struct mode_case {
    const char *mode;
    uint32_t nr_mode;
    uint16_t ringid;
    uint64_t flags;
    uint16_t mem_id;
    const char *rest;
};

class NmreqRegisterDecode : public ::testing::TestWithParam<mode_case> {};

TEST_P(NmreqRegisterDecode, ValidModes)
{
    const mode_case &c = GetParam();
    recording_ctx rc;
    nmreq_register reg{};
    reg.nr_tx_slots = 77; // not a mode field: must survive
    const char *scan = c.mode;
    ASSERT_EQ(nmreq_register_decode(&scan, &reg, rc.get()), 0) << c.mode << ": " << rc.last_error();
    EXPECT_EQ(reg.nr_mode, c.nr_mode);
    EXPECT_EQ(reg.nr_ringid, c.ringid);
    EXPECT_EQ(reg.nr_flags, c.flags);
    EXPECT_EQ(reg.nr_mem_id, c.mem_id);
    EXPECT_EQ(reg.nr_tx_slots, 77u);
    EXPECT_STREQ(scan, c.rest);
}

INSTANTIATE_TEST_SUITE_P(
    AllForms, NmreqRegisterDecode,
    ::testing::Values(mode_case{"", NR_REG_ALL_NIC, 0, 0, 0, ""}, mode_case{"^", NR_REG_SW, 0, 0, 0, ""},
                      mode_case{"^3", NR_REG_ONE_SW, 3, 0, 0, ""}, mode_case{"*", NR_REG_NIC_SW, 0, 0, 0, ""},
                      mode_case{"-0", NR_REG_ONE_NIC, 0, 0, 0, ""},
                      mode_case{"-17", NR_REG_ONE_NIC, 17, 0, 0, ""},
                      mode_case{"/x", NR_REG_ALL_NIC, 0, NR_EXCLUSIVE, 0, ""},
                      mode_case{"-2/zT", NR_REG_ONE_NIC, 2, NR_ZCOPY_MON | NR_TX_RINGS_ONLY, 0, ""},
                      mode_case{"/trR", NR_REG_ALL_NIC, 0, NR_MONITOR_TX | NR_MONITOR_RX | NR_RX_RINGS_ONLY,
                                0, ""},
                      mode_case{"@5", NR_REG_ALL_NIC, 0, 0, 5, ""},
                      mode_case{"*@2/x", NR_REG_NIC_SW, 0, NR_EXCLUSIVE, 2, ""},
                      mode_case{"^1/R@3", NR_REG_ONE_SW, 1, NR_RX_RINGS_ONLY, 3, ""},
                      mode_case{"@conf:rings=4", NR_REG_ALL_NIC, 0, 0, 0, "@conf:rings=4"},
                      mode_case{"-1@share=netmap:eth1", NR_REG_ONE_NIC, 1, 0, 0, "@share=netmap:eth1"},
                      mode_case{"/x@offset=64", NR_REG_ALL_NIC, 0, NR_EXCLUSIVE, 0, "@offset=64"},
                      mode_case{"/@conf=2", NR_REG_ALL_NIC, 0, 0, 0, "@conf=2"},
                      mode_case{"@2@conf=2", NR_REG_ALL_NIC, 0, 0, 2, "@conf=2"}));

TEST(NmreqRegisterDecodeErrors, InvalidModesFailWithEinvalAndLeaveRegUntouched)
{
    const char *bad[] = {
        "-",                     // ring number missing
        "-x",                    // not a number
        "-4095",                 // out of range (NETMAP_RING_MASK)
        "-99999999999999999999", // overflow
        "/",                     // no flags
        "/q",                    // unknown flag
        "/x/z",                  // a second '/' is not a flag
        "*-1",                   // two ring selections
        "^*",                    // two ring selections
        "x",                     // unknown selection
        "@",                     // empty memory region id
        "@0",                    // ids start at 1
        "@70000",                // does not fit nr_mem_id
        "-1x",                   // junk after the ring number
    };
    for (const char *mode : bad) {
        recording_ctx rc;
        nmreq_register reg;
        std::memset(&reg, 0x5a, sizeof reg);
        reg.nr_mem_id = 0;
        nmreq_register before = reg;
        const char *scan = mode;
        errno = 0;
        EXPECT_EQ(nmreq_register_decode(&scan, &reg, rc.get()), -1) << mode;
        EXPECT_EQ(errno, EINVAL) << mode;
        EXPECT_EQ(scan, mode) << mode;
        EXPECT_EQ(std::memcmp(&reg, &before, sizeof reg), 0) << mode;
        EXPECT_FALSE(rc.errors.empty()) << mode;
    }
}

TEST(NmreqRegisterDecodeErrors, MemIdMayRepeatButNotChange)
{
    recording_ctx rc;
    nmreq_register reg{};
    reg.nr_mem_id = 3;
    const char *same = "@3";
    EXPECT_EQ(nmreq_register_decode(&same, &reg, rc.get()), 0);
    EXPECT_EQ(reg.nr_mem_id, 3);
    const char *other = "@4";
    EXPECT_EQ(nmreq_register_decode(&other, &reg, rc.get()), -1);
    EXPECT_EQ(errno, EINVAL);
    EXPECT_EQ(reg.nr_mem_id, 3);
    EXPECT_NE(rc.last_error().find("contradicts"), std::string::npos) << rc.last_error();
}

TEST(NmreqRegisterDecodeErrors, SilentContextStaysSilent)
{
    recording_ctx rc;
    rc.ctx.verbose = 0;
    nmreq_register reg{};
    const char *mode = "/q";
    EXPECT_EQ(nmreq_register_decode(&mode, &reg, rc.get()), -1);
    EXPECT_TRUE(rc.errors.empty());
}

std::string ringid_str(const nmreq_register &reg)
{
    char buf[64];
    const char *s = nmreq_ringid_to_str(&reg, buf, sizeof buf);
    return s ? s : "<null>";
}

TEST(NmreqRingidToStr, WritesWhatTheDecoderReads)
{
    for (const char *mode : {"", "^", "^3", "*", "-5", "/x", "-2/zT", "/trR", "@5", "*/x@2", "^1/R@3"}) {
        recording_ctx rc;
        nmreq_register reg{};
        const char *scan = mode;
        ASSERT_EQ(nmreq_register_decode(&scan, &reg, rc.get()), 0) << mode;
        const std::string text = ringid_str(reg);
        nmreq_register again{};
        scan = text.c_str();
        ASSERT_EQ(nmreq_register_decode(&scan, &again, rc.get()), 0) << text;
        EXPECT_EQ(again.nr_mode, reg.nr_mode) << mode << " -> " << text;
        EXPECT_EQ(again.nr_ringid, reg.nr_ringid) << mode << " -> " << text;
        EXPECT_EQ(again.nr_flags, reg.nr_flags) << mode << " -> " << text;
        EXPECT_EQ(again.nr_mem_id, reg.nr_mem_id) << mode << " -> " << text;
    }
}

TEST(NmreqRingidToStr, ExactText)
{
    nmreq_register reg{};
    reg.nr_mode = NR_REG_ONE_NIC;
    reg.nr_ringid = 7;
    reg.nr_flags = NR_EXCLUSIVE | NR_TX_RINGS_ONLY;
    reg.nr_mem_id = 2;
    EXPECT_EQ(ringid_str(reg), "-7/xT@2");
    reg = {};
    reg.nr_mode = NR_REG_ALL_NIC;
    EXPECT_EQ(ringid_str(reg), "");
}

TEST(NmreqRingidToStr, ReportsShortBuffersAndUnknownModes)
{
    nmreq_register reg{};
    reg.nr_mode = NR_REG_ONE_NIC;
    reg.nr_ringid = 1234;
    char small[4];
    errno = 0;
    EXPECT_EQ(nmreq_ringid_to_str(&reg, small, sizeof small), nullptr);
    EXPECT_EQ(errno, ENOSPC);
    reg.nr_mode = NR_REG_PIPE_MASTER; // replaced by the "x{y" name syntax: no mode text
    char buf[16];
    errno = 0;
    EXPECT_EQ(nmreq_ringid_to_str(&reg, buf, sizeof buf), nullptr);
    EXPECT_EQ(errno, EINVAL);
}

} // namespace
