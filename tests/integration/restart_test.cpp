// Objective: a planned restart of netringd (RESTART, netring-ctl restart) keeps pipes and their
// registrations: the data never stops, every client re-attaches to the same memory with the token
// REGIF gave it, and nobody else can take a registration over.
// Steps:
//  - tokens: two raw protocol clients (root) register the ends of a pipe and keep their tokens and
//    region fds; an admin sends RESTART; once a younger netringd answers STATS, both registrations
//    are listed, waiting (pid 0). A REATTACH from uid 65534 with the right token, one with a token that
//    differs in one bit, and one naming the other end's registration are refused with
//    not_registered; the right token from the owner gets the registration back with a region fd
//    naming the same memfd (same inode), and a second REATTACH of it is refused.
//  - traffic: netring-pktgen (uid 65534) sends N paced, sequence-numbered frames through a pipe to
//    a receiving netring-pktgen while `netring-ctl restart` replaces the daemon twice. The
//    receiver must get all N, in order and intact; both processes exit 0; afterwards netringd
//    lists both registrations with their processes' pids again (a waiting one shows pid 0) and the
//    pipe region's free buffers equal what they were before the first restart.
//  - monitor: the same with a /r monitor of the receiving end (netring-pktgen reading it, 16384
//    slots, the flow paced at 20000 frames/s): the monitor re-attaches too and sees every frame
//    once, in order and intact; the region's free buffers are what they were.
//  - switch: the same through a switch: netring-pktgen sends paced, sequence-numbered frames into
//    vale0:a (made on the fly), a receiver on vale0:b (larger rings, so the frames queued in a's
//    tx ring during a handoff fit at once into b's rx ring and the switch never drops for lack of
//    room) gets all of them, in order and intact, while `netring-ctl restart` replaces the daemon
//    twice; both clients re-attach and the switch still has both ports afterwards.
//  - switch monitor: 100000 frames at 20000/s from vale0:a to vale0:b watched by a /r monitor of
//    vale0:b (16384 slots) across two restarts: the monitor re-attaches and sees every frame once,
//    in order and intact.
//  - refused state: netringd started with fds passed in systemd's convention (LISTEN_FDS, names
//    "state" and "fd.0") holding a state segment whose layout version is not its own, and one
//    with a byte flipped in its records: each time it logs why the state is refused and that it
//    starts cold, and serves (STATS answers, nothing registered).
#include "harness.hpp"

#include <rings/wire.hpp>
#include <state_layout.hpp>
#include <state_segment.hpp>

#include <fcntl.h>
#include <sys/mman.h>
#include <signal.h>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

namespace netring::itest {
namespace {

using namespace std::chrono_literals;

// One control connection speaking the protocol directly.
class raw_session {
public:
    explicit raw_session(const std::string &path)
    {
        fd_ = unique_fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
        if (!fd_.valid() || ::connect(fd_.get(), reinterpret_cast<sockaddr *>(&addr), sizeof addr) != 0)
            fd_.reset();
        proto::hello h{};
        h.min_version = proto::version;
        h.max_version = proto::version;
        auto r = call(proto::msg_type::hello, h);
        ok_ = r && r->hdr.type == static_cast<uint16_t>(proto::msg_type::hello_reply);
    }
    bool ok() const { return ok_; }

    template <class T>
    std::optional<received_message> call(proto::msg_type t, const T &msg)
    {
        if (!fd_.valid() || !send_struct(fd_.get(), t, ++seq_, msg))
            return std::nullopt;
        auto m = recv_message(fd_.get(), proto::max_reply_payload);
        if (!m)
            return std::nullopt;
        return std::move(m.value());
    }

    // REGIF or REATTACH: the reply, when it has the size of a version 5 regif_reply.
    std::optional<proto::regif_reply> registration(proto::msg_type t, const proto::regif &req_or_none,
                                                   const proto::reattach *again, std::vector<unique_fd> *fds)
    {
        auto m = again ? call(t, *again) : call(t, req_or_none);
        if (!m || m->payload.size() != sizeof(proto::regif_reply))
            return std::nullopt;
        proto::regif_reply rep;
        std::memcpy(&rep, m->payload.data(), sizeof rep);
        if (fds)
            *fds = std::move(m->fds);
        return rep;
    }

private:
    unique_fd fd_;
    uint32_t seq_ = 0;
    bool ok_ = false;
};

proto::regif regif_of(const std::string &name)
{
    proto::regif r{};
    proto::set_text(r.port_name, sizeof r.port_name, name);
    return r;
}

std::optional<proto::regif_reply> reattach(raw_session &s, uint32_t reg_id, const uint8_t *token,
                                           std::vector<unique_fd> *fds = nullptr)
{
    proto::reattach m{};
    m.reg_id = reg_id;
    std::memcpy(m.token, token, sizeof m.token);
    return s.registration(proto::msg_type::reattach, {}, &m, fds);
}

ino_t inode_of(int fd)
{
    struct stat st{};
    return ::fstat(fd, &st) == 0 ? st.st_ino : 0;
}

class restart : public daemon_test {
protected:
    // A paced, checked flow of netring-pktgen processes (uid 65534): a receiver, a sender, and
    // optionally a receiver on a monitor; each list starts with "-i PORT" and adds options.
    struct flow {
        long frames = 0;
        std::vector<std::string> rx, tx, watch;
        std::string same_buffers;        // a region whose free buffers must not change
        std::vector<std::string> listed; // regions that must still be listed afterwards
    };

