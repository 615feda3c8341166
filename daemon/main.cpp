// netringd: the netring daemon. Runs in the foreground and logs to stderr (with syslog priorities
// when that is the journal: log.hpp). Under systemd (Type=notify) it reports READY=1 once the
// socket accepts connections, and STOPPING=1 when it begins to shut down.
//
//   netringd [--socket PATH] [--config FILE] [--verbose]
//
// Exit codes: 0 after SIGTERM/SIGINT, 1 when the socket cannot be set up, 2 for bad arguments or
// a bad config file.
#include "config.hpp"
#include "control_server.hpp"
#include "handoff.hpp"
#include "log.hpp"
#include "metrics_http.hpp"
#include "policy.hpp"
#include "ports/nic/xdp_program.hpp"
#include "registry.hpp"
#include "state_segment.hpp"

#include <netring/netring.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <systemd/sd-daemon.h>

#include <sys/resource.h>
#include <unistd.h>

#include <csignal>
#include <functional>
#include <map>
#include <optional>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace {

void usage(FILE *to)
{
    std::fprintf(to,
                 "usage: netringd [--socket PATH] [--config FILE] [--verbose]\n"
                 "  --socket PATH   control socket (default %s)\n"
                 "  --config FILE   configuration file (default: built-in limits, root-only policy)\n"
                 "  --verbose       log every connection, registration and close\n",
                 netring::default_socket_path);
}

struct options {
    std::string socket_path = netring::default_socket_path;
    std::string config_path;
    bool verbose = false;
};

bool parse_args(int argc, char **argv, options &o)
{
    for (int i = 1; i < argc; i++) {
        const std::string a = argv[i];
        auto value = [&](std::string &out) {
            if (i + 1 >= argc || argv[i + 1][0] == '\0') {
                std::fprintf(stderr, "netringd: %s needs a value\n", a.c_str());
                return false;
            }
            out = argv[++i];
            return true;
        };
        if (a == "--socket") {
            if (!value(o.socket_path))
                return false;
        } else if (a == "--config") {
            if (!value(o.config_path))
                return false;
        } else if (a == "--verbose" || a == "-v") {
            o.verbose = true;
        } else if (a == "--help" || a == "-h") {
            usage(stdout);
            std::exit(0);
        } else {
            std::fprintf(stderr, "netringd: unknown argument '%s'\n", a.c_str());
            return false;
        }
    }
    return true;
}

// Raises the soft fd limit to the hard one and returns it: every connection, region, eventfd and
// socket is a descriptor, and running out of them must not be how a flood of connections ends.
rlim_t raise_fd_limit()
{
    rlimit rl{};
    if (::getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return 1024;
    if (rl.rlim_cur < rl.rlim_max) {
        rlimit want = rl;
        want.rlim_cur = rl.rlim_max;
        if (::setrlimit(RLIMIT_NOFILE, &want) == 0)
            rl = want;
    }
    return rl.rlim_cur;
}

// SIGHUP: the configuration file again, applied where a running daemon can apply it.
void reload(const std::string &path, netring::netringd::config &cfg, netring::netringd::policy &pol,
            netring::netringd::logger &log)
{
    using namespace netring::netringd;
    if (path.empty()) {
        log.notice("SIGHUP: no configuration file (--config) to read again");
        return;
    }
    config fresh;
    try {
        fresh = load_config(path);
    } catch (const config_error &e) {
        log.error(std::string("SIGHUP: configuration refused, the running one stays: ") + e.what());
        return;
    }
    const reload_outcome r = apply_reload(cfg, fresh);
    pol = policy(cfg, ::getuid());
    log.notice("SIGHUP: configuration " + path + " read again: " + std::to_string(cfg.rules.size()) + " rule" +
             (cfg.rules.size() == 1 ? "" : "s") + ", " + std::to_string(cfg.admins.size()) + " admin subject" +
             (cfg.admins.size() == 1 ? "" : "s") + ", " + std::to_string(cfg.quotas.size()) + " quota rule" +
             (cfg.quotas.size() == 1 ? "" : "s"));
    for (const std::string &name : r.kept)
        log.warning("SIGHUP: " + name + " changed in " + path + "; it takes effect at the next start");
}

uint64_t monotonic_s()
{
    return static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now().time_since_epoch()).count());
}

