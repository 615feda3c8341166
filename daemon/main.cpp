// netringd: the netring daemon. Runs in the foreground and logs to stderr.
//
//   netringd [--socket PATH] [--config FILE] [--verbose]
//
// Exit codes: 0 after SIGTERM/SIGINT, 1 when the socket cannot be set up, 2 for bad arguments or
// a bad config file.
#include "config.hpp"
#include "control_server.hpp"
#include "log.hpp"
#include "metrics_http.hpp"
#include "policy.hpp"
#include "ports/nic/xdp_program.hpp"
#include "registry.hpp"

#include <netring/netring.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <sys/resource.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>

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

    config cfg;
    try {
        if (!opt.config_path.empty())
            cfg = load_config(opt.config_path);
    } catch (const config_error &e) {
        std::fprintf(stderr, "netringd: %s\n", e.what());
        return 2;
    }

    logger log;
    log.verbose = opt.verbose;
    const policy pol(cfg, ::getuid());
    for (const std::string &line : clear_stale_xdp_everywhere())
        log.error(line);
    registry reg(cfg, pol, [&log](const std::string &line) { log.info(line); });
    // Half the descriptors for connections, half for regions, rings' eventfds, sockets and TAPs.
    const rlim_t fds = raise_fd_limit();
    if (fds / 2 < cfg.max_connections) {
        reg.quotas().limit_connections(static_cast<uint32_t>(fds / 2));
        log.error("fd limit " + std::to_string(fds) + ": at most " + std::to_string(reg.quotas().max_connections()) +
                  " connections (max_connections " + std::to_string(cfg.max_connections) + ")");
    }
    boost::asio::io_context io;
    control_server server(io, reg, log);
    server.set_idle_timeout_s(cfg.idle_timeout_s);
    if (auto s = server.listen(opt.socket_path); !s) {
        std::fprintf(stderr, "netringd: %s\n", s.err().message.c_str());
        return 1;
    }

    metrics_http metrics(io, reg, server, log);
    if (!cfg.metrics_address.empty()) {
        if (auto s = metrics.listen(cfg.metrics_address, cfg.metrics_port); !s) {
            std::fprintf(stderr, "netringd: %s\n", s.err().message.c_str());
            return 1;
        }
    }

    boost::asio::signal_set signals(io, SIGTERM, SIGINT);
    signals.async_wait([&](const boost::system::error_code &ec, int sig) {
        if (ec)
            return;
        log.info(std::string("stopping on ") + (sig == SIGTERM ? "SIGTERM" : "SIGINT"));
        metrics.stop();
        server.stop();
    });
    if (cfg.rules.empty())
        log.info(::getuid() == 0 ? std::string("no policy rules: only uid 0 may register ports")
                                 : "no policy rules: only uid 0 and uid " + std::to_string(::getuid()) +
                                       " may register ports");
    std::fprintf(stderr, "netringd: listening on %s\n", opt.socket_path.c_str());
    std::fflush(stderr);
    io.run();
    server.stop();
    return 0;
}
