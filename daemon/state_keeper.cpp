#include "state_keeper.hpp"

#include <systemd/sd-daemon.h>

namespace netring::netringd {
namespace {

std::string plural(size_t n, const std::string &what)
{
    return std::to_string(n) + " " + what + (n == 1 ? "" : what.ends_with("h") ? "es" : "s");
}

} // namespace

state_keeper::state_keeper(registry &reg, state_segment seg, const logger &log)
    : reg_(reg), seg_(std::move(seg)), log_(log), fds_(kept_fds::store_in_environment())
{}

result<std::unique_ptr<state_keeper>> state_keeper::start(registry &reg, std::map<std::string, unique_fd> &inherited,
                                                          const logger &log, uint64_t now_s)
{
    std::set<std::string> passed;
    for (const auto &[name, fd] : inherited)
        passed.insert(name);
    auto cold = [&](const std::string &why) -> result<std::unique_ptr<state_keeper>> {
        if (!why.empty())
            log.warning("restart: " + why + ": cold start");
        auto made = state_segment::create();
        if (!made)
            return error{made.err().code, "cannot create the state segment: " + made.err().message};
        auto k = std::unique_ptr<state_keeper>(new state_keeper(reg, std::move(made.value()), log));
        k->passed_ = passed;
        return k;
    };

    auto st = inherited.find("state");
    if (st == inherited.end()) {
        const size_t fds = inherited.size() - inherited.count("listen");
        return cold(fds ? plural(fds, "fd") + " passed without a state" : "");
    }
    auto seg = state_segment::adopt(std::move(st->second));
    inherited.erase(st);
    auto k = seg ? seg->load() : result<kept_state>(seg.err());
    if (!k)
        return cold("the kept state is refused (" + k.err().message + ")");

    std::vector<std::pair<uint32_t, int>> taken;
    auto take_fd = [&](uint32_t id) {
        auto it = inherited.find("fd." + std::to_string(id));
        if (it == inherited.end())
            return unique_fd();
        unique_fd fd = std::move(it->second);
        inherited.erase(it);
        taken.emplace_back(id, fd.get()); // the registry holds it under this number from now on
        return fd;
    };
    if (auto a = reg.adopt_state(*k, take_fd, now_s); !a)
        return cold("the kept state is refused (" + a.err().message + ")");

    auto keeper = std::unique_ptr<state_keeper>(new state_keeper(reg, std::move(seg.value()), log));
    keeper->passed_ = passed;
    keeper->adopted_.insert("state");
    keeper->fds_.reserve_ids(k->next_fd_id);
    for (const auto &[id, fd] : taken) {
        keeper->fds_.adopted(id, fd);
        keeper->adopted_.insert("fd." + std::to_string(id));
    }
    for (const kept_nic &n : k->nics)
        if (!n.afpacket)
            keeper->xdp_kept_.push_back(n.ifname);
    log.notice("restart: adopted " + plural(k->regions.size(), "region") + ", " + plural(k->pipes.size(), "pipe") +
               ", " + plural(k->nics.size(), "NIC") + ", " + plural(k->switches.size(), "switch") + " and " +
               plural(k->registrations.size(), "registration") +
               "; each waits for its client to re-attach");
    return keeper;
}

void state_keeper::publish(int listener, bool listener_inherited)
{
    if (listener_inherited)
        adopted_.insert("listen");
    // What was passed and is not used any more: closed here already, and out of the store too.
    for (const std::string &name : passed_)
        if (!adopted_.count(name))
            fds_.remove(name);
    for (const auto &[name, fd] : {std::pair<std::string, int>{"state", seg_.fd()}, {"listen", listener}}) {
        if (adopted_.count(name)) {
            fds_.held(name);
        } else if (auto s = fds_.push(name, fd); !s) {
            log_.warning(s.err().message + ": a crash would lose the registrations");
        }
    }
    if (fds_.store_active())
        log_.info("keeping the state and its fds in the service manager's fd store");
    (void)save();
}

status state_keeper::save()
{
    fds_.begin_round();
    const kept_state k = reg_.export_state([this](int fd) { return fds_.id_of(fd); });
    status s = fds_.push_new();
    if (s)
        s = seg_.save(k);
    if (!s) {
        // The fds named for the first time stay held, unnamed until a round names them again.
        if (!failing_)
            log_.error("cannot save the state for a successor: " + s.err().message +
                       "; a restart now would lose the registrations made since the last save");
        failing_ = true;
        return s;
    }
    fds_.drop_unnamed();
    if (failing_)
        log_.notice("the state is saved again");
    failing_ = false;
    const size_t waiting = reg_.waiting();
    const std::string status_line = "STATUS=" + plural(reg_.registrations(), "registration") +
                                    (waiting ? ", " + std::to_string(waiting) + " waiting to re-attach" : "") +
                                    ", state generation " + std::to_string(seg_.generation());
    (void)::sd_notify(0, status_line.c_str());
    return ok_status();
}

std::vector<std::pair<std::string, int>> state_keeper::handoff(int listener) const
{
    std::vector<std::pair<std::string, int>> pass{{"listen", listener}, {"state", seg_.fd()}};
    for (const auto &[id, fd] : fds_.current())
        pass.emplace_back("fd." + std::to_string(id), fd);
    return pass;
}

void state_keeper::clean_stop()
{
    (void)seg_.save(kept_state{});
    fds_.remove_all();
}

} // namespace netring::netringd