// The state a predecessor kept (fds named "state" and "fd.N"), adopted into the empty registry;
// nothing kept is a cold start, and so is anything that fails a check (the log says why). Returns
// the segment to save into from now on. `xdp_kept` gets the interfaces whose XDP program came with
// the state.
std::optional<netring::netringd::state_segment>
adopt_kept_state(std::map<std::string, netring::unique_fd> &kept, netring::netringd::registry &reg,
                 netring::netringd::logger &log, std::vector<std::string> &xdp_kept)
{
    using namespace netring::netringd;
    auto st = kept.find("state");
    if (st == kept.end()) {
        if (!kept.empty())
            log.warning("restart: " + std::to_string(kept.size()) + " fds passed without a state: cold start");
        return std::nullopt;
    }
    auto seg = state_segment::adopt(std::move(st->second));
    kept.erase(st);
    auto k = seg ? seg->load() : netring::result<kept_state>(seg.err());
    if (!k) {
        log.warning("restart: the kept state is refused (" + k.err().message + "): cold start");
        return std::nullopt;
    }
    auto take_fd = [&](uint32_t id) {
        auto it = kept.find("fd." + std::to_string(id));
        if (it == kept.end())
            return netring::unique_fd();
        netring::unique_fd fd = std::move(it->second);
        kept.erase(it);
        return fd;
    };
    if (auto a = reg.adopt_state(*k, take_fd, monotonic_s()); !a) {
        log.warning("restart: the kept state is refused (" + a.err().message + "): cold start");
        return std::nullopt;
    }
    for (const kept_nic &n : k->nics)
        if (!n.afpacket)
            xdp_kept.push_back(n.ifname);
    log.notice("restart: adopted " + std::to_string(k->regions.size()) + " region(s), " +
               std::to_string(k->pipes.size()) + " pipe(s), " + std::to_string(k->nics.size()) +
               " NIC(s) and " + std::to_string(k->registrations.size()) +
               " registration(s); each waits for its client to re-attach");
    return std::move(seg.value());
}

} // namespace

