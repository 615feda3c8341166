// The control connection across a daemon restart (docs/RESTART.md). When the socket breaks, the
// port keeps its mapping and rings, parks the socket's fd number on a retry timer (an event loop
// that polls control_fd() then neither sees a closed fd nor spins on EOF) and reconnects with
// backoff: HELLO, then REATTACH with the registration's id and token. A reply that names the same
// registration gives the port its new socket, on the same fd number; a refusal, or a reply that
// names other memory, ends the tries. Tries are lazy: the calls that look at the control fd (wait,
// disarm_wait, socket-mode syncs) make them, and every 64th sync looks (watch_control).
#include "port_impl.hpp"
#include "reply_codec.hpp"

#include <rings/eventfd.hpp>
#include <rings/ring_fault.hpp>

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <utility>

namespace netring {
namespace {

using namespace std::chrono_literals;
constexpr auto first_retry = 50ms; // after the try made at once; doubled up to max_retry
constexpr auto max_retry = 1000ms;

bool same_file(int a, int b)
{
    struct stat sa, sb;
    return ::fstat(a, &sa) == 0 && ::fstat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

// Sets the retry timer parked on `fd` to fire once after `in`; 0 disarms it (it never fires).
void set_timer(int fd, std::chrono::nanoseconds in)
{
    itimerspec t{};
    t.it_value.tv_sec = static_cast<time_t>(in.count() / 1000000000);
    t.it_value.tv_nsec = static_cast<long>(in.count() % 1000000000);
    ::timerfd_settime(fd, 0, &t, nullptr); // resets the expiration count: a fired timer reads empty
}

bool is_daemon_gone(const error &e) { return e.code == make_error_code(errc::daemon_gone); }

} // namespace

bool port::impl::moves_without_daemon() const
{
    return port_kind == NR_PORT_KIND_PIPE || (port_kind == NR_PORT_KIND_MONITOR && polled);
}

void port::impl::control_broke(std::string why)
{
    if (link.state != control_state::connected)
        return;
    last_error = std::move(why);
    link.events |= control_lost;
    link.state = control_state::away;
    link.next_try = control_link::clock::now(); // the first try at once
    link.delay = 0ms;
    unique_fd timer(::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC));
    if (!timer.valid() || ::dup3(timer.get(), sock.get(), O_CLOEXEC) < 0)
        sock.reset(); // nothing to hold the number with: sleep on the rings alone
    if (std::all_of(link.token.begin(), link.token.end(), [](uint8_t b) { return b == 0; })) {
        last_error = "netringd closed the connection and gave no re-attach token (protocol before 5)";
        give_up();
    }
}

void port::impl::give_up()
{
    link.state = control_state::lost;
    link.events |= registration_lost;
    link.why_lost = "netringd went away and the registration with it: " + last_error;
    if (sock.valid())
        set_timer(sock.get(), 0ns);
}

void port::impl::control_woke()
{
    if (link.state == control_state::connected)
        control_broke("netringd closed the connection");
    else if (sock.valid())
        rings::eventfd_drain(sock.get()); // the retry timer: a read takes its expiration count
    tend_control();
}

void port::impl::watch_control()
{
    if (link.state == control_state::away) {
        tend_control();
        return;
    }
    const auto now = control_link::clock::now();
    if (link.state != control_state::connected || now < link.next_look || !sock.valid())
        return;
    link.next_look = now + std::chrono::milliseconds(100);
    pollfd p{sock.get(), POLLIN, 0};
    // The daemon sends nothing unsolicited: readable is EOF or an error.
    if (::poll(&p, 1, 0) == 1 && p.revents)
        control_woke();
}

void port::impl::tend_control()
{
    if (link.state != control_state::away || control_link::clock::now() < link.next_try)
        return;
    switch (reattach_once()) {
    case reattach_outcome::back:
        link.state = control_state::connected;
        link.events |= control_back;
        return;
    case reattach_outcome::refused: give_up(); return;
    case reattach_outcome::still_away: break;
    }
    link.delay = link.delay == 0ms ? first_retry : std::min<std::chrono::milliseconds>(link.delay * 2, max_retry);
    link.next_try = control_link::clock::now() + link.delay;
    if (sock.valid())
        set_timer(sock.get(), link.delay);
}

reattach_outcome port::impl::reattach_once()
{
    // Connection refused or no socket file: nobody listens yet. Anything else will not get better.
    // A socket that outlived its daemon (held in a service manager's fd store) takes the
    // connection and never answers: the wait for an answer is bounded, since the application's
    // data path waits with it, and grows with the backoff for a daemon that is slow to start.
    const auto answer_within = std::clamp<std::chrono::milliseconds>(link.delay / 8, 10ms, 100ms);
    auto c = detail::connection::open(opts.socket_path, static_cast<int>(answer_within.count()));
    if (!c) {
        last_error = c.err().message;
        return is_daemon_gone(c.err()) ? reattach_outcome::still_away : reattach_outcome::refused;
    }
    if (c->version() < 5) {
        last_error = "netringd speaks protocol version " + std::to_string(c->version()) + ", which cannot re-attach";
        return reattach_outcome::refused;
    }
    proto::reattach req{};
    req.reg_id = reg_id;
    std::memcpy(req.token, link.token.data(), sizeof req.token);
    auto reply = c->call_struct(proto::msg_type::reattach, req, proto::msg_type::regif_reply);
    if (!reply) {
        last_error = reply.err().message;
        return is_daemon_gone(reply.err()) ? reattach_outcome::still_away : reattach_outcome::refused;
    }
    auto rep = proto::decode_regif_reply(reply->hdr, reply->payload);
    if (!rep) {
        last_error = "netringd refused to re-attach registration " + std::to_string(reg_id) + ": " + rep.err().message;
        return reattach_outcome::refused;
    }
    if (auto why = reattach_mismatch(rep.value(), reply->fds); !why.empty()) {
        last_error = "netringd's re-attach reply names another registration: " + why;
        return reattach_outcome::refused;
    }
    // The mapping and the eventfds already in use stay; the reply's copies close with `reply`. The
    // new socket takes the parked number, so an application's cached control_fd() stays right.
    if (!sock.valid() || ::dup3(c->fd(), sock.get(), O_CLOEXEC) < 0)
        sock = c->release_fd();
    seq = c->seq();
    return reattach_outcome::back;
}

std::string port::impl::reattach_mismatch(const proto::regif_reply &rep, const std::vector<unique_fd> &fds) const
{
    if (rep.reg_id != reg_id || rep.port_kind != port_kind)
        return "registration " + std::to_string(rep.reg_id) + " of kind " + std::to_string(rep.port_kind);
    if (rep.region_size != region.size() || rep.if_offset != link.if_offset || rep.buf_size != geo.buf_size)
        return "region of " + std::to_string(rep.region_size) + " bytes, if block at " + std::to_string(rep.if_offset);
    const bool slots_match = (tx.empty() || rep.tx_slots == tx[0].own.num_slots) &&
                             (rx.empty() || rep.rx_slots == rx[0].own.num_slots);
    if (rep.tx_rings != tx.size() || rep.rx_rings != rx.size() || !slots_match)
        return std::to_string(rep.tx_rings) + " tx and " + std::to_string(rep.rx_rings) + " rx rings of " +
               std::to_string(rep.tx_slots) + " and " + std::to_string(rep.rx_slots) + " slots";
    if (fds.empty() || rep.num_fds != fds.size() || fds.size() != 1 + 2 * (tx.size() + rx.size()))
        return std::to_string(fds.size()) + " descriptors";
    // The same numbers could describe other memory: the memfd itself must be the one mapped.
    if (!same_file(fds[0].get(), region_fd.get()))
        return "a region memfd other than the one mapped";
    return {};
}

void port::impl::release_partner()
{
    if (link.state == control_state::connected || port_kind != NR_PORT_KIND_PIPE)
        return;
    for (auto *dir : {&tx, &rx}) {
        for (ring_state &r : *dir) {
            rings::mark_peer_gone(r.partner);
            rings::eventfd_signal(r.kick_fd); // the other end's notify eventfd of this ring pair
        }
    }
}

unsigned port::control_events() { return std::exchange(impl_->link.events, 0u); }
bool port::daemon_present() const { return impl_->link.state == control_state::connected; }

} // namespace netring