    // Runs `f` while `netring-ctl restart` replaces the daemon twice: every client re-attaches, and
    // each receiver gets all the frames, each once, in order and intact.
    void expect_whole_across_two_restarts(const flow &f)
    {
        const std::string n = std::to_string(f.frames);
        auto start = [&](std::vector<std::string> args, const char *role) -> std::unique_ptr<child> {
            for (const char *a : {"-f", role, "-n", n.c_str(), "--json"})
                args.push_back(a);
            if (std::string(role) == "rx")
                args.insert(args.end(), {"-T", "120"});
            auto c = pktgen(args);
            EXPECT_TRUE(c && wait_registered(c->pid())) << (c ? c->read_err() : "no process");
            return c && c->running() ? std::move(c) : nullptr;
        };
        auto rx = start(f.rx, "rx");
        ASSERT_TRUE(rx);
        std::unique_ptr<child> watch;
        if (!f.watch.empty()) {
            watch = start(f.watch, "rx");
            ASSERT_TRUE(watch);
        }
        auto tx = start(f.tx, "tx");
        ASSERT_TRUE(tx);
        std::optional<region_stats> before;
        if (!f.same_buffers.empty()) {
            before = find_region(stats(), f.same_buffers);
            ASSERT_TRUE(before);
        }

        restart_daemon();
        restart_daemon();
        // While the frames flow, every client comes back (a waiting registration shows pid 0).
        EXPECT_TRUE(eventually(
            [&] {
                const daemon_stats s = stats();
                return has_registration_of(s, rx->pid()) && has_registration_of(s, tx->pid()) &&
                       (!watch || has_registration_of(s, watch->pid()));
            },
            20s))
            << "the clients did not re-attach";
        if (before) {
            const auto after = find_region(stats(), f.same_buffers);
            ASSERT_TRUE(after);
            EXPECT_EQ(after->buffers_free, before->buffers_free);
            EXPECT_EQ(after->buffers_total, before->buffers_total);
        }
        for (const std::string &r : f.listed)
            EXPECT_TRUE(find_region(stats(), r)) << r;

        const child_result t = tx->wait(120s);
        ASSERT_TRUE(t.exited && t.exit_code == 0) << "tx: " << t.describe();
        expect_received_whole(rx->wait(120s), static_cast<uint64_t>(f.frames), "receiver");
        if (watch)
            expect_received_whole(watch->wait(120s), static_cast<uint64_t>(f.frames), "monitor");
    }