int main(int argc, char **argv)
{
    using namespace netring::netringd;
    options opt;
    if (!parse_args(argc, argv, opt)) {
        usage(stderr);
        return 2;
    }
    // A client that disconnects while we write to it must cost an EPIPE, not the daemon.
    std::signal(SIGPIPE, SIG_IGN);
    // Before anything opens a descriptor: what a predecessor passed on, by name.
    std::map<std::string, netring::unique_fd> kept = take_inherited_fds();
    const std::string exe = own_executable();

    logger log;
    log.verbose = opt.verbose;
    log.journal = stderr_is_journal();

    config cfg;
    try {
        if (!opt.config_path.empty())
            cfg = load_config(opt.config_path);
    } catch (const config_error &e) {
        log.error(e.what());
        return 2;
    }

    policy pol(cfg, ::getuid()); // replaced on SIGHUP; the registry holds a reference to it
    registry reg(cfg, pol, [&log](const std::string &line) { log.info(line); });
    // Half the descriptors for connections, half for regions, rings' eventfds, sockets and TAPs.
    const rlim_t fds = raise_fd_limit();
    if (fds / 2 < cfg.max_connections) {
        reg.quotas().limit_connections(static_cast<uint32_t>(fds / 2));
        log.warning("fd limit " + std::to_string(fds) + ": at most " + std::to_string(reg.quotas().max_connections()) +
                    " connections (max_connections " + std::to_string(cfg.max_connections) + ")");
    }
    std::vector<std::string> xdp_kept;
    std::optional<state_segment> segment = adopt_kept_state(kept, reg, log, xdp_kept);
    // After the adoption: the programs a predecessor kept for us are not stale.
    for (const std::string &line : clear_stale_xdp_everywhere(xdp_kept))
        log.warning(line);
    if (!segment) {
        auto made = state_segment::create();
        if (!made) {
            log.error("cannot create the state segment: " + made.err().message);
            return 1;
        }
        segment.emplace(std::move(made.value()));
    }
    boost::asio::io_context io;
    control_server server(io, reg, log);
    server.set_idle_timeout_s(cfg.idle_timeout_s);
    netring::status listening = netring::ok_status();
    if (auto l = kept.find("listen"); l != kept.end()) {
        listening = server.adopt_listener(std::move(l->second), opt.socket_path);
        kept.erase(l);
        if (!listening)
            log.warning("restart: " + listening.err().message + "; listening anew");
    }
    if (!listening || server.listener_fd() < 0)
        listening = server.listen(opt.socket_path, socket_access{cfg.socket_gid, cfg.socket_mode});
    if (!listening) {
        log.error(listening.err().message);
        return 1;
    }
    if (!kept.empty())
        log.warning("restart: " + std::to_string(kept.size()) + " passed fd(s) belong to nothing kept: closed");
    kept.clear();

    // Adopted registrations whose client does not come back are released after reattach_timeout_s.
    boost::asio::steady_timer expiry(io);
    std::function<void()> on_expiry = [&] {
        if (reg.waiting() == 0)
            return;
        expiry.expires_after(std::chrono::seconds(1));
        expiry.async_wait([&](const boost::system::error_code &ec) {
            if (ec)
                return;
            reg.expire_waiting(monotonic_s(), cfg.reattach_timeout_s);
            on_expiry();
        });
    };
    on_expiry();

    // RESTART: release what the successor cannot adopt, save the rest, and become the successor.
    server.on_restart = [&] {
        server.pause_accepting();
        const size_t released = reg.release_unkept();
        std::vector<std::pair<uint32_t, int>> ids;
        const kept_state k = reg.export_state(ids);
        if (auto s = segment->save(k); !s) {
            log.error("restart refused: cannot save the state (" + s.err().message + ")");
            reg.resume_kept();
            server.resume_accepting();
            return;
        }
        std::vector<std::pair<std::string, int>> pass{{"listen", server.listener_fd()}, {"state", segment->fd()}};
        for (const auto &[id, fd] : ids)
            pass.emplace_back("fd." + std::to_string(id), fd);
        log.notice("restart: handing " + std::to_string(k.registrations.size()) + " registration(s) and " +
                   std::to_string(pass.size()) + " fds to a new " + exe +
                   (released ? " (" + std::to_string(released) + " registration(s) it cannot adopt released)" : ""));
        const exec_failure f = exec_successor(exe, argv, pass);
        log.error("restart failed: " + f.err.message);
        if (f.fds_moved)
            std::_Exit(1);
        reg.resume_kept();
        server.resume_accepting();
    };

    // SIGHUP rereads the file. New rules apply to the next request; registrations made under the
    // old ones stay. A file that does not parse changes nothing (the error names its line).
    boost::asio::signal_set hangup(io, SIGHUP);
    std::function<void()> on_hangup = [&] {
        hangup.async_wait([&](const boost::system::error_code &ec, int) {
            if (ec)
                return;
            reload(opt.config_path, cfg, pol, log);
            server.set_idle_timeout_s(cfg.idle_timeout_s);
            on_hangup();
        });
    };
    on_hangup();
    metrics_http metrics(io, reg, server, log);
    if (!cfg.metrics_address.empty()) {
        if (auto s = metrics.listen(cfg.metrics_address, cfg.metrics_port); !s) {
            log.error(s.err().message);
            return 1;
        }
    }

    boost::asio::signal_set signals(io, SIGTERM, SIGINT);
    signals.async_wait([&](const boost::system::error_code &ec, int sig) {
        if (ec)
            return;
        log.info(std::string("stopping on ") + (sig == SIGTERM ? "SIGTERM" : "SIGINT"));
        ::sd_notify(0, "STOPPING=1");
        hangup.cancel(); // nothing may keep io.run() going
        metrics.stop();
        server.stop();
    });
    if (cfg.rules.empty())
        log.info(::getuid() == 0 ? std::string("no policy rules: only uid 0 may register ports")
                                 : "no policy rules: only uid 0 and uid " + std::to_string(::getuid()) +
                                       " may register ports");
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(cfg.socket_mode));
    log.notice("listening on " + opt.socket_path + " (mode " + mode +
               (cfg.socket_group.empty() ? std::string() : ", group " + cfg.socket_group) + ")");
    // Outside systemd (no NOTIFY_SOCKET) this does nothing.
    ::sd_notify(0, "READY=1");
    io.run();
    server.stop();
    return 0;
}
