#include "fake_daemon.hpp"

#include "rings/wire.hpp"

#include <netring/protocol.hpp>

#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

namespace netring::test {
namespace {

template <class T>
T payload_as(const received_message &m)
{
    T v{};
    std::memcpy(&v, m.payload.data(), std::min(sizeof v, m.payload.size()));
    return v;
}

// Each end's re-attach token: fixed bytes are enough for a fake.
void token_of(int end, uint8_t *out)
{
    for (size_t i = 0; i < proto::token_bytes; i++)
        out[i] = static_cast<uint8_t>(0xa0 + 16 * end + i);
}

void kick(int fd)
{
    const uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(fd, &one, sizeof one);
}

} // namespace

fake_daemon::fake_daemon(uint32_t num_slots, regif_flaw flaw)
    : layout_(fake_pipe_region::plan(num_slots)), flaw_(flaw)
{
    char tmpl[] = "/tmp/netring-fake-XXXXXX";
    if (!::mkdtemp(tmpl))
        throw std::runtime_error("mkdtemp");
    dir_ = tmpl;
    path_ = dir_ + "/netringd.sock";

    memfd_.reset(::memfd_create("fake-region", MFD_CLOEXEC));
    if (!memfd_.valid() || ::ftruncate(memfd_.get(), static_cast<off_t>(layout_.geo.region_size)) != 0)
        throw std::runtime_error("memfd");
    auto m = mapped_region::map(memfd_.get(), layout_.geo.region_size);
    if (!m)
        throw std::runtime_error(m.err().message);
    map_ = std::move(m.value());
    layout_.format(map_.base());
    for (auto &e : ev_)
        e.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));

    listen_on_path();
}

void fake_daemon::listen_on_path()
{
    listen_.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path_.c_str(), sizeof addr.sun_path - 1);
    ::unlink(path_.c_str()); // a stopped fake's socket file, as netringd replaces a stale one
    if (::bind(listen_.get(), reinterpret_cast<sockaddr *>(&addr), sizeof addr) != 0 ||
        ::listen(listen_.get(), 8) != 0)
        throw std::runtime_error("bind/listen");
    acceptor_ = std::thread([this] { accept_loop(); });
}

void fake_daemon::restart()
{
    stop();
    acceptor_.join();
    wait_idle(); // the stopped fake's sessions end as a dead daemon's: before stopped_ is cleared
    {
        std::lock_guard lock(mu_);
        stopped_ = false;
    }
    listen_on_path();
}

void fake_daemon::set_reattach(reattach_answer a)
{
    std::lock_guard lock(mu_);
    reattach_ = a;
}

int fake_daemon::reattaches_accepted() const
{
    std::lock_guard lock(mu_);
    return reattached_;
}

fake_daemon::~fake_daemon()
{
    stop();
    acceptor_.join();
    for (auto &t : threads_)
        t.join();
    ::unlink(path_.c_str());
    ::rmdir(dir_.c_str());
}

void fake_daemon::stop()
{
    std::lock_guard lock(mu_);
    if (stopped_)
        return;
    stopped_ = true;
    ::shutdown(listen_.get(), SHUT_RDWR); // wakes accept()
    for (int fd : clients_)
        ::shutdown(fd, SHUT_RDWR); // wakes the session's recv
}

int fake_daemon::requests_served() const
{
    std::lock_guard lock(mu_);
    return served_;
}

