// Objective: one uid cannot lock out the others. Each of a uid's quotas (connections,
// registrations, regions, buffers) stops that uid with an error naming the quota and the uid's
// use, and while it holds all it was given, another unprivileged uid and root can still open a new
// pipe (and move checked traffic over it), a new switch port, and run `netring-ctl status`. A flood
// of idle connections from one uid is cut at its connection quota, does not stop the others, and
// the admitted idle connections are closed after idle_timeout_s.
// Steps: netringd with small quotas (per-uid defaults, and a `quota uid=` rule for the buffer
// case); quota_hog runs as the hostile uid and takes everything of one kind; then uid 65533 runs a
// netring-pktgen pair over a fresh pipe (2000 frames, sequence and payload checked), a pktgen
// sender on a fresh switch port and netring-ctl status (which lists the hostile uid's use), and
// root opens a pipe end and a switch port in-process and reads STATS.
#include "harness.hpp"

#include <csignal>
#include <cstdlib>
#include <string>

namespace netring::itest {
namespace {

using namespace std::chrono_literals;

constexpr uid_t other_uid = 65533;

class quota : public daemon_test {
protected:
    std::string config_text() const override
    {
        return default_limits() +
               "allow * netmap:pipe*\n"
               "allow * netmap:hog*\n"
               "allow * vale*\n"
               "uid_max_connections 6\n"
               "uid_max_registrations 4\n"
               "uid_max_regions 3\n"
               "uid_max_buffers 1000000\n"
               "quota uid=65530 buffers 40000\n" // config line 14: one region of 32768 fits, two do not
               "idle_timeout_s 2\n";
    }

    std::unique_ptr<child> as_uid(uid_t uid, std::vector<std::string> argv)
    {
        const std::string id = std::to_string(uid);
        argv.insert(argv.begin(), {"setpriv", "--reuid=" + id, "--regid=" + id, "--clear-groups", "--"});
        return spawn(argv, false);
    }

    // quota_hog as `uid`; returns it once it has said what it got (its report line in `line`).
    std::unique_ptr<child> hog(uid_t uid, const std::string &kind, int n, std::string &line)
    {
        auto h = as_uid(
            uid, {binary_path("/tests/integration/quota_hog"), socket_path(), kind, std::to_string(n)});
        EXPECT_TRUE(h);
        if (!h)
            return h;
        const bool said =
            eventually([&] { return h->read_err().find("hog " + kind) != std::string::npos; }, 60s);
        EXPECT_TRUE(said) << "quota_hog did not report: " << h->read_err();
        line = h->read_err();
        return h;
    }

    // The fields of quota_hog's report line. (No std::regex: GCC 12 warns inside it under ASan.)
    static std::string refusal(const std::string &line)
    {
        const std::string key = "refused=\"";
        const size_t at = line.find(key);
        if (at == std::string::npos)
            return "";
        const size_t end = line.find('"', at + key.size());
        return line.substr(at + key.size(),
                           end == std::string::npos ? std::string::npos : end - at - key.size());
    }
    static long admitted(const std::string &line)
    {
        const std::string key = "admitted=";
        const size_t at = line.find(key);
        return at == std::string::npos ? -1 : std::strtol(line.c_str() + at + key.size(), nullptr, 10);
    }

