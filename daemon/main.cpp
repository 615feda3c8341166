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
#include "state_keeper.hpp"

#include <netring/netring.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <systemd/sd-daemon.h>

#include <sys/resource.h>
#include <unistd.h>

#include <csignal>
#include <functional>
#include <map>
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
    auto keeper = state_keeper::start(reg, kept, log, monotonic_s());
    if (!keeper) {
        log.error(keeper.err().message);
        return 1;
    }
    // After the adoption: the programs a predecessor kept for us are not stale.
    for (const std::string &line : clear_stale_xdp_everywhere((*keeper)->xdp_kept()))
        log.warning(line);
    boost::asio::io_context io;
    // Registered before the socket exists: a signal that comes while the daemon still starts up
    // is queued for the handlers below instead of killing it (leaving its socket file behind).
    boost::asio::signal_set signals(io, SIGTERM, SIGINT);
    boost::asio::signal_set hangup(io, SIGHUP);
    control_server server(io, reg, log);
    server.set_idle_timeout_s(cfg.idle_timeout_s);
    netring::status listening = netring::ok_status();
    bool listener_inherited = false;
    if (auto l = kept.find("listen"); l != kept.end()) {
        listening = server.adopt_listener(std::move(l->second), opt.socket_path);
        kept.erase(l);
        listener_inherited = listening.ok();
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
    // From here on every change of the registry is saved for a successor, once per burst.
    (*keeper)->publish(server.listener_fd(), listener_inherited);
    bool save_posted = false;
    struct unhook {
        registry &r;
        ~unhook() { r.set_change_hook({}); } // before io goes: the registry outlives it
    } unhook_on_exit{reg};
    reg.set_change_hook([&] {
        if (save_posted)
            return;
        save_posted = true;
        boost::asio::post(io, [&] {
            save_posted = false;
            (void)(*keeper)->save();
        });
    });

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
        if (auto s = (*keeper)->save(); !s) {
            log.error("restart refused: cannot save the state (" + s.err().message + ")");
            reg.resume_kept();
            (void)(*keeper)->save(); // switches and NICs run again: saves leave them out
            server.resume_accepting();
            return;
        }
        const auto pass = (*keeper)->handoff(server.listener_fd());
        log.notice("restart: handing " + std::to_string(reg.registrations()) + " registration(s) and " +
                   std::to_string(pass.size()) + " fds to a new " + exe +
                   (released ? " (" + std::to_string(released) + " registration(s) it cannot adopt released)" : ""));
        const exec_failure f = exec_successor(exe, argv, pass);
        log.error("restart failed: " + f.err.message);
        if (f.fds_moved)
            std::_Exit(1);
        reg.resume_kept();
        (void)(*keeper)->save(); // switches and NICs run again: saves leave them out
        server.resume_accepting();
    };

    // SIGHUP rereads the file. New rules apply to the next request; registrations made under the
    // old ones stay. A file that does not parse changes nothing (the error names its line).
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
    (*keeper)->clean_stop();
    return 0;
}
