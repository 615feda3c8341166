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
constexpr auto answer_limit = 2000ms; // for each answer of a try

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
    link.timer = unique_fd(::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC));
    if (!link.timer.valid() || ::dup3(link.timer.get(), sock.get(), O_CLOEXEC) < 0)
        sock.reset(); // nothing to hold the number with: sleep on the rings alone
    if (std::all_of(link.token.begin(), link.token.end(), [](uint8_t b) { return b == 0; })) {
        last_error = "netringd closed the connection and gave no re-attach token (protocol before 5)";
        give_up();
    }
}

void port::impl::give_up()
{
    end_try();
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
    else if (link.stage == try_stage::none && sock.valid())
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

// Nothing here blocks: the application's data path runs these calls. A try connects and sends
// HELLO; its answer, then REATTACH's, are read by later calls once they have come. While a try
// waits, its socket takes the parked fd number, so an application sleeping in poll() on
// control_fd() wakes when the daemon answers.
void port::impl::tend_control()
{
    if (link.state != control_state::away)
        return;
    reattach_outcome out;
    if (link.stage != try_stage::none)
        out = advance_try();
    else if (control_link::clock::now() >= link.next_try)
        out = start_try();
    else
        return;
    switch (out) {
    case reattach_outcome::pending: return;
    case reattach_outcome::back:
        link.state = control_state::connected;
        link.events |= control_back;
        link.timer.reset();
        return;
    case reattach_outcome::refused: give_up(); return;
    case reattach_outcome::still_away: break;
    }
    end_try();
    link.delay = link.delay == 0ms ? first_retry : std::min<std::chrono::milliseconds>(link.delay * 2, max_retry);
    link.next_try = control_link::clock::now() + link.delay;
    if (sock.valid())
        set_timer(sock.get(), link.delay);
}

void port::impl::end_try()
{
    if (link.stage == try_stage::none)
        return;
    link.stage = try_stage::none;
    link.conn.reset();
    if (sock.valid() && link.timer.valid())
        (void)::dup3(link.timer.get(), sock.get(), O_CLOEXEC);
}

reattach_outcome port::impl::start_try()
{
    // Connection refused or no socket file: nobody listens yet. Anything else will not get better.
    auto fd = detail::connect_unix(opts.socket_path, true);
    if (!fd) {
        last_error = fd.err().message;
        return is_daemon_gone(fd.err()) ? reattach_outcome::still_away : reattach_outcome::refused;
    }
    link.conn = std::move(fd.value());
    link.conn_seq = 1;
    link.stage = try_stage::hello_sent;
    // A listening socket can outlive its daemon (a service manager's fd store holds it): the
    // connection then waits in the backlog with nobody to answer. Abandoned after a while, and
    // tried again; the next daemon sees it close.
    link.answer_by = control_link::clock::now() + answer_limit;
    if (auto st = send_struct(link.conn.get(), proto::msg_type::hello, link.conn_seq, detail::hello_request()); !st) {
        last_error = st.err().message;
        return reattach_outcome::still_away;
    }
    if (sock.valid())
        (void)::dup3(link.conn.get(), sock.get(), O_CLOEXEC);
    return reattach_outcome::pending;
}

reattach_outcome port::impl::advance_try()
{
    pollfd p{link.conn.get(), POLLIN, 0};
    if (::poll(&p, 1, 0) != 1 || !p.revents) {
        if (control_link::clock::now() < link.answer_by)
            return reattach_outcome::pending;
        last_error = "netringd took the connection but did not answer";
        return reattach_outcome::still_away;
    }
    auto m = recv_message(link.conn.get(), proto::max_reply_payload); // all of it is there, or EOF
    if (!m) {
        last_error = m.err().message;
        return reattach_outcome::still_away; // closed: a daemon going away as we came
    }
    if (link.stage == try_stage::hello_sent) {
        auto v = detail::hello_answer(*m, link.conn_seq);
        if (!v) {
            last_error = v.err().message;
            return is_daemon_gone(v.err()) ? reattach_outcome::still_away : reattach_outcome::refused;
        }
        if (v.value() < 5) {
            last_error = "netringd speaks protocol version " + std::to_string(v.value()) + ", which cannot re-attach";
            return reattach_outcome::refused;
        }
        proto::reattach req{};
        req.reg_id = reg_id;
        std::memcpy(req.token, link.token.data(), sizeof req.token);
        link.conn_seq++;
        link.stage = try_stage::reattach_sent;
        link.answer_by = control_link::clock::now() + answer_limit;
        if (auto st = send_struct(link.conn.get(), proto::msg_type::reattach, link.conn_seq, req); !st) {
            last_error = st.err().message;
            return reattach_outcome::still_away;
        }
        return reattach_outcome::pending;
    }
    if (detail::is_refusal(*m)) {
        last_error = proto::reply_failure(m->hdr, m->payload).err().message;
        return reattach_outcome::refused;
    }
    if (auto st = proto::check_reply_header(m->hdr, proto::msg_type::regif_reply, link.conn_seq); !st) {
        last_error = "netringd refused to re-attach registration " + std::to_string(reg_id) + ": " + st.err().message;
        return reattach_outcome::refused;
    }
    auto rep = proto::decode_regif_reply(m->hdr, m->payload);
    if (!rep) {
        last_error = "netringd refused to re-attach registration " + std::to_string(reg_id) + ": " + rep.err().message;
        return reattach_outcome::refused;
    }
    if (auto why = reattach_mismatch(rep.value(), m->fds); !why.empty()) {
        last_error = "netringd's re-attach reply names another registration: " + why;
        return reattach_outcome::refused;
    }
    // The mapping and the eventfds already in use stay; the reply's copies close with `m`. The
    // connection already has the parked number (start_try), so an application's cached
    // control_fd() stays right; later control calls block as before.
    const int flags = ::fcntl(link.conn.get(), F_GETFL);
    if (flags >= 0)
        (void)::fcntl(link.conn.get(), F_SETFL, flags & ~O_NONBLOCK);
    if (!sock.valid())
        sock = std::move(link.conn);
    link.conn.reset();
    link.stage = try_stage::none;
    seq = link.conn_seq;
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
