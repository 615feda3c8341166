// netring-ctl: what netringd is doing (docs/TOOLS.md).
//   netring-ctl [--socket PATH] status [--json]
//   netring-ctl [--socket PATH] info PORT [--json]
//   netring-ctl [--socket PATH] promisc PORT on|off          (admin)
//   netring-ctl [--socket PATH] wait-link PORT [--timeout S]
//   netring-ctl [--socket PATH] top [-d SECONDS] [--once]
//   netring-ctl [--socket PATH] restart [--timeout S]            (admin)
// Exit status: 0 ok; 1 the daemon answered with an error or could not be reached; 2 usage.
#include "ctl_format.hpp"
#include "top.hpp"

#include "tools/common/args.hpp"

#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

namespace {

const char *const usage =
    "usage: netring-ctl [--socket PATH] status [--json]\n"
    "       netring-ctl [--socket PATH] info PORT [--json]\n"
    "       netring-ctl [--socket PATH] promisc PORT on|off\n"
    "       netring-ctl [--socket PATH] wait-link PORT [--timeout SECONDS]\n"
    "       netring-ctl [--socket PATH] top [-d SECONDS] [--once]\n"
    "       netring-ctl [--socket PATH] restart [--timeout SECONDS]\n";

int usage_error(const std::string &why) { return netring::tools::usage_error("netring-ctl", why, usage); }

constexpr netring::tools::option_spec specs[] = {
    {"--socket", "a path"},
    {"--json", ""},
    {"--timeout", "a number of seconds"},
    {"-d", "a number of seconds"},
    {"--once", ""},
};

} // namespace

int main(int argc, char **argv)
{
    std::string socket_path;
    bool json = false;
    double timeout_s = 10;
    double interval_s = 1;
    bool once = false;
    std::vector<std::string> words; // the command and its arguments, options removed
    const std::vector<std::string> args(argv + 1, argv + argc);
    netring::tools::arg_scanner a(args, specs, netring::tools::operands::allowed);
    while (a.next()) {
        if (a.at_operand())
            words.push_back(a.value());
        else if (a.is("--json"))
            json = true;
        else if (a.is("--timeout"))
            a.take_seconds(timeout_s, true);
        else if (a.is("-d"))
            a.take_seconds(interval_s, false);
        else if (a.is("--once"))
            once = true;
        else if (a.is("--socket"))
            a.take_text(socket_path);
    }
    if (a.help())
        return netring::tools::show_usage(usage);
    if (!a.error().empty())
        return usage_error(a.error());
    if (words.empty())
        return usage_error("a command is required");

    if (words[0] == "status") {
        if (words.size() != 1)
            return usage_error("status takes no arguments");
        auto stats = netring::query_stats(socket_path);
        if (!stats) {
            std::fprintf(stderr, "netring-ctl: %s\n", stats.err().describe().c_str());
            return 1;
        }
        const std::string out = json ? netring::ctl::stats_json(stats.value()) + "\n"
                                     : netring::ctl::stats_text(stats.value());
        std::fputs(out.c_str(), stdout);
        return 0;
    }
    if (words[0] == "top") {
        if (words.size() != 1)
            return usage_error("top takes no arguments");
        return netring::ctl::run_top(socket_path, interval_s, once);
    }
    if (words[0] == "info") {
        if (words.size() != 2)
            return usage_error("info takes one port name");
        auto info = netring::query_port_info(words[1], socket_path);
        if (!info) {
            std::fprintf(stderr, "netring-ctl: %s\n", info.err().describe().c_str());
            return 1;
        }
        // The monitors watching the port come from STATS (PORT_INFO does not carry them); a
        // daemon that refuses STATS just leaves them out.
        auto stats = netring::query_stats(socket_path);
        const netring::daemon_stats *st = stats ? &stats.value() : nullptr;
        const std::string out = json ? netring::ctl::port_info_json(words[1], info.value(), st) + "\n"
                                     : netring::ctl::port_info_text(words[1], info.value(), st);
        std::fputs(out.c_str(), stdout);
        return 0;
    }
    if (words[0] == "promisc") {
        if (words.size() != 3 || (words[2] != "on" && words[2] != "off"))
            return usage_error("promisc takes a port name and on or off");
        if (auto s = netring::set_promiscuous(words[1], words[2] == "on", socket_path); !s) {
            std::fprintf(stderr, "netring-ctl: %s\n", s.err().describe().c_str());
            return 1;
        }
        return 0;
    }
    if (words[0] == "restart") {
        // Back means: the old process let go (restart_daemon), then a STATS was answered.
        if (words.size() != 1)
            return usage_error("restart takes no arguments");
        if (auto s = netring::restart_daemon(socket_path, static_cast<int>(timeout_s * 1000)); !s) {
            std::fprintf(stderr, "netring-ctl: %s\n", s.err().describe().c_str());
            return 1;
        }
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
        for (;;) {
            auto after = netring::query_stats(socket_path);
            if (after) {
                std::printf("netringd restarted: %zu registration(s)\n", after->registrations.size());
                return 0;
            }
            if (std::chrono::steady_clock::now() >= deadline) {
                std::fprintf(stderr, "netring-ctl: netringd did not come back within %.1f s: %s\n", timeout_s,
                             after.err().describe().c_str());
                return 1;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
    }
    if (words[0] == "wait-link") {
        // Polls PORT_INFO: the daemon reads the link state on every request, so no daemon-side wait.
        if (words.size() != 2)
            return usage_error("wait-link takes one port name");
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
        for (;;) {
            auto info = netring::query_port_info(words[1], socket_path);
            if (!info) {
                std::fprintf(stderr, "netring-ctl: %s\n", info.err().describe().c_str());
                return 1;
            }
            if (!info->nic.present) {
                std::fprintf(stderr, "netring-ctl: %s is not a NIC port\n", words[1].c_str());
                return 1;
            }
            if (info->nic.link_up) {
                std::printf("%s: link up\n", words[1].c_str());
                return 0;
            }
            if (std::chrono::steady_clock::now() >= deadline) {
                std::fprintf(stderr, "netring-ctl: %s: link still down after %.1f s\n", words[1].c_str(), timeout_s);
                return 1;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
    }
    return usage_error("unknown command '" + words[0] + "'");
}