void fake_daemon::wait_idle() const
{
    for (int i = 0; i < 5000; i++) {
        {
            std::lock_guard lock(mu_);
            if (clients_.empty())
                return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
}

void fake_daemon::accept_loop()
{
    for (;;) {
        const int fd = ::accept4(listen_.get(), nullptr, nullptr, SOCK_CLOEXEC);
        if (fd < 0)
            return;
        std::lock_guard lock(mu_);
        if (stopped_) {
            ::close(fd);
            return;
        }
        clients_.push_back(fd);
        threads_.emplace_back([this, fd] { serve(fd); });
    }
}

// A client of end `end` went away: the other end's rings report peer_gone and wake.
void fake_daemon::end_gone(int end)
{
    const int other = 1 - end;
    for (int ring : {2 * other, 2 * other + 1})
        rings::mark_peer_gone(layout_.ref(map_.base(), ring));
    // The other end's notify eventfds: B's are ev0 (rx) and ev3 (tx); A's are ev1 (tx) and ev2 (rx).
    static constexpr int notify_of[2][2] = {{1, 2}, {0, 3}};
    for (int e : notify_of[other])
        kick(ev_[e].get());
}

void fake_daemon::serve(int fd)
{
    int end = -1;
    for (;;) {
        auto m = recv_message(fd, proto::max_request_payload);
        if (!m)
            break;
        {
            std::lock_guard lock(mu_);
            served_++;
        }
        const auto type = static_cast<proto::msg_type>(m->hdr.type);
        const uint32_t seq = m->hdr.seq;
        if (type == proto::msg_type::hello) {
            proto::hello_reply r{};
            proto::set_ok(r.status);
            r.version = proto::version;
            send_struct(fd, proto::msg_type::hello_reply, seq, r);
        } else if (type == proto::msg_type::regif) {
            const auto req = payload_as<proto::regif>(*m);
            const std::string name(req.port_name, strnlen(req.port_name, sizeof req.port_name));
            end = name.find('{') != std::string::npos ? 0 : 1;
            if (flaw_ == regif_flaw::error_status) {
                proto::reply_status st;
                proto::set_status(st, error::from(errc::access_denied, "not for you"));
                send_struct(fd, proto::msg_type::error_reply, seq, st);
                continue;
            }
            send_registration(fd, seq, end, false);
        } else if (type == proto::msg_type::reattach) {
            const auto req = payload_as<proto::reattach>(*m);
            const int which = static_cast<int>(req.reg_id) - 10;
            uint8_t want[proto::token_bytes];
            token_of(which, want);
            reattach_answer answer;
            {
                std::lock_guard lock(mu_);
                answer = reattach_;
            }
            if (which < 0 || which > 1 || std::memcmp(want, req.token, sizeof want) != 0 ||
                answer == reattach_answer::refuse) {
                proto::reply_status st;
                proto::set_status(st, error::from(errc::not_registered, "no such registration waits here"));
                send_struct(fd, proto::msg_type::error_reply, seq, st);
                continue;
            }
            // Only a registration taken back is this session's: refusing the other region's reply,
            // the client closes this connection, which must not end the pipe.
            if (answer == reattach_answer::accept)
                end = which;
            send_registration(fd, seq, which, true);
        } else if (type == proto::msg_type::txsync || type == proto::msg_type::rxsync) {
            const auto req = payload_as<proto::sync_request>(*m);
            proto::sync_reply r{};
            proto::set_ok(r.status);
            if (end < 0 || (req.ring != 0 && req.ring != proto::all_rings)) {
                proto::set_status(r.status, error::from(errc::bad_ring, "no such ring"));
            } else {
                const bool tx = type == proto::msg_type::txsync;
                const int own = 2 * end + (tx ? 0 : 1);
                const int partner = tx ? 3 - 2 * end : 2 - 2 * end;
                uint8_t *b = map_.base();
                const auto o = tx ? rings::pipe_txsync(layout_.ref(b, own), layout_.ref(b, partner), layout_.limits())
                                  : rings::pipe_rxsync(layout_.ref(b, own), layout_.ref(b, partner), layout_.limits());
                if (o.kick) // the kick eventfd of ring `own`
                    kick(ev_[end == 0 ? (tx ? 0 : 3) : (tx ? 2 : 1)].get());
                if (!o.ok())
                    proto::set_status(r.status, error::from(rings::fault_errc(o.fault), rings::describe(o, "ring")));
                r.tail = layout_.ref(b, own).ring->tail;
            }
            send_struct(fd, proto::msg_type::sync_reply, seq, r);
        } else if (type == proto::msg_type::stats) {
            proto::stats_reply top{};
            proto::set_ok(top.status);
            top.n_regions = 1;
            top.n_clients = 1;
            proto::stats_region reg{};
            proto::set_text(reg.name, sizeof reg.name, "pipe:pipeA");
            reg.buf_size = layout_.geo.buf_size;
            std::vector<std::byte> out(sizeof top + sizeof reg);
            std::memcpy(out.data(), &top, sizeof top);
            std::memcpy(out.data() + sizeof top, &reg, sizeof reg);
            send_message(fd, proto::msg_type::stats_reply, seq, out);
        } else {
            proto::reply_status st;
            proto::set_status(st, error::from(errc::unknown_message, "not served here"));
            send_struct(fd, proto::msg_type::error_reply, seq, st);
        }
    }
    std::lock_guard lock(mu_);
    // A stopped fake is a daemon that died: nobody marks the rings, as after netringd's SIGKILL.
    if (end >= 0 && flaw_ == regif_flaw::none && !stopped_)
        end_gone(end);
    std::erase(clients_, fd);
    ::close(fd);
}

// The REGIF (or REATTACH) reply of end `end`, with its fds.
void fake_daemon::send_registration(int fd, uint32_t seq, int end, bool reattach)
{
    proto::regif_reply r{};
    proto::set_ok(r.status);
    r.region_size = layout_.geo.region_size;
    r.if_offset = layout_.if_off[end];
    r.reg_id = 10 + end;
    r.port_kind = NR_PORT_KIND_PIPE;
    r.tx_rings = r.rx_rings = 1;
    r.tx_slots = r.rx_slots = layout_.num_slots;
    r.buf_size = layout_.geo.buf_size;
    r.num_fds = 5;
    token_of(end, r.token);
    // A: tx (kick ev0, notify ev1), rx (kick ev3, notify ev2); B: tx (ev2, ev3), rx (ev1, ev0).
    std::vector<int> fds = {memfd_.get()};
    static constexpr int order[2][4] = {{0, 1, 3, 2}, {2, 3, 1, 0}};
    for (int e : order[end])
        fds.push_back(ev_[e].get());
    if (reattach) {
        std::lock_guard lock(mu_);
        if (reattach_ == reattach_answer::other_region) {
            if (!decoy_.valid()) {
                decoy_.reset(::memfd_create(decoy_name, MFD_CLOEXEC));
                [[maybe_unused]] int rc = ::ftruncate(decoy_.get(), static_cast<off_t>(layout_.geo.region_size));
            }
            fds[0] = decoy_.get();
        } else {
            reattached_++;
        }
    }
    switch (flaw_) {
    case regif_flaw::missing_fd: fds.pop_back(); break;
    case regif_flaw::wrong_num_fds: r.num_fds = 7; break;
    case regif_flaw::region_too_large: r.region_size += 1 << 20; break;
    case regif_flaw::bad_if_offset: r.if_offset = layout_.geo.buffers_offset + 64; break;
    case regif_flaw::corrupt_ring_ofs:
        reinterpret_cast<nr_if *>(map_.base() + layout_.if_off[end])->ring_ofs[0] =
            static_cast<int64_t>(layout_.geo.region_size);
        break;
    case regif_flaw::wrong_slot_count: r.tx_slots = layout_.num_slots * 2; break;
    default: break;
    }
    send_struct(fd, proto::msg_type::regif_reply, seq, r, fds);
}

} // namespace netring::test