    // Everything another uid and root must still be able to do. `tag` keeps the names fresh.
    void others_still_work(const std::string &tag, uid_t hostile)
    {
        SCOPED_TRACE("others while uid " + std::to_string(hostile) + " holds its quota (" + tag + ")");
        const std::string pipe = "netmap:pipeQ" + tag;
        const std::string pktgen_bin = binary_path("/tools/netring-pktgen");
        auto rx = as_uid(other_uid, {pktgen_bin, "--socket", socket_path(), "-i", pipe + "}1", "-f", "rx",
                                     "-n", "2000", "-T", "60", "--json"});
        ASSERT_TRUE(rx);
        ASSERT_TRUE(wait_registered(rx->pid())) << "uid 65533 could not open a pipe: " << rx->read_err();
        auto tx = as_uid(other_uid, {pktgen_bin, "--socket", socket_path(), "-i", pipe + "{1", "-f", "tx",
                                     "-n", "2000", "--json"});
        ASSERT_TRUE(tx);
        const child_result t = tx->wait(120s);
        const child_result r = rx->wait(120s);
        ASSERT_TRUE(t.exited && t.exit_code == 0) << "tx: " << t.describe();
        ASSERT_TRUE(r.exited && r.exit_code == 0) << "rx: " << r.describe();
        EXPECT_EQ(json_number(r.out, "packets"), 2000.0) << r.out;
        EXPECT_EQ(json_number(r.out, "lost"), 0.0) << r.out;
        EXPECT_EQ(json_number(r.out, "corrupt"), 0.0) << r.out;

        auto sw = as_uid(other_uid, {pktgen_bin, "--socket", socket_path(), "-i", "vale0:q" + tag, "-f", "tx",
                                     "-n", "100", "--json"});
        ASSERT_TRUE(sw);
        const child_result s = sw->wait(60s);
        EXPECT_TRUE(s.exited && s.exit_code == 0)
            << "uid 65533 could not use a new switch port: " << s.describe();
        EXPECT_EQ(json_number(s.out, "packets"), 100.0) << s.out;

        auto st = as_uid(other_uid, {binary_path("/tools/netring-ctl"), "--socket", socket_path(), "status"});
        ASSERT_TRUE(st);
        const child_result c = st->wait(60s);
        EXPECT_TRUE(c.exited && c.exit_code == 0) << "netring-ctl status as uid 65533: " << c.describe();
        EXPECT_NE(c.out.find("\n  " + std::to_string(hostile) + " "), std::string::npos)
            << "status does not list the hostile uid's use:\n"
            << c.out;

        auto p = port::open("netmap:pipeRoot" + tag + "{1", options());
        EXPECT_TRUE(p) << "root could not open a pipe: " << (p ? "" : p.err().describe());
        auto v = port::open("vale0:root" + tag, options());
        EXPECT_TRUE(v) << "root could not open a switch port: " << (v ? "" : v.err().describe());
        EXPECT_FALSE(stats().regions.empty());
    }

    void exhaust(uid_t uid, const std::string &kind, const std::string &want_refusal, long want_admitted)
    {
        std::string line;
        auto h = hog(uid, kind, 50, line);
        ASSERT_TRUE(h);
        EXPECT_EQ(admitted(line), want_admitted) << line;
        EXPECT_NE(refusal(line).find(want_refusal), std::string::npos) << line;
        others_still_work(kind.substr(0, 3), uid);
        EXPECT_TRUE(h->running()) << "the hog must still hold its share: " << h->read_err();
        h->signal(SIGKILL);
        (void)h->wait(10s);
    }
};

TEST_F(quota, connections_quota_stops_one_uid_only)
{
    exhaust(65534, "connections", "uid 65534 holds 6 connections (uid_max_connections 6)", 6);
}

TEST_F(quota, registrations_quota_stops_one_uid_only)
{
    exhaust(65532, "registrations", "uid 65532 holds 4 registrations (uid_max_registrations 4)", 4);
}

TEST_F(quota, regions_quota_stops_one_uid_only)
{
    exhaust(65531, "regions",
            "cannot create region pipe:hogregion3: uid 65531 holds 3 regions (uid_max_regions 3)", 3);
}

TEST_F(quota, buffers_quota_stops_one_uid_only)
{
    exhaust(65530, "regions",
            "uid 65530 holds 32768 buffers (config line 14 allows 40000); this needs 32768 more", 1);
}

TEST_F(quota, idle_connection_flood_is_capped_and_timed_out)
{
    std::string line;
    auto h = hog(65534, "idle", 300, line);
    ASSERT_TRUE(h);
    EXPECT_EQ(admitted(line), 6) << line;
    EXPECT_NE(refusal(line).find("uid 65534 holds 6 connections"), std::string::npos) << line;
    others_still_work("idl", 65534);
    // The six admitted connections hold nothing and send nothing: idle_timeout_s closes them.
    EXPECT_TRUE(
        eventually([&] { return h->read_err().find("closed_by_daemon=6") != std::string::npos; }, 60s))
        << h->read_err();
    // And their uid may connect again.
    EXPECT_TRUE(stats().version >= 1);
    h->signal(SIGKILL);
    (void)h->wait(10s);
}

} // namespace
} // namespace netring::itest