    // netring-ctl restart, and its verdict.
    void restart_daemon()
    {
        auto c = ctl({"restart", "--timeout", "30"});
        ASSERT_TRUE(c);
        const child_result r = c->wait(60s);
        ASSERT_TRUE(r.exited && r.exit_code == 0) << r.describe();
        EXPECT_NE(r.out.find("netringd restarted"), std::string::npos) << r.out;
    }
};

TEST_F(restart, only_the_owner_with_its_token_gets_a_registration_back)
{
    raw_session a(socket_path()), b(socket_path());
    ASSERT_TRUE(a.ok() && b.ok());
    std::vector<unique_fd> fds_a;
    auto ra = a.registration(proto::msg_type::regif, regif_of("netmap:pipeK{1"), nullptr, &fds_a);
    auto rb = b.registration(proto::msg_type::regif, regif_of("netmap:pipeK}1"), nullptr, nullptr);
    ASSERT_TRUE(ra && rb);
    ASSERT_EQ(ra->status.error, 0) << ra->status.message;
    ASSERT_EQ(rb->status.error, 0) << rb->status.message;
    ASSERT_FALSE(fds_a.empty());
    const ino_t region_inode = inode_of(fds_a[0].get());

    restart_daemon();
    const daemon_stats after = stats();
    ASSERT_EQ(after.registrations.size(), 2u);
    for (const auto &r : after.registrations)
        EXPECT_EQ(r.pid, 0u) << r.port_name << " should wait for its client (pid 0)";

    // uid 65534 with the owner's token: refused.
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        if (::setresgid(65534, 65534, 65534) != 0 || ::setresuid(65534, 65534, 65534) != 0)
            ::_exit(3);
        raw_session n(socket_path());
        auto r = n.ok() ? reattach(n, ra->reg_id, ra->token) : std::nullopt;
        // The reply is refused without fds: a regif_reply-sized error is still a regif_reply.
        ::_exit(r && r->status.error == static_cast<int32_t>(errc::not_registered) ? 0 : 1);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "uid 65534 took a registration of uid 0";

    raw_session c(socket_path());
    ASSERT_TRUE(c.ok());
    uint8_t wrong[proto::token_bytes];
    std::memcpy(wrong, ra->token, sizeof wrong);
    wrong[7] ^= 0x10;
    auto bad = reattach(c, ra->reg_id, wrong);
    ASSERT_TRUE(bad);
    EXPECT_EQ(bad->status.error, static_cast<int32_t>(errc::not_registered)) << bad->status.message;
    auto other = reattach(c, rb->reg_id, ra->token); // a's token, b's registration
    ASSERT_TRUE(other);
    EXPECT_EQ(other->status.error, static_cast<int32_t>(errc::not_registered)) << other->status.message;

    std::vector<unique_fd> fds;
    auto good = reattach(c, ra->reg_id, ra->token, &fds);
    ASSERT_TRUE(good);
    ASSERT_EQ(good->status.error, 0) << good->status.message;
    EXPECT_EQ(good->reg_id, ra->reg_id);
    EXPECT_EQ(good->if_offset, ra->if_offset);
    EXPECT_EQ(good->num_fds, ra->num_fds);
    ASSERT_EQ(fds.size(), good->num_fds);
    EXPECT_EQ(inode_of(fds[0].get()), region_inode) << "the re-attached region is not the same memory";

    raw_session d(socket_path());
    ASSERT_TRUE(d.ok());
    auto twice = reattach(d, ra->reg_id, ra->token);
    ASSERT_TRUE(twice);
    EXPECT_EQ(twice->status.error, static_cast<int32_t>(errc::not_registered)) << twice->status.message;
}

TEST_F(restart, a_pipe_moves_every_frame_while_the_daemon_is_replaced_twice)
{
    // Paced: the transfer takes about 6 s, so both restarts happen while it runs.
    flow f;
    f.frames = 600000;
    f.rx = {"-i", "netmap:pipeR}1"};
    f.tx = {"-i", "netmap:pipeR{1", "-R", "100000"};
    f.same_buffers = "pipe:pipeR";
    expect_whole_across_two_restarts(f);
}

TEST_F(restart, a_pipe_monitor_sees_every_frame_while_the_daemon_is_replaced_twice)
{
    // A monitor ring of 16384 slots holds 0.8 s of the paced flow: the watcher never falls behind
    // far enough to lose a copy, so every frame must be seen once, in order.
    flow f;
    f.frames = 120000;
    f.rx = {"-i", "netmap:pipeW}1"};
    f.watch = {"-i", "netmap:pipeW}1/r", "--slots", "16384"};
    f.tx = {"-i", "netmap:pipeW{1", "-R", "20000"};
    f.same_buffers = "pipe:pipeW";
    expect_whole_across_two_restarts(f);
}

class restart_switch : public restart {
protected:
    std::string config_text() const override { return restart::config_text() + "allow uid=65534 vale*\n"; }
};

TEST_F(restart_switch, a_switch_moves_every_frame_while_the_daemon_is_replaced_twice)
{
    // b's larger rings take what a's tx ring queued during a handoff at once: the switch never
    // drops for lack of room.
    flow f;
    f.frames = 300000;
    f.rx = {"-i", "vale0:b", "--slots", "4096"};
    f.tx = {"-i", "vale0:a", "-R", "50000"};
    f.listed = {"vale0:a", "vale0:b"};
    expect_whole_across_two_restarts(f);
}

TEST_F(restart_switch, a_switch_port_monitor_sees_every_frame_while_the_daemon_is_replaced_twice)
{
    // What the switch delivers to b, copied by the forwarding thread; 16384 slots hold 0.8 s of
    // the flow, far more than a handoff's backlog.
    flow f;
    f.frames = 100000;
    f.rx = {"-i", "vale0:b", "--slots", "4096"};
    f.watch = {"-i", "vale0:b/r", "--slots", "16384"};
    f.tx = {"-i", "vale0:a", "-R", "20000"};
    f.listed = {"vale0:a", "vale0:b"};
    expect_whole_across_two_restarts(f);
}

// A state segment holding one pipe region's records, damaged by `damage`, passed to a fresh
// netringd as a predecessor would pass it; what netringd wrote to stderr within a few seconds,
// after a STATS on its socket answered (empty when it never did).
std::string start_with_kept_state(const std::function<void(uint8_t *, uint64_t)> &damage, bool *served)
{
    using namespace netring::netringd;
    char tmpl[] = "/tmp/netring-it-XXXXXX";
    if (!::mkdtemp(tmpl))
        return {};
    const std::string dir = tmpl, sock = dir + "/netringd.sock", err = dir + "/netringd.err";
    auto seg = state_segment::create();
    if (!seg)
        return {};
    kept_state k;
    kept_region r;
    r.name = "pipe:gone";
    r.fd_id = 0;
    r.buf_size = 2048, r.num_buffers = 1024, r.meta_bytes = 1u << 20, r.region_size = 4u << 20;
    k.regions.push_back(r);
    k.next_fd_id = 1;
    if (!seg->save(k))
        return {};
    struct stat st{};
    ::fstat(seg->fd(), &st);
    void *m = ::mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ | PROT_WRITE, MAP_SHARED, seg->fd(), 0);
    if (m == MAP_FAILED)
        return {};
    damage(static_cast<uint8_t *>(m), static_cast<uint64_t>(st.st_size));
    ::munmap(m, static_cast<size_t>(st.st_size));
    const int region_fd = ::memfd_create("netring-test-region", MFD_CLOEXEC);

