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

    listen_.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path_.c_str(), sizeof addr.sun_path - 1);
    if (::bind(listen_.get(), reinterpret_cast<sockaddr *>(&addr), sizeof addr) != 0 ||
        ::listen(listen_.get(), 8) != 0)
        throw std::runtime_error("bind/listen");
    acceptor_ = std::thread([this] { accept_loop(); });
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
            // A: tx (kick ev0, notify ev1), rx (kick ev3, notify ev2); B: tx (ev2, ev3), rx (ev1, ev0).
            std::vector<int> fds = {memfd_.get()};
            static constexpr int order[2][4] = {{0, 1, 3, 2}, {2, 3, 1, 0}};
            for (int e : order[end])
                fds.push_back(ev_[e].get());
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
    if (end >= 0 && flaw_ == regif_flaw::none)
        end_gone(end);
    std::lock_guard lock(mu_);
    std::erase(clients_, fd);
    ::close(fd);
}

} // namespace netring::test