    const std::string bin = binary_path("/daemon/netringd");
    const pid_t pid = ::fork();
    if (pid == 0) {
        // Out of the way first: either fd may be 3 or 4 already, and dup2 onto itself would
        // leave close-on-exec set.
        const int state_high = ::fcntl(seg->fd(), F_DUPFD_CLOEXEC, 10);
        const int region_high = ::fcntl(region_fd, F_DUPFD_CLOEXEC, 10);
        const int errfd = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        ::dup2(errfd, 2);
        ::dup2(state_high, 3); // dup2 leaves close-on-exec off: the daemon gets them
        ::dup2(region_high, 4);
        ::setenv("LISTEN_FDS", "2", 1);
        ::setenv("LISTEN_FDNAMES", "state:fd.0", 1);
        ::setenv("LISTEN_PID", std::to_string(::getpid()).c_str(), 1);
        ::execl(bin.c_str(), bin.c_str(), "--socket", sock.c_str(), static_cast<char *>(nullptr));
        ::_exit(127);
    }
    ::close(region_fd);
    *served = pid > 0 && eventually([&] { return query_stats(sock).ok(); }, 10s);
    if (*served) {
        auto s = query_stats(sock);
        *served = s && s->registrations.empty() && s->regions.empty();
    }
    if (pid > 0) {
        ::kill(pid, SIGTERM);
        detail::wait_pid(pid, 10s);
    }
    std::string log = detail::read_file(err);
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
    return log;
}

// netringd given a state damaged by `damage` serves with nothing registered and logs "cold start"
// with `why` in the line.
void expect_cold_start(const std::function<void(netring::netringd::state_header &, uint8_t *)> &damage,
                       const std::string &why)
{
    bool served = false;
    const std::string log = start_with_kept_state(
        [&](uint8_t *base, uint64_t) { damage(*reinterpret_cast<netring::netringd::state_header *>(base), base); },
        &served);
    EXPECT_TRUE(served) << log;
    EXPECT_NE(log.find(why), std::string::npos) << log;
    EXPECT_NE(log.find("cold start"), std::string::npos) << log;
}

TEST(restart_refused_state, another_layout_version_is_a_cold_start_that_says_why)
{
    if (::geteuid() != 0)
        GTEST_SKIP() << "needs root to run netringd";
    const uint32_t other = netring::netringd::state_layout_version + 1;
    expect_cold_start([&](netring::netringd::state_header &h, uint8_t *) { h.layout_version = other; },
                      "state layout version " + std::to_string(other));
}

TEST(restart_refused_state, a_damaged_record_is_a_cold_start_that_says_why)
{
    if (::geteuid() != 0)
        GTEST_SKIP() << "needs root to run netringd";
    expect_cold_start(
        [](netring::netringd::state_header &h, uint8_t *base) {
            base[h.half_offset + h.active * h.half_bytes + h.half[h.active].used_bytes / 2] ^= 0x40;
        },
        "CRC");
}

} // namespace
} // namespace netring::itest
